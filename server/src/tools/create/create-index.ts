import { z } from 'zod';
import type { IndexSpecification } from 'mongodb';
import { defineTool } from '../tool.ts';
import { namespaceArgs } from '../args.ts';
import { formatValue } from '../format.ts';

export default defineTool({
  name: 'create-index',
  operationType: 'create',
  description: 'Create an index on a collection.',
  input: z.object({
    ...namespaceArgs,
    keys: z.record(z.string(), z.union([z.literal(1), z.literal(-1), z.enum(['text', '2dsphere', 'hashed'])])).describe('Index keys'),
    name: z.string().min(1).max(128).optional().describe('Index name'),
  }),
  async execute(args, { client, config }) {
    const name = await client
      .db(args.database)
      .collection(args.collection)
      .createIndex(args.keys as IndexSpecification, { ...(args.name ? { name: args.name } : {}), maxTimeMS: config.maxTimeMS });
    return formatValue(`Created index ${name}.`, { name }, config);
  },
});
