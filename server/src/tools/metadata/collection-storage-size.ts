import { z } from 'zod';
import { defineTool } from '../tool.ts';
import { namespaceArgs } from '../args.ts';
import { formatValue } from '../format.ts';

export default defineTool({
  name: 'collection-storage-size',
  operationType: 'metadata',
  description: 'Report the storage size of a collection (data, storage and index bytes).',
  input: z.object(namespaceArgs),
  async execute({ database, collection }, { client, config }) {
    const s = await client.db(database).command({ collStats: collection, maxTimeMS: config.maxTimeMS });
    const out = { size: s.size ?? null, storageSize: s.storageSize ?? null, totalIndexSize: s.totalIndexSize ?? null, count: s.count ?? null };
    return formatValue(`Storage of ${database}.${collection} (bytes).`, out, config);
  },
});
