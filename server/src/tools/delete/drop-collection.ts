import { z } from 'zod';
import { defineTool } from '../tool.ts';
import { namespaceArgs } from '../args.ts';
import { formatValue } from '../format.ts';

export default defineTool({
  name: 'drop-collection',
  operationType: 'delete',
  description: 'Drop a collection and its indexes.',
  input: z.object(namespaceArgs),
  async execute(args, { client, config }) {
    const dropped = await client.db(args.database).dropCollection(args.collection, { maxTimeMS: config.maxTimeMS });
    return formatValue(`Dropped ${args.database}.${args.collection}.`, { dropped }, config);
  },
});
