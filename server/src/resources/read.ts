import { ProtocolError, ProtocolErrorCode, type ReadResourceResult } from '@modelcontextprotocol/server';
import { redactConfig } from '../config/help.ts';
import type { ErrorCode } from '../errors.ts';
import { dispatchToolCall, type DispatchDeps } from '../tools/dispatch.ts';
import { COLLECTION_VIEWS, parseResourceUri } from './uris.ts';
import { asProtocolEvent, protocolRecord, settle, type ProtocolCall } from './protocol-audit.ts';

/**
 * A refused or failed protocol request: JSON-RPC -32602 (what the SDK answers for every resources/read miss
 * on every revision) carrying our closed code in `data.code`, as a tool result carries it in structuredContent.
 */
export function protocolRefusal(code: ErrorCode, message: string): ProtocolError {
  return new ProtocolError(ProtocolErrorCode.InvalidParams, `Error [${code}]: ${message}`, { code });
}

/**
 * resources/read. A collection view runs the metadata tool of the same name through the tool dispatcher,
 * so it passes every guard a tools/call passes — the reserved-namespace policy, disabledTools, maxTimeMS,
 * maxBytesPerQuery and the HTTP request's byte budget — and leaves exactly one audit record (as
 * `resource_read`). A URI that names nothing of ours is refused and audited too.
 */
export async function readResource(uri: string, call: ProtocolCall, deps: DispatchDeps): Promise<ReadResourceResult> {
  const ref = parseResourceUri(uri);
  if (ref?.kind === 'collection') {
    // The request's Mcp-Name names the URI, not the view's tool: compared here; on a mismatch dispatch is handed
    // a hint no tool is named, so it refuses (HEADER_MISMATCH) and audits the read like any other refusal.
    const { nameHint, ...identity } = call.identity;
    const mismatch = nameHint !== undefined && nameHint !== uri;
    const result = await dispatchToolCall(
      {
        name: COLLECTION_VIEWS[ref.view].tool,
        args: { database: ref.database, collection: ref.collection },
        identity: mismatch ? { ...identity, nameHint: '\u0000' } : identity,
        sessionId: call.sessionId,
      },
      { ...deps, audit: asProtocolEvent(deps.audit, 'resource_read', uri) },
    );
    const error = (result.structuredContent as { error?: { code: ErrorCode; message: string } } | undefined)?.error;
    if (result.isError && error) throw protocolRefusal(error.code, error.message);
    const text = result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
    return { contents: [{ uri, mimeType: 'text/plain', text }] };
  }
  const started = performance.now();
  const record = protocolRecord('resource_read', uri, call, null);
  if (ref === null) {
    deps.audit.write(settle(record, 'UNKNOWN_RESOURCE', true, started));
    throw protocolRefusal('UNKNOWN_RESOURCE', 'no such resource (see resources/list and resources/templates/list)');
  }
  deps.audit.ready?.();
  deps.audit.write(settle(record, null, false, started));
  return { contents: [{ uri, mimeType: 'application/json', text: JSON.stringify(redactConfig(deps.config), null, 2) }] };
}
