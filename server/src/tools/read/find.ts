import { z } from 'zod';
import type { Document } from 'mongodb';
import { defineTool } from '../tool.ts';
import { fromEjson, jsonObject, namespaceArgs } from '../args.ts';
import { collectDocuments } from '../format.ts';
import { enforceIndexCheck } from '../index-check.ts';

export default defineTool({
  name: 'find',
  operationType: 'read',
  description: 'Run a find query. Results are relaxed Extended JSON, capped by maxDocumentsPerQuery and maxBytesPerQuery.',
  input: z.object({
    ...namespaceArgs,
    filter: jsonObject.default({}).describe('Query filter (Extended JSON)'),
    projection: jsonObject.optional().describe('Projection'),
    sort: jsonObject.optional().describe('Sort specification'),
    limit: z.number().int().min(1).default(10).describe('Maximum documents (never above maxDocumentsPerQuery)'),
  }),
  async execute(args, ctx) {
    const coll = ctx.client.db(args.database).collection(args.collection);
    const filter = fromEjson<Document>(args.filter, 'filter');
    await enforceIndexCheck(coll, { kind: 'filter', filter }, ctx);
    const cap = ctx.config.maxDocumentsPerQuery;
    // Above the cap, one document more than the cap, so a cut result can be told apart from an exact fit.
    let cursor = coll.find(filter, { maxTimeMS: ctx.config.maxTimeMS }).limit(args.limit <= cap ? args.limit : cap + 1);
    if (args.projection) cursor = cursor.project(fromEjson(args.projection, 'projection'));
    if (args.sort) cursor = cursor.sort(fromEjson(args.sort, 'sort'));
    return collectDocuments(cursor, ctx.config, args.limit);
  },
});
