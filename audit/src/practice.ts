/** What one practice is and what judging it yields; the registry lives in practices/index.ts. */
import type { AuditContext } from './context.ts';

export type Status = 'pass' | 'fail' | 'not-applicable';

export interface Outcome {
  status: Status;
  evidence: string;
}

export interface Practice {
  /** Stable, kebab-case: `--only` selects by it, SARIF uses it as the rule id. */
  id: string;
  title: string;
  /** The practice's citation: MongoDB's best-practice section, the MCP spec clause or the RFC. */
  source: string;
  run(ctx: AuditContext): Promise<Outcome>;
}

export interface Finding extends Outcome {
  id: string;
  title: string;
  source: string;
}

export interface Report {
  target: string;
  practices: Finding[];
}

/** A response body as evidence: one line, short. */
export const snippet = (body: string, n = 80): string => {
  const line = body.replace(/\s+/g, ' ').trim();
  return line.length > n ? `${line.slice(0, n)}…` : line;
};

export const pass = (evidence: string): Outcome => ({ status: 'pass', evidence });
export const fail = (evidence: string): Outcome => ({ status: 'fail', evidence });
export const notApplicable = (evidence: string): Outcome => ({ status: 'not-applicable', evidence });

/** Sources, cited by every practice that rests on them. */
export const SOURCES = {
  mongoReadOnly: 'MongoDB MCP Server Security Best Practices — "MCP Server Read-Only Mode" (mongodb.com/docs/mcp-server/security-best-practices)',
  mongoDisableTools:
    'MongoDB MCP Server — "Disabling MCP Server Tools" / server-side JavaScript disabled (mongodb.com/docs/mcp-server/configuration/enable-or-disable-features)',
  mongoReadOnlyUser: 'MongoDB MCP Server Security Best Practices — read-only database user (mongodb.com/docs/mcp-server/security-best-practices)',
  mcpAuthz: 'MCP specification 2025-11-25, Basic › Authorization',
  mcpTransports: 'MCP specification 2025-11-25, Basic › Transports › Streamable HTTP › Security Warning',
  mcpBestPractices: 'MCP specification 2025-11-25, Security Best Practices',
} as const;
