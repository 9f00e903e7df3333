import { z } from 'zod';
import type { Document } from 'mongodb';
import { defineTool } from '../tool.ts';
import { fromEjson, jsonObject, namespaceArgs } from '../args.ts';
import { formatValue } from '../format.ts';
import { enforceIndexCheck } from '../index-check.ts';

export default defineTool({
  name: 'delete-many',
  operationType: 'delete',
  description: 'Delete every document matching a filter.',
  input: z.object({ ...namespaceArgs, filter: jsonObject.describe('Query filter (Extended JSON); {} deletes everything') }),
  async execute(args, ctx) {
    const coll = ctx.client.db(args.database).collection(args.collection);
    const filter = fromEjson<Document>(args.filter, 'filter');
    await enforceIndexCheck(coll, { kind: 'filter', filter }, ctx);
    const res = await coll.deleteMany(filter, { maxTimeMS: ctx.config.maxTimeMS });
    return formatValue(`Deleted ${res.deletedCount} documents.`, { deleted: res.deletedCount }, ctx.config, res.deletedCount);
  },
});
