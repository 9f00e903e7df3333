// A stdio server over an unconnected MongoClient, read-only: for protocol tests that need no database.
import { defaultConfig } from '../../../src/config/schema.ts';
import { createAuditSink } from '../../../src/audit/audit-log.ts';
import { stdioIdentity } from '../../../src/identity/identity.ts';
import { createServer } from '../../../src/server.ts';
import { startStdio } from '../../../src/transport/stdio.ts';
import { unconnectedMongo } from './in-memory.ts';

const config = defaultConfig({ readOnly: true });
const client = unconnectedMongo();
const audit = createAuditSink('stderr');
startStdio(
  () => createServer(config, { client, audit, defaultIdentity: stdioIdentity() }),
  () => void client.close().then(() => process.exit(0)),
);
