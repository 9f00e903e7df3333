import { z } from 'zod';
import { defineTool } from '../tool.ts';
import { database } from '../args.ts';
import { formatValue } from '../format.ts';

export default defineTool({
  name: 'drop-database',
  operationType: 'delete',
  description: 'Drop a database.',
  input: z.object({ database }),
  async execute(args, { client, config }) {
    const dropped = await client.db(args.database).dropDatabase({ maxTimeMS: config.maxTimeMS });
    return formatValue(`Dropped database ${args.database}.`, { dropped }, config);
  },
});
