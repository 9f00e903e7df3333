import { z } from 'zod';
import { defineTool } from '../tool.ts';
import { namespaceArgs } from '../args.ts';
import { formatValue } from '../format.ts';

export default defineTool({
  name: 'collection-indexes',
  operationType: 'metadata',
  description: 'Describe the indexes of a collection.',
  input: z.object(namespaceArgs),
  async execute({ database, collection }, { client, config }) {
    const indexes = await client.db(database).collection(collection).listIndexes({ maxTimeMS: config.maxTimeMS }).toArray();
    const out = indexes.map((i) => ({ name: i.name, key: i.key, unique: i.unique === true }));
    return formatValue(`Found ${out.length} indexes on ${database}.${collection}.`, out, config, out.length);
  },
});
