import type { Document, MongoClient } from 'mongodb';
import type { Config } from '../config/schema.ts';
import { fromEjson } from '../tools/args.ts';
import type { ToolDefinition } from '../tools/tool.ts';

/** Why a call needs the user's approval before it runs: shown to the user, written to the audit log. */
export interface ApprovalNeed {
  /** `drop` (always), `empty-filter` (every document), `over-threshold` (more than bulkApprovalThreshold match). */
  reason: 'drop' | 'empty-filter' | 'over-threshold' | 'policy';
  /** One sentence for the user, naming the operation and the namespace (server text, no document values). */
  summary: string;
}

const DROPS = new Set(['drop-database', 'drop-collection']);
const BULK = new Set(['delete-many', 'update-many']);

/**
 * The one place that decides whether a call needs approval: the built-in rules, keyed on the tool and its
 * arguments, and the policy layer's `allow-with-approval` decision (`policyRule`, server/src/policy/*), which
 * can add approvals but never remove the built-in ones. Drops always need approval; delete-many/update-many when the filter is empty, or when more than
 * `bulkApprovalThreshold` documents match — counted first with a bounded countDocuments (limit threshold+1,
 * maxTimeMS), so counting never costs more than the threshold.
 */
export async function approvalNeeded(
  tool: ToolDefinition,
  args: Record<string, unknown>,
  client: MongoClient,
  config: Config,
  policyRule: string | null = null,
): Promise<ApprovalNeed | null> {
  const ns = typeof args.collection === 'string' ? `${String(args.database)}.${args.collection}` : String(args.database);
  if (DROPS.has(tool.name)) {
    const what = tool.name === 'drop-database' ? `database ${ns}` : `collection ${ns}`;
    return { reason: 'drop', summary: `${tool.name}: drops the ${what} and everything in it. This cannot be undone.` };
  }
  const byPolicy: ApprovalNeed | null = policyRule
    ? { reason: 'policy', summary: `${tool.name} on ${ns}: policy rule ${policyRule} requires the user's approval.` }
    : null;
  if (!BULK.has(tool.name)) return byPolicy;
  const filter = fromEjson<Document>(args.filter ?? {}, 'filter');
  const verb = tool.name === 'delete-many' ? 'deletes' : 'updates';
  if (Object.keys(filter).length === 0) return { reason: 'empty-filter', summary: `${tool.name}: ${verb} EVERY document of ${ns} (empty filter).` };
  const limit = config.bulkApprovalThreshold + 1;
  const matched = await client.db(String(args.database)).collection(String(args.collection)).countDocuments(filter, { limit, maxTimeMS: config.maxTimeMS });
  if (matched <= config.bulkApprovalThreshold) return byPolicy;
  return { reason: 'over-threshold', summary: `${tool.name}: ${verb} more than ${config.bulkApprovalThreshold} documents of ${ns} (bulkApprovalThreshold).` };
}
