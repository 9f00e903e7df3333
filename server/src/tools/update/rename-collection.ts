import { z } from 'zod';
import { defineTool } from '../tool.ts';
import { collection, namespaceArgs } from '../args.ts';
import { formatValue } from '../format.ts';

export default defineTool({
  name: 'rename-collection',
  operationType: 'update',
  description: 'Rename a collection within its database.',
  input: z.object({ ...namespaceArgs, newName: collection.describe('New collection name'), dropTarget: z.boolean().default(false) }),
  async execute(args, { client, config }) {
    await client.db(args.database).renameCollection(args.collection, args.newName, { dropTarget: args.dropTarget, maxTimeMS: config.maxTimeMS });
    return formatValue(`Renamed ${args.database}.${args.collection} to ${args.newName}.`, { ok: 1 }, config);
  },
});
