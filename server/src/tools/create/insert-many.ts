import { z } from 'zod';
import type { Document } from 'mongodb';
import { defineTool } from '../tool.ts';
import { fromEjson, jsonObject, namespaceArgs } from '../args.ts';
import { formatValue } from '../format.ts';

export default defineTool({
  name: 'insert-many',
  operationType: 'create',
  description: 'Insert documents into a collection.',
  input: z.object({ ...namespaceArgs, documents: z.array(jsonObject).min(1).max(1000).describe('Documents (Extended JSON)') }),
  async execute(args, { client, config }) {
    const docs = fromEjson<Document[]>(args.documents, 'documents');
    const res = await client.db(args.database).collection(args.collection).insertMany(docs, { maxTimeMS: config.maxTimeMS });
    return formatValue(`Inserted ${res.insertedCount} documents.`, Object.values(res.insertedIds), config, res.insertedCount);
  },
});
