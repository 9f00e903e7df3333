import { z } from 'zod';
import { defineTool } from '../tool.ts';
import { formatValue } from '../format.ts';
import { allowanceFrom, databaseVisible } from '../../guard/namespace-policy.ts';

export default defineTool({
  name: 'list-databases',
  operationType: 'metadata',
  description: 'List the databases the connected user may see, with their sizes (admin, local and config are not served).',
  input: z.object({}),
  async execute(_args, { client, config, visible }) {
    const res = await client.db('admin').admin().listDatabases({ authorizedDatabases: true, maxTimeMS: config.maxTimeMS });
    // Only what a tool could name: reserved databases stay out of sight unless allowReservedNamespaces lists them.
    const allowance = allowanceFrom(config.allowReservedNamespaces);
    const dbs = res.databases
      .filter((d) => databaseVisible(d.name, allowance) && (visible?.(d.name) ?? true))
      .map((d) => ({ name: d.name, sizeOnDisk: d.sizeOnDisk ?? null }));
    return formatValue(`Found ${dbs.length} databases.`, dbs, config, dbs.length);
  },
});
