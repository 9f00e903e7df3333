/** The command line, parsed without side effects beyond reading the named files: a usage error is a value, exit 2. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Credentials } from './context.ts';
import { PRACTICES } from './practices/index.ts';

export const USAGE = `usage: mcp-audit <mcp-url> [--ca FILE] [--client-id ID --client-secret-file FILE | --token-file FILE]
                 [--expired-token-file FILE]
                 [--write-url URL] [--json | --sarif] [--only ID,...] [--aggressive]

Judges an MCP deployment, black-box, against MongoDB's MCP security practices, the MCP authorization
specification (2025-11-25) and RFC 9728, 8707, 6750, 8414. Exit 0: every applicable practice passes;
1: one or more fail; 2: usage error.

  --ca FILE                 trust this CA (PEM) instead of the system store
  --client-id ID            a confidential client for the client-credentials grant …
  --client-secret-file FILE … and the file holding its secret (never the secret itself in argv)
  --token-file FILE         or a ready access token for the MCP URL
  --expired-token-file FILE an access token of this deployment that has expired (probes expiry)
  --write-url URL           the deployment's read-write URL: must refuse the read credential
  --json | --sarif          machine output (SARIF 2.1.0 for code scanning); default a table
  --only ID,...             judge only these practices
  --aggressive              also run probes that write if the server wrongly accepts them, and the
                            floods of rate-limit and connection-limit (each announced first)

practices: ${PRACTICES.map((p) => p.id).join(', ')}
`;

export interface CliOptions {
  url: URL;
  ca?: string;
  writeUrl?: URL;
  credentials: Credentials;
  expiredToken?: string;
  format: 'table' | 'json' | 'sarif';
  only: string[];
  aggressive: boolean;
}

export type Parsed = { kind: 'run'; options: CliOptions } | { kind: 'help' } | { kind: 'usage-error'; message: string };

const readFile = (flag: string, path: string): string => {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`${flag} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
};

class UsageError extends Error {}

function httpUrl(flag: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${flag}: not a URL: ${value}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError(`${flag}: expected an http(s) URL, got ${url.protocol}`);
  return url;
}

export function parseCli(argv: string[]): Parsed {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        ca: { type: 'string' },
        'client-id': { type: 'string' },
        'client-secret-file': { type: 'string' },
        'token-file': { type: 'string' },
        'expired-token-file': { type: 'string' },
        'write-url': { type: 'string' },
        json: { type: 'boolean', default: false },
        sarif: { type: 'boolean', default: false },
        only: { type: 'string' },
        aggressive: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) return { kind: 'help' };
    if (positionals.length !== 1) throw new UsageError(positionals.length ? `one MCP URL expected, got ${positionals.length}` : 'the MCP URL is missing');
    if (values.json && values.sarif) throw new UsageError('--json and --sarif exclude each other');
    const client = values['client-id'] !== undefined || values['client-secret-file'] !== undefined;
    if (client && (values['client-id'] === undefined || values['client-secret-file'] === undefined))
      throw new UsageError('--client-id and --client-secret-file go together');
    if (client && values['token-file'] !== undefined) throw new UsageError('give either client credentials or --token-file, not both');
    const known = new Set(PRACTICES.map((p) => p.id));
    const only = values.only
      ? values.only
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : [];
    const unknown = only.filter((id) => !known.has(id));
    if (unknown.length) throw new UsageError(`--only: unknown practice ${unknown.join(', ')}`);
    const credentials: Credentials = client
      ? { kind: 'client', clientId: values['client-id']!, clientSecret: readFile('--client-secret-file', values['client-secret-file']!).trim() }
      : values['token-file'] !== undefined
        ? { kind: 'token', token: readFile('--token-file', values['token-file']).trim() }
        : { kind: 'none' };
    return {
      kind: 'run',
      options: {
        url: httpUrl('<mcp-url>', positionals[0]!),
        ca: values.ca === undefined ? undefined : readFile('--ca', values.ca),
        writeUrl: values['write-url'] === undefined ? undefined : httpUrl('--write-url', values['write-url']),
        credentials,
        expiredToken: values['expired-token-file'] === undefined ? undefined : readFile('--expired-token-file', values['expired-token-file']).trim(),
        format: values.json ? 'json' : values.sarif ? 'sarif' : 'table',
        only,
        aggressive: values.aggressive,
      },
    };
  } catch (e) {
    // parseArgs throws TypeErrors with ERR_PARSE_ARGS_* codes for unknown flags and missing values.
    if (e instanceof UsageError || (e as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS'))
      return { kind: 'usage-error', message: (e as Error).message };
    throw e;
  }
}
