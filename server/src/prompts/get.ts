import { z } from 'zod';
import type { GetPromptResult } from '@modelcontextprotocol/server';
import type { Config } from '../config/schema.ts';
import type { AuditSink } from '../audit/audit-log.ts';
import { ToolError, toToolError } from '../errors.ts';
import { allowanceFrom, namespaceRefusal } from '../guard/namespace-policy.ts';
import { collection, database } from '../tools/args.ts';
import { namespaceOf } from '../tools/tool.ts';
import { protocolRefusal } from '../resources/read.ts';
import { protocolRecord, settle, type ProtocolCall } from '../resources/protocol-audit.ts';
import { findPrompt } from './catalog.ts';

/** Argument shapes: namespace names as the tools take them; free text bounded so a prompt cannot be inflated. */
const ARG_SCHEMAS: Record<string, z.ZodType<string>> = { database, collection, question: z.string().min(1).max(2000) };

/**
 * prompts/get: a prompt that names a reserved namespace is refused (NAMESPACE_FORBIDDEN) rather than
 * rendered, so no prompt of ours steers an agent where no tool may go. One audit record per request.
 */
export function getPrompt(name: string, args: Record<string, string>, call: ProtocolCall, deps: { config: Config; audit: AuditSink }): GetPromptResult {
  const started = performance.now();
  const record = protocolRecord('prompt_get', `prompt:${name}`, call, namespaceOf(args));
  try {
    const def = findPrompt(name);
    if (!def) throw new ToolError('UNKNOWN_PROMPT', `unknown prompt: ${name.slice(0, 64)}`);
    const values: Record<string, string> = {};
    for (const a of def.prompt.arguments ?? []) {
      const value = args[a.name];
      if (value === undefined) {
        if (a.required) throw new ToolError('INVALID_ARGUMENT', `${a.name}: required`);
        continue;
      }
      const parsed = (ARG_SCHEMAS[a.name] ?? z.string().max(2000)).safeParse(value);
      if (!parsed.success) throw new ToolError('INVALID_ARGUMENT', `${a.name}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
      values[a.name] = parsed.data;
    }
    const refusal = namespaceRefusal({ db: values.database, coll: values.collection, where: 'arguments' }, allowanceFrom(deps.config.allowReservedNamespaces));
    if (refusal) throw new ToolError(refusal.code, refusal.message);
    const result = def.render(values);
    deps.audit.write(settle(record, null, false, started));
    return result;
  } catch (err) {
    const e = toToolError(err);
    deps.audit.write(settle(record, e.code, e.code !== 'INTERNAL', started));
    throw protocolRefusal(e.code, e.message);
  }
}
