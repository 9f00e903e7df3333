import type { z } from 'zod';
import type { MongoClient } from 'mongodb';
import type { ToolAnnotations } from '@modelcontextprotocol/server';
import type { Config } from '../config/schema.ts';
import type { Identity } from '../identity/identity.ts';

/** The folder a tool lives in is its operation type; read-only mode serves only the first two. */
export const OPERATION_TYPES = ['metadata', 'read', 'create', 'update', 'delete'] as const;
export type OperationType = (typeof OPERATION_TYPES)[number];

export function isWriteOperation(op: OperationType): boolean {
  return op === 'create' || op === 'update' || op === 'delete';
}

export interface ToolContext {
  client: MongoClient;
  config: Config;
  identity: Identity;
  /** Whether listings (databases, collections) may show this namespace to the caller: the policy's view; absent, all. */
  visible?: ((db: string, coll?: string) => boolean) | undefined;
}

/** What a tool hands back: text for the model, and a count for the audit log. */
export interface ToolOutput {
  text: string;
  documents: number | null;
}

export interface ToolDefinition<S extends z.ZodObject = z.ZodObject> {
  name: string;
  operationType: OperationType;
  description: string;
  input: S;
  execute(args: z.output<S>, ctx: ToolContext): Promise<ToolOutput>;
}

/** One place to declare a tool, so `args` is typed from its zod schema. */
export function defineTool<S extends z.ZodObject>(tool: ToolDefinition<S>): ToolDefinition {
  return tool as unknown as ToolDefinition;
}

/** MCP annotations are derived from the operation type, never hand-written per tool. */
export function annotationsFor(op: OperationType): ToolAnnotations {
  return {
    readOnlyHint: !isWriteOperation(op),
    destructiveHint: op === 'update' || op === 'delete',
    idempotentHint: !isWriteOperation(op),
    openWorldHint: false,
  };
}

export function namespaceOf(args: unknown): string | null {
  const a = (args ?? {}) as { database?: unknown; collection?: unknown };
  if (typeof a.database !== 'string') return null;
  return typeof a.collection === 'string' ? `${a.database}.${a.collection}` : a.database;
}
