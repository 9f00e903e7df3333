import { z } from 'zod';
import { BSON, type Document } from 'mongodb';

const { EJSON } = BSON;
import { ToolError } from '../errors.ts';

/** Shared argument shapes. Names follow mongodb-mcp-server so agents written for it work unchanged. */
export const database = z.string().min(1).max(64).describe('Database name');
export const collection = z.string().min(1).max(255).describe('Collection name');
export const jsonObject = z.record(z.string(), z.unknown());

export const namespaceArgs = { database, collection };

/**
 * Arguments arrive as JSON; values such as `{"$oid": "..."}` or `{"$date": "..."}` are Extended JSON
 * and become BSON types here (https://www.mongodb.com/docs/manual/reference/mongodb-extended-json/).
 * Runs after the operator guard, which inspects the raw JSON.
 */
export function fromEjson<T = Document>(value: unknown, field: string): T {
  try {
    return EJSON.deserialize(value as Document, { relaxed: true }) as T;
  } catch {
    throw new ToolError('INVALID_ARGUMENT', `${field}: not valid Extended JSON`);
  }
}
