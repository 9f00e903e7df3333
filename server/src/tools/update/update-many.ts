import { z } from 'zod';
import type { Document } from 'mongodb';
import { defineTool } from '../tool.ts';
import { fromEjson, jsonObject, namespaceArgs } from '../args.ts';
import { formatValue } from '../format.ts';
import { enforceIndexCheck } from '../index-check.ts';

export default defineTool({
  name: 'update-many',
  operationType: 'update',
  description: 'Update every document matching a filter.',
  input: z.object({
    ...namespaceArgs,
    filter: jsonObject.default({}).describe('Query filter (Extended JSON)'),
    update: z.union([jsonObject, z.array(jsonObject)]).describe('Update document or pipeline'),
    upsert: z.boolean().default(false),
  }),
  async execute(args, ctx) {
    const coll = ctx.client.db(args.database).collection(args.collection);
    const filter = fromEjson<Document>(args.filter, 'filter');
    await enforceIndexCheck(coll, { kind: 'filter', filter }, ctx);
    const res = await coll.updateMany(filter, fromEjson(args.update, 'update'), { upsert: args.upsert, maxTimeMS: ctx.config.maxTimeMS });
    const out = { matched: res.matchedCount, modified: res.modifiedCount, upserted: res.upsertedCount };
    return formatValue(`Updated ${res.modifiedCount} documents.`, out, ctx.config, res.modifiedCount + res.upsertedCount);
  },
});
