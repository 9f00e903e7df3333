import { z } from 'zod';
import { defineTool } from '../tool.ts';
import { database } from '../args.ts';
import { formatValue } from '../format.ts';
import { allowanceFrom, collectionVisible } from '../../guard/namespace-policy.ts';

export default defineTool({
  name: 'list-collections',
  operationType: 'metadata',
  description: 'List the collections of a database (system.* collections are not served).',
  input: z.object({ database }),
  async execute({ database }, { client, config, visible }) {
    const list = await client.db(database).listCollections({}, { nameOnly: true, authorizedCollections: true, maxTimeMS: config.maxTimeMS }).toArray();
    // The database itself was checked before the call; its system.* collections are hidden here.
    const allowance = allowanceFrom(config.allowReservedNamespaces);
    // ...and so is every collection the policy would not let this caller use (server/src/policy/*).
    const names = list
      .map((c) => c.name)
      .filter((name) => collectionVisible(database, name, allowance) && (visible?.(database, name) ?? true))
      .sort();
    return formatValue(`Found ${names.length} collections in ${database}.`, names, config, names.length);
  },
});
