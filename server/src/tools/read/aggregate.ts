import { z } from 'zod';
import type { Document } from 'mongodb';
import { defineTool } from '../tool.ts';
import { fromEjson, jsonObject, namespaceArgs } from '../args.ts';
import { collectDocuments } from '../format.ts';
import { enforceIndexCheck } from '../index-check.ts';

export default defineTool({
  name: 'aggregate',
  operationType: 'read',
  description: 'Run an aggregation pipeline. $out/$merge are refused on a read-only server (at any depth).',
  input: z.object({ ...namespaceArgs, pipeline: z.array(jsonObject).describe('Aggregation pipeline (Extended JSON)') }),
  async execute(args, ctx) {
    const coll = ctx.client.db(args.database).collection(args.collection);
    const pipeline = fromEjson<Document[]>(args.pipeline, 'pipeline');
    await enforceIndexCheck(coll, { kind: 'pipeline', pipeline }, ctx);
    const cursor = coll.aggregate(pipeline, { maxTimeMS: ctx.config.maxTimeMS });
    return collectDocuments(cursor, ctx.config);
  },
});
