/**
 * SARIF 2.1.0 for code scanning: one rule per practice (its source as help), one result per judged
 * practice — failures as errors, passes and not-applicable as `kind` pass / notApplicable, so a CI view
 * shows what was checked, not only what broke. The target URL is the artifact location.
 */
import type { Report } from '../practice.ts';

export const SARIF_SCHEMA = 'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';

export function toSarif(r: Report, version: string): object {
  const rules = r.practices.map((p) => ({
    id: p.id,
    name: p.id.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase()),
    shortDescription: { text: p.title },
    help: { text: `Source: ${p.source}` },
    properties: { tags: ['security', 'mcp'] },
  }));
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'mcp-audit', version, informationUri: 'https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization', rules } },
        results: r.practices.map((p, ruleIndex) => ({
          ruleId: p.id,
          ruleIndex,
          kind: p.status === 'fail' ? 'fail' : p.status === 'pass' ? 'pass' : 'notApplicable',
          level: p.status === 'fail' ? 'error' : 'none',
          message: { text: `${p.title}: ${p.evidence}` },
          locations: [{ physicalLocation: { artifactLocation: { uri: r.target } } }],
        })),
      },
    ],
  };
}
