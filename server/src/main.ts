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
  const audit = createAuditSink(config.auditLog);
  let client;
  try {
    client = await connectDatabase(config);
  } catch (err) {
    log(`cannot connect to the database: ${redactText((err as Error).message, secrets)}`);
    process.exit(1);
  }
  if (config.readOnly) {
    const decision = await checkPrivileges(client, config.maxTimeMS);
    if (decision.kind === 'can-write' && !config.allowWritePrivilegesInReadOnly) {
      log(`${WRITE_CREDENTIALS_MESSAGE} (${decision.users.join(', ')}: ${decision.actions.join(', ')}). Refusing to start.`);
      await client.close();
      process.exit(3);
    }
    if (decision.kind === 'can-write') log(`WARNING: ${WRITE_CREDENTIALS_MESSAGE}; starting anyway (allowWritePrivilegesInReadOnly)`);
    if (decision.kind === 'unknown') log(`WARNING: the read-only privilege check could not be performed: ${decision.reason}. Read-only mode is enforced by this server only.`);
    if (decision.kind === 'read-only') log('privilege check: the database user holds no write action');
  }
  const defaultIdentity = config.transport === 'stdio' ? stdioIdentity() : anonymousIdentity();
  const factory = () => createServer(config, { client, audit, defaultIdentity });
  const shutdown = async (code: number) => {
    await client.close().catch(() => undefined);
    process.exit(code);
  };
  if (config.transport === 'stdio') {
    startStdio(factory, () => void shutdown(0));
    log(`serving MCP on stdio (readOnly=${config.readOnly})`);
  } else {
    const http = await startHttpServer(config, factory, audit);
    log(`serving MCP on ${http.url} (readOnly=${config.readOnly}, proxy auth ${config.proxySecret ? 'required' : 'DISABLED (lab)'})`);
    const stop = () => void http.close().then(() => shutdown(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  }
}

process.on('unhandledRejection', (err) => log(`unhandled rejection: ${(err as Error)?.name ?? 'error'}`));
main().catch((err: unknown) => {
  log(`fatal: ${(err as Error)?.name ?? 'error'}: ${redactText(String((err as Error)?.message ?? err))}`);
  process.exit(1);
});
