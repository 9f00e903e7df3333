/**
 * The worker's side of each path: how to open `concurrency` clients and what one call is. HTTP paths open
 * one MCP session per client (that is what concurrent agents are); a stdio server is one session by nature,
 * so its concurrent clients are concurrent in-flight requests on that session; the driver shares one pool.
 */
import { openSync, readFileSync } from 'node:fs';
import { MongoClient } from 'mongodb';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { readManifest, type StackManifest } from '../tests/harness/manifest.ts';
import { resultText } from '../tests/harness/mcp.ts';
import { openRawSession, rawAgent, type RawSession } from './raw-mcp.ts';
import { serviceAgentToken } from '../tests/harness/tokens.ts';
import { CLIENTS, IDENTITY_HEADERS, ROLES, SCOPES } from '../contract/contract.ts';
import type { Call } from './load.ts';
import { driverCall, toolCall, type Operation } from './operations.ts';
import type { PathSpec } from './protocol.ts';

export interface Target {
  open(concurrency: number, callTimeoutMs: number): Promise<void>;
  callers(op: Operation): Call[];
  /** The first call's result text, so a run can show that every path answers with real data. */
  probe(op: Operation): Promise<string>;
  close(): Promise<void>;
  pids(): number[];
  dispose(): Promise<void>;
}

/** The identity headers of a machine caller with the reader role, as the edge would assert them. */
export const BENCH_MACHINE: Record<string, string> = {
  [IDENTITY_HEADERS.subject]: 'bench',
  [IDENTITY_HEADERS.username]: 'bench',
  [IDENTITY_HEADERS.clientId]: CLIENTS.service,
  [IDENTITY_HEADERS.scopes]: SCOPES.read,
  [IDENTITY_HEADERS.roles]: ROLES.reader,
  [IDENTITY_HEADERS.principalType]: 'machine',
};

/** Set by each `open`; a call slower than this fails (the SDK's per-request timeout). */
let callTimeoutMs = 10_000;

async function callTool(client: Client, op: Operation, database: string, extra?: Record<string, string>): Promise<string> {
  const r = await client.callTool(toolCall(op, database, extra), { timeout: callTimeoutMs });
  const text = resultText(r);
  if (r.isError) throw new Error(`tool error: ${text}`);
  return text;
}

function driverTarget(m: StackManifest): Target {
  const client = new MongoClient(m.database.uri, { maxPoolSize: 128, serverSelectionTimeoutMS: 5_000, socketTimeoutMS: 30_000 });
  const db = client.db(m.database.name);
  let n = 1;
  return {
    open: async (c, t) => {
      n = c;
      callTimeoutMs = t;
      await client.connect();
    },
    callers: (op) => Array.from({ length: n }, () => () => driverCall(op, db, callTimeoutMs)),
    probe: async (op) => {
      await driverCall(op, db, callTimeoutMs);
      return 'ok (driver)';
    },
    close: async () => undefined,
    pids: () => [],
    dispose: () => client.close(),
  };
}

/**
 * HTTP paths speak JSON-RPC by hand over one keep-alive agent (raw-mcp.ts): the SDK client's per-message
 * validation cost as much CPU as the server under test on this 2-core machine, so it skewed every HTTP row.
 */
function httpTarget(m: StackManifest, spec: Extract<PathSpec, { kind: 'http' }>): Target {
  let sessions: RawSession[] = [];
  let token: { value: string; at: number } | undefined;
  const agent = rawAgent(spec.url, spec.url.startsWith('https:') ? readFileSync(m.caFile) : undefined);
  const headers = (): Record<string, string> =>
    spec.auth === 'proxy'
      ? {
          'x-mcp-proxy-auth': readFileSync(m.proxySecretFile, 'utf8').trim(),
          // What the edge asserts for the service agent (the secure path's caller), so the policy serves both alike.
          ...BENCH_MACHINE,
        }
      : {};
  // Access tokens live ≤ 5 min (keycloak/): a fresh one per batch of sessions once the last is 2 min old. One
  // token for every session, as one agent holds it: the realistic reuse the verifier's result cache serves.
  const bearer = async (): Promise<Record<string, string>> => {
    if (spec.auth !== 'bearer') return {};
    if (!token || Date.now() - token.at > 120_000) token = { value: (await serviceAgentToken(m)).access_token, at: Date.now() };
    return { authorization: `Bearer ${token.value}` };
  };
  const closeAll = async () => {
    const old = sessions;
    sessions = [];
    // DELETE ends the session server-side (MCP Streamable HTTP), so sessions never pile up against maxSessions.
    await Promise.all(old.map((s) => s.close()));
  };
  const call = (s: RawSession, op: Operation) => {
    const c = toolCall(op, m.database.name, spec.extraArgs);
    return s.callTool(c.name, c.arguments);
  };
  return {
    open: async (c, timeoutMs) => {
      callTimeoutMs = timeoutMs;
      await closeAll();
      const o = { url: spec.url, headers: { ...headers(), ...(await bearer()) }, timeoutMs };
      for (let i = 0; i < c; i += 16) {
        const batch = Math.min(16, c - i);
        sessions.push(...(await Promise.all(Array.from({ length: batch }, () => openRawSession(o, agent)))));
      }
    },
    callers: (op) => sessions.map((s) => () => call(s, op).then(() => undefined)),
    probe: (op) => call(sessions[0]!, op),
    close: closeAll,
    pids: () => [],
    dispose: async () => {
      await closeAll();
      agent.destroy();
    },
  };
}

function stdioTarget(m: StackManifest, spec: Extract<PathSpec, { kind: 'stdio' }>): Target {
  let client: Client | undefined;
  let transport: StdioClientTransport | undefined;
  let n = 1;
  const secretEnv = Object.fromEntries(Object.entries(spec.secretEnv).map(([k, file]) => [k, readFileSync(file, 'utf8').trim()]));
  return {
    open: async (c, t) => {
      n = c;
      callTimeoutMs = t;
      if (client) return;
      transport = new StdioClientTransport({
        command: spec.command,
        args: spec.args,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...spec.env, ...secretEnv },
        stderr: openSync(spec.logFile, 'a'),
      });
      client = new Client({ name: 'bench', version: '1.0.0' });
      await client.connect(transport);
    },
    callers: (op) => Array.from({ length: n }, () => () => callTool(client!, op, m.database.name, spec.extraArgs).then(() => undefined)),
    probe: (op) => callTool(client!, op, m.database.name, spec.extraArgs),
    close: async () => undefined,
    pids: () => (transport?.pid ? [transport.pid] : []),
    dispose: async () => {
      await client?.close();
    },
  };
}

export async function createTarget(spec: PathSpec): Promise<Target> {
  const m = await readManifest();
  if (!m) throw new Error('no stack manifest (.stack/manifest.json): start the stack first');
  if (spec.kind === 'driver') return driverTarget(m);
  if (spec.kind === 'http') return httpTarget(m, spec);
  return stdioTarget(m, spec);
}
