/**
 * A real namespace to aim read probes at, found with the server's own read tools: a refusal then means the
 * trick was refused, not that the collection was unknown. Servers that want a connection handle first
 * (the official server's `connectionId`) get the one `list-connections` names.
 */
import { callTool, type McpSession, type ToolInfo, type ToolResult } from './mcp.ts';

export interface ReadTarget {
  database: string;
  collection: string;
  /** Extra arguments every tool call needs on this server (e.g. `connectionId`). */
  common: Record<string, unknown>;
}

const SYSTEM_DB = new Set(['admin', 'local', 'config']);

/** Every string under a key named like `key` in a tool result (structured content first, then JSON in the text). */
export function valuesOf(r: ToolResult | undefined, key: RegExp): string[] {
  const found: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) key.test(k) && typeof x === 'string' ? found.push(x) : walk(x);
  };
  walk(r?.structuredContent);
  for (const c of r?.content ?? []) {
    const text = c.text ?? '';
    // JSON may follow a line of prose ("Found 2 databases.\n[…]"): parse from the first bracket to the last.
    const json = text.slice(text.search(/[[{]/), Math.max(text.lastIndexOf(']'), text.lastIndexOf('}')) + 1);
    try {
      const parsed = JSON.parse(json) as unknown;
      // A bare list of names (["orders", "customers"]) is the list itself.
      if (Array.isArray(parsed) && parsed.every((x) => typeof x === 'string')) found.push(...parsed);
      else walk(parsed);
    } catch {
      // Prose: names quoted or after "Name:" (the official server's text answers).
      for (const m of text.matchAll(/(?:^|\n)\s*(?:-\s*)?(?:Name:\s*)?"?([A-Za-z0-9_.-]+)"?\s*(?:\(|$)/gm)) if (m[1]) found.push(m[1]);
    }
  }
  return found;
}

export async function findReadTarget(s: McpSession, tools: ToolInfo[]): Promise<ReadTarget> {
  const common: Record<string, unknown> = {};
  const needsConnection = tools.some((t) => t.inputSchema?.required?.includes('connectionId'));
  if (needsConnection && tools.some((t) => t.name === 'list-connections')) {
    const id = valuesOf((await callTool(s, 'list-connections', {})).result, /^(connectionId|id)$/)[0];
    if (id) common.connectionId = id;
  }
  const fallback = { database: 'mcp_audit', collection: 'mcp_audit', common };
  if (!tools.some((t) => t.name === 'list-databases')) return fallback;
  const dbs = valuesOf((await callTool(s, 'list-databases', { ...common })).result, /^(name|databaseName)$/).filter((d) => !SYSTEM_DB.has(d));
  for (const database of dbs.slice(0, 5)) {
    const colls = valuesOf((await callTool(s, 'list-collections', { ...common, database })).result, /^(name|collectionName)$/).filter(
      (c) => !c.startsWith('system.'),
    );
    if (colls[0]) return { database, collection: colls[0], common };
  }
  return fallback;
}
