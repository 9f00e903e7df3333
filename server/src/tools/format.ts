import { BSON, type AbstractCursor, type Document } from 'mongodb';
import { ToolError } from '../errors.ts';
import type { Config } from '../config/schema.ts';
import type { ToolOutput } from './tool.ts';
import { currentResponseBudget, wireBytes } from '../transport/response-budget.ts';

const { EJSON } = BSON;

export function toEjson(value: unknown): string {
  return EJSON.stringify(value as Document, { relaxed: true });
}

/**
 * Drains at most maxDocumentsPerQuery documents (and maxBytesPerQuery bytes of relaxed EJSON) from a
 * cursor, closes it, and says so when the result was cut: an agent must never take a partial answer
 * for the whole one.
 */
export async function collectDocuments(cursor: AbstractCursor<Document>, config: Config, requested?: number): Promise<ToolOutput> {
  const cap = config.maxDocumentsPerQuery;
  // A limit the caller chose is an answer in full; only the server's own cap makes a result partial.
  const ownLimit = requested !== undefined && requested <= cap;
  const maxDocs = ownLimit ? requested : cap;
  const parts: string[] = [];
  let bytes = 2;
  let cut: string | null = null;
  const budget = currentResponseBudget();
  try {
    for await (const doc of cursor) {
      if (parts.length >= maxDocs) {
        if (!ownLimit) cut = `maxDocumentsPerQuery=${cap}`;
        break;
      }
      const text = toEjson(doc);
      const size = Buffer.byteLength(text) + 1;
      if (bytes + size > config.maxBytesPerQuery) {
        if (parts.length === 0) throw new ToolError('RESULT_TOO_LARGE', `one document exceeds maxBytesPerQuery=${config.maxBytesPerQuery}`);
        cut = `maxBytesPerQuery=${config.maxBytesPerQuery}`;
        break;
      }
      // The HTTP request's byte budget (maxResponseBytes) is shared with the rest of its answer: stop here.
      if (budget && !budget.charge(wireBytes(text) + 1)) throw budget.exceeded();
      bytes += size;
      parts.push(text);
    }
  } finally {
    await cursor.close();
  }
  const body = `[${parts.join(',')}]`;
  const head = cut
    ? `Returned ${parts.length} documents; the result was TRUNCATED at ${cut}. Narrow the query or paginate.`
    : `Returned ${parts.length} documents.`;
  return { text: `${head}\n${body}`, documents: parts.length };
}

/** A single value (command result, count) as text, still under the byte cap. */
export function formatValue(label: string, value: unknown, config: Config, documents: number | null = null): ToolOutput {
  const text = `${label}\n${toEjson(value)}`;
  if (Buffer.byteLength(text) > config.maxBytesPerQuery) throw new ToolError('RESULT_TOO_LARGE', `result exceeds maxBytesPerQuery=${config.maxBytesPerQuery}`);
  const budget = currentResponseBudget();
  if (budget && !budget.charge(wireBytes(text))) throw budget.exceeded();
  return { text, documents };
}
