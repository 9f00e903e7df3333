/** Error hygiene: what refusals and failures give away (stack traces, versions, connection strings). */
import { fail, pass, SOURCES, type Practice } from './shared.ts';
import { rawRequest, type RawResponse } from '../probes/http.ts';
import { bearer, callTool, MCP_HEADERS } from '../probes/mcp.ts';

const LEAKS: Array<[string, RegExp]> = [
  ['stack trace', /\bat [\w$.<>]+ \((?:file:\/\/|\/|node:)[^)]*:\d+:\d+\)|\n\s+at \S+:\d+:\d+/],
  ['connection string', /mongodb(?:\+srv)?:\/\/[^\s"'`]+/i],
  ['software version', /\b(?:node(?:\.js)?|express|nginx|apache|mongodb)[ /]v?\d+\.\d+/i],
];

function leaksIn(where: string, r: RawResponse): string[] {
  const found: string[] = [];
  const text = `${r.body}\n${[r.headers.server, r.headers['x-powered-by']].filter(Boolean).join('\n')}`;
  for (const [what, re] of LEAKS) if (re.test(text)) found.push(`${what} in ${where}`);
  if (r.headers['x-powered-by']) found.push(`X-Powered-By: ${String(r.headers['x-powered-by'])} in ${where}`);
  return found;
}

export const errorHygiene: Practice = {
  id: 'error-hygiene',
  title: 'Errors carry no stack trace, software version or connection string',
  source: `${SOURCES.mcpBestPractices}; OWASP ASVS 5.0 V16.5 (error handling); MongoDB MCP Server — secrets redacted from tool errors`,
  async run(ctx) {
    const token = await ctx.accessToken().catch(() => undefined);
    const headers = { ...MCP_HEADERS, ...bearer(token) };
    const answers: Array<[string, RawResponse]> = [
      ['the anonymous initialize answer', await ctx.anonymousInitialize()],
      ['a malformed JSON body', await rawRequest(ctx.target, { method: 'POST', headers, body: '{"jsonrpc":"2.0",' })],
      ['an unknown path', await rawRequest(ctx.target, { path: `${ctx.target.url.pathname.replace(/\/$/, '')}/../mcp-audit-nowhere` })],
    ];
    const leaks = answers.flatMap(([where, r]) => leaksIn(where, r));
    const s = await ctx.session();
    if (s) {
      const t = await ctx.readTarget();
      const bogusFind = { ...t?.common, database: t?.database, collection: t?.collection, filter: { $mcpAuditBogus: 1 } };
      for (const [name, args] of [
        ['mcp-audit-no-such-tool', {}],
        ['find', bogusFind],
      ] as const) {
        const r = await callTool(s, name, args);
        const text = JSON.stringify(r.result ?? r.detail);
        for (const [what, re] of LEAKS) if (re.test(text)) leaks.push(`${what} in the error of tools/call ${name}`);
      }
    }
    return leaks.length ? fail(leaks.join('; ')) : pass(`${answers.length + (s ? 2 : 0)} error answers checked: nothing given away`);
  },
};
