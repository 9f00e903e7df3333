import { z } from 'zod';
import { defineTool } from '../tool.ts';
import { fromEjson, jsonObject, namespaceArgs } from '../args.ts';
import { formatValue } from '../format.ts';
import { enforceIndexCheck } from '../index-check.ts';

export default defineTool({
  name: 'count',
  operationType: 'read',
  description: 'Count the documents matching a query.',
  input: z.object({ ...namespaceArgs, query: jsonObject.default({}).describe('Query filter (Extended JSON)') }),
  async execute(args, ctx) {
    const coll = ctx.client.db(args.database).collection(args.collection);
    const query = fromEjson(args.query, 'query');
    await enforceIndexCheck(coll, { kind: 'filter', filter: query }, ctx);
    const n = await coll.countDocuments(query, { maxTimeMS: ctx.config.maxTimeMS });
    return formatValue(`Found ${n} documents in ${args.database}.${args.collection}.`, { count: n }, ctx.config);
  },
});
