import { z } from 'zod';
import { defineTool } from '../tool.ts';
import { formatValue } from '../format.ts';

export default defineTool({
  name: 'list-databases',
  operationType: 'metadata',
  description: 'List the databases the connected user may see, with their sizes.',
  input: z.object({}),
  async execute(_args, { client, config }) {
    const res = await client.db('admin').admin().listDatabases({ authorizedDatabases: true, maxTimeMS: config.maxTimeMS });
    const dbs = res.databases.map((d) => ({ name: d.name, sizeOnDisk: d.sizeOnDisk ?? null }));
    return formatValue(`Found ${dbs.length} databases.`, dbs, config, dbs.length);
  },
});
