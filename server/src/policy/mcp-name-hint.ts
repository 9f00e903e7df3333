import { ToolError } from '../errors.ts';

/**
 * SEP-2243's `Mcp-Name` is a hint for intermediaries: the edge's verifier pre-filters on it (a write tool on
 * the read-only resource gets a 403 step-up, nginx/verifier/src/http/mcp-name.ts). The SDK checks it against
 * the body on 2026-07-28 requests only (400, -32020); a 2025-era client may send it too, so the server also
 * refuses a tools/call or resources/read whose `Mcp-Name` disagrees with what it runs — on every revision — and
 * an intermediary's view of a request can never differ from what the server does. Absent, nothing is checked.
 */
const BASE64_SENTINEL = /^=\?base64\?([A-Za-z0-9+/=]*)\?=$/;

/** The header's value as the body would spell it (SEP-2243's `=?base64?…?=` form decoded), or undefined. */
export function decodeMcpName(raw: string | string[] | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (Array.isArray(raw)) return '\u0000'; // repeated: matches no name, so it is refused
  const header = raw.trim();
  const m = BASE64_SENTINEL.exec(header);
  return m ? Buffer.from(m[1] ?? '', 'base64').toString('utf8') : header;
}

/** Throws HEADER_MISMATCH when the request's Mcp-Name (if any) is not `named` (the tool name or resource URI). */
export function checkMcpName(hint: string | undefined, named: string): void {
  if (hint !== undefined && hint !== named) throw new ToolError('HEADER_MISMATCH', 'the Mcp-Name header does not name what the body asks for (SEP-2243)');
}
