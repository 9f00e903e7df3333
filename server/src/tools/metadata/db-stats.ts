import { z } from 'zod';
import { defineTool } from '../tool.ts';
import { database } from '../args.ts';
import { formatValue } from '../format.ts';

const FIELDS = ['db', 'collections', 'views', 'objects', 'avgObjSize', 'dataSize', 'storageSize', 'indexes', 'indexSize'] as const;

export default defineTool({
  name: 'db-stats',
  operationType: 'metadata',
  description: 'Report statistics of a database (collections, objects, sizes).',
  input: z.object({ database }),
  async execute({ database }, { client, config }) {
    const s = await client.db(database).command({ dbStats: 1, maxTimeMS: config.maxTimeMS });
    const out = Object.fromEntries(FIELDS.filter((f) => f in s).map((f) => [f, s[f]]));
    return formatValue(`Statistics of ${database}.`, out, config);
  },
});
