import { z } from 'zod';
import { defineTool } from '../tool.ts';
import { database } from '../args.ts';
import { formatValue } from '../format.ts';

export default defineTool({
  name: 'list-collections',
  operationType: 'metadata',
  description: 'List the collections of a database.',
  input: z.object({ database }),
  async execute({ database }, { client, config }) {
    const list = await client
      .db(database)
      .listCollections({}, { nameOnly: true, authorizedCollections: true, maxTimeMS: config.maxTimeMS })
      .toArray();
    const names = list.map((c) => c.name).sort();
    return formatValue(`Found ${names.length} collections in ${database}.`, names, config, names.length);
  },
});
