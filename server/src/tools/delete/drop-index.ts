import { z } from 'zod';
import { defineTool } from '../tool.ts';
import { namespaceArgs } from '../args.ts';
import { formatValue } from '../format.ts';

export default defineTool({
  name: 'drop-index',
  operationType: 'delete',
  description: 'Drop an index by name.',
  input: z.object({ ...namespaceArgs, indexName: z.string().min(1).describe('Index name') }),
  async execute(args, { client, config }) {
    await client.db(args.database).collection(args.collection).dropIndex(args.indexName, { maxTimeMS: config.maxTimeMS });
    return formatValue(`Dropped index ${args.indexName}.`, { ok: 1 }, config);
  },
});
