import { z } from 'zod';
import { defineTool } from '../tool.ts';
import { namespaceArgs } from '../args.ts';
import { formatValue } from '../format.ts';

export default defineTool({
  name: 'create-collection',
  operationType: 'create',
  description: 'Create a collection.',
  input: z.object(namespaceArgs),
  async execute(args, { client, config }) {
    await client.db(args.database).createCollection(args.collection, { maxTimeMS: config.maxTimeMS });
    return formatValue(`Created ${args.database}.${args.collection}.`, { ok: 1 }, config);
  },
});
