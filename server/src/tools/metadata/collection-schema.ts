import { z } from 'zod';
import type { Document } from 'mongodb';
import { defineTool } from '../tool.ts';
import { namespaceArgs } from '../args.ts';
import { formatValue } from '../format.ts';

const MAX_DEPTH = 3;

function bsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Date) return 'date';
  if (typeof value === 'object') return (value as { _bsontype?: string })._bsontype ?? 'object';
  return typeof value;
}

/** Field path → type → number of sampled documents holding it (nested objects to MAX_DEPTH). */
export function inferSchema(docs: Document[]): Record<string, Record<string, number>> {
  const schema: Record<string, Record<string, number>> = {};
  const visit = (doc: Document, prefix: string, depth: number) => {
    for (const [key, value] of Object.entries(doc)) {
      const path = prefix ? `${prefix}.${key}` : key;
      const type = bsonType(value);
      const types = schema[path] ?? {};
      schema[path] = types;
      types[type] = (types[type] ?? 0) + 1;
      if (type === 'object' && depth < MAX_DEPTH) visit(value as Document, path, depth + 1);
    }
  };
  for (const doc of docs) visit(doc, '', 1);
  return schema;
}

export default defineTool({
  name: 'collection-schema',
  operationType: 'metadata',
  description: 'Infer the schema of a collection from a random sample of documents (field paths and types).',
  input: z.object({ ...namespaceArgs, sampleSize: z.number().int().min(1).max(1000).default(50).describe('Documents to sample') }),
  async execute({ database, collection, sampleSize }, { client, config }) {
    const coll = client.db(database).collection(collection);
    const opts = { maxTimeMS: config.maxTimeMS };
    // $sample gives a random sample; FerretDB v1 lacks it, so fall back to the first documents.
    const docs = await coll
      .aggregate([{ $sample: { size: sampleSize } }], opts)
      .toArray()
      .catch(() => coll.find({}, opts).limit(sampleSize).toArray());
    return formatValue(`Schema of ${database}.${collection} from ${docs.length} sampled documents.`, inferSchema(docs), config, docs.length);
  },
});
