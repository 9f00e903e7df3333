#!/usr/bin/env node
import { parseConfig } from './config/parse.ts';
import { helpText, redactText } from './config/help.ts';
import type { Config } from './config/schema.ts';
import { createAuditSink } from './audit/audit-log.ts';
import { connectDatabase } from './db/connect.ts';
import { checkPrivileges, WRITE_CREDENTIALS_MESSAGE } from './guard/privileges.ts';
import { createServer } from './server.ts';
import { anonymousIdentity, stdioIdentity } from './identity/identity.ts';
import { startHttpServer } from './transport/http/http-server.ts';
import { startStdio } from './transport/stdio.ts';
import { PolicyEngine } from './policy/engine.ts';
import { PolicyLoadError } from './policy/policy-set.ts';
import { ALL_TOOLS } from './tools/registry.ts';
import { createServerMetrics } from './metrics/registry.ts';
import { countingAuditSink } from './metrics/counting-sink.ts';
import { startMetricsListener } from './metrics/listener.ts';
import { startTracing } from './tracing/setup.ts';
import { runShutdown, settleWithin } from './lifecycle/shutdown.ts';
import { traceDriverCommands, tracingAuditSink } from './tracing/spans.ts';

/** Exit codes: 2 = bad configuration (before any socket), 3 = refused to start (privileges), 1 = runtime failure. */
const log = (line: string) => process.stderr.write(`mcp-server: ${line}\n`);

async function main(): Promise<void> {
  const parsed = parseConfig(process.argv.slice(2), process.env);
  if (parsed.kind === 'help') {
    process.stdout.write(helpText() + '\n');
    return;
  }
  if (parsed.kind === 'error') {
    log(parsed.message);
    process.exit(2);
  }
  const config: Config = parsed.config;
  for (const w of parsed.warnings) log(w);
  if (config.connectionString === '') {
    log('invalid configuration: connectionString: required (MDB_MCP_CONNECTION_STRING or MDB_MCP_CONNECTION_STRING_FILE)');
    process.exit(2);
  }
  const secrets = [config.connectionString, config.proxySecret].filter((s) => s !== '');
  const policy = loadPolicy(config);
  // Metrics count what the audit records (one record per call or refusal): one hook, nothing counted twice.
  const metrics = config.monitoringServerPort !== 0 ? createServerMetrics({ readOnly: config.readOnly }) : undefined;
  const counted = metrics ? countingAuditSink(createAuditSink(config.auditLog), metrics) : createAuditSink(config.auditLog);
  // Before the database client exists: the SDK's context manager must be in place for the driver's spans.
  const tracing = await startTracing(config.otlpTracesEndpoint, config.readOnly ? 'mcp-ro' : 'mcp-rw');
  const audit = tracing ? tracingAuditSink(counted) : counted;
  let client;
  try {
    client = await connectDatabase(config);
  } catch (err) {
    log(`cannot connect to the database: ${redactText((err as Error).message, secrets)}`);
    process.exit(1);
  }
  if (tracing) traceDriverCommands(client);
  if (config.readOnly) {
    const decision = await checkPrivileges(client, config.maxTimeMS);
    if (decision.kind === 'can-write' && !config.allowWritePrivilegesInReadOnly) {
      log(`${WRITE_CREDENTIALS_MESSAGE} (${decision.users.join(', ')}: ${decision.actions.join(', ')}). Refusing to start.`);
      await client.close();
      process.exit(3);
    }
    if (decision.kind === 'can-write') log(`WARNING: ${WRITE_CREDENTIALS_MESSAGE}; starting anyway (allowWritePrivilegesInReadOnly)`);
    if (decision.kind === 'unknown')
      log(`WARNING: the read-only privilege check could not be performed: ${decision.reason}. Read-only mode is enforced by this server only.`);
    if (decision.kind === 'read-only') log('privilege check: the database user holds no write action');
  }
  const defaultIdentity = config.transport === 'stdio' ? stdioIdentity() : anonymousIdentity();
  const factory = () => createServer(config, { client, audit, defaultIdentity, policy });
  // Every step bounded (lifecycle/shutdown.ts): 1 + 1 + 2 s, inside the 5 s the native runner waits before SIGKILL.
  const shutdown = async (code: number, stopServing?: () => Promise<void>) => {
    await runShutdown(
      {
        transport: () => settleWithin(() => stopServing?.(), 1_000),
        database: () => settleWithin(() => client.close(), 1_000),
        tracing: async () => (await tracing?.shutdown()) ?? 'done',
      },
      log,
    );
    process.exit(code);
  };
  if (config.transport === 'stdio') {
    startStdio(factory, () => void shutdown(0));
    log(`serving MCP on stdio (readOnly=${config.readOnly})`);
  } else {
    const http = await startHttpServer(config, factory, audit, metrics);
    if (metrics) log(`metrics on ${(await startMetricsListener(metrics.registry, config.monitoringServerHost, config.monitoringServerPort)).url}`);
    log(`serving MCP on ${http.url} (readOnly=${config.readOnly}, proxy auth ${config.proxySecret ? 'required' : 'DISABLED (lab)'})`);
    const stop = () => void shutdown(0, () => http.close());
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  }
}

/** The policy file, before any connection: a file that does not load is a configuration error (exit 2). */
function loadPolicy(config: Config): PolicyEngine | undefined {
  if (config.policyFile === '') return undefined;
  let engine: PolicyEngine;
  try {
    engine = PolicyEngine.fromFile(config.policyFile, ALL_TOOLS, config.readOnly);
  } catch (err) {
    log(`invalid configuration: policyFile: ${err instanceof PolicyLoadError ? err.message : (err as Error)?.name}`);
    process.exit(2);
  }
  log(`policy loaded: ${engine.ruleIds.length} rules`);
  // SIGHUP re-reads the file; one that does not load leaves the policy in force (and says why).
  process.on('SIGHUP', () => {
    const r = engine.reload();
    log(r.ok ? `policy reloaded: ${r.rules} rules` : `policy reload failed, previous policy kept: ${r.error}`);
  });
  return engine;
}

process.on('unhandledRejection', (err) => log(`unhandled rejection: ${(err as Error)?.name ?? 'error'}`));
main().catch((err: unknown) => {
  log(`fatal: ${(err as Error)?.name ?? 'error'}: ${redactText(String((err as Error)?.message ?? err))}`);
  process.exit(1);
});
