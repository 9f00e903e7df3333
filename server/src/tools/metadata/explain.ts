import { z } from 'zod';
import type { Document } from 'mongodb';
import { defineTool } from '../tool.ts';
import { fromEjson, jsonObject, namespaceArgs } from '../args.ts';
import { formatValue } from '../format.ts';

const method = z.discriminatedUnion('name', [
  z.object({
    name: z.literal('find'),
    arguments: z.object({
      filter: jsonObject.default({}),
      projection: jsonObject.optional(),
      sort: jsonObject.optional(),
      limit: z.number().int().min(0).optional(),
    }),
  }),
  z.object({ name: z.literal('aggregate'), arguments: z.object({ pipeline: z.array(jsonObject) }) }),
  z.object({ name: z.literal('count'), arguments: z.object({ query: jsonObject.default({}) }) }),
]);

export default defineTool({
  name: 'explain',
  operationType: 'metadata',
  description: 'Show the query plan the server would use for a find, aggregate or count (never executes writes).',
  input: z.object({
    ...namespaceArgs,
    method: z.array(method).length(1).describe('The one method to explain'),
    verbosity: z.enum(['queryPlanner', 'queryPlannerExtended', 'executionStats', 'allPlansExecution']).default('queryPlanner'),
  }),
  async execute({ database, collection, method: [m], verbosity }, { client, config }) {
    const coll = client.db(database).collection(collection);
    const opts = { maxTimeMS: config.maxTimeMS };
    let plan: Document;
    if (m?.name === 'aggregate') plan = await coll.aggregate(fromEjson<Document[]>(m.arguments.pipeline, 'pipeline'), opts).explain(verbosity);
    else if (m?.name === 'count') {
      plan = await client
        .db(database)
        .command({ explain: { count: collection, query: fromEjson(m.arguments.query, 'query') }, verbosity, maxTimeMS: config.maxTimeMS });
    } else {
      const a = m?.arguments ?? { filter: {} };
      let cursor = coll.find(fromEjson(a.filter, 'filter'), opts);
      if (a.projection) cursor = cursor.project(fromEjson(a.projection, 'projection'));
      if (a.sort) cursor = cursor.sort(fromEjson(a.sort, 'sort'));
      if (a.limit !== undefined) cursor = cursor.limit(a.limit);
      plan = await cursor.explain(verbosity);
    }
    return formatValue(`Plan (${verbosity}) for ${m?.name} on ${database}.${collection}.`, plan, config);
  },
});
