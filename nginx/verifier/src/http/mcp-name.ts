/**
 * The edge's pre-filter on SEP-2243's `Mcp-Method`/`Mcp-Name` headers: a write tool asked of the read-only
 * resource is answered with a 403 insufficient_scope step-up to the read-write resource before anything is
 * proxied. Only ever a refusal, never a grant: the headers are the client's word, and the MCP server (which
 * reads the body) refuses a request whose headers disagree with it and decides every call itself
 * (server/src/policy/*). A lying header can therefore only get a request refused earlier, never let one through.
 */
import { WRITE_TOOLS } from '../../../../contract/contract.ts';
import { Refusal } from '../errors.ts';
import type { Route } from '../jwt/rights.ts';

/** The write tools come from the contract, which a unit test holds equal to the server's registry. */
const WRITE: ReadonlySet<string> = new Set(WRITE_TOOLS);

const NAME = /^[\w.:/-]{1,128}$/;

/** What the audit records of Mcp-Name: the name when it is a plain identifier, else a marker (never raw caller text). */
export function mcpNameOf(v: string | string[] | undefined): string | undefined {
  if (v === undefined) return undefined;
  return typeof v === 'string' && NAME.test(v) ? v : '[invalid]';
}

/** Throws the step-up refusal when a tools/call names a write tool on the read-only route. */
export function checkMcpName(method: string | string[] | undefined, name: string | undefined, route: Route): void {
  if (route !== 'ro' || method !== 'tools/call' || name === undefined) return;
  if (WRITE.has(name)) throw new Refusal('write_tool_on_read_route');
}
