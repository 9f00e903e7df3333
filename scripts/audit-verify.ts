/**
 * `npm run audit:verify -- <file...>`: checks the hash chain of audit logs (the MCP server's and the
 * verifier's; rotated files oldest first). Exit 0: intact (prints the record count and the chain's head,
 * to keep elsewhere); 1: the first broken link, as file:line and why; 2: usage, or a file cannot be read.
 */
import { accessSync, constants } from 'node:fs';
import { verifyChain } from '../server/src/audit/verify-chain.ts';

const files = process.argv.slice(2);
if (files.length === 0 || files.some((f) => f.startsWith('-'))) {
  process.stderr.write('usage: npm run audit:verify -- <audit-log> [<next-audit-log> ...]   (rotated files oldest first)\n');
  process.exit(2);
}
for (const f of files) {
  try {
    accessSync(f, constants.R_OK);
  } catch {
    process.stderr.write(`audit:verify: cannot read ${f}\n`);
    process.exit(2);
  }
}
const report = await verifyChain(files);
if (!report.ok) {
  process.stdout.write(`BROKEN ${report.file}:${report.line}: ${report.reason}\n`);
  process.exit(1);
}
const from = {
  genesis: 'from its first record',
  continued: 'continuing an earlier file not given',
  'after-unchained': `after ${report.unchained} older records without a chain (not protected)`,
}[report.start];
process.stdout.write(`ok: ${report.records} records in ${report.files} file(s), chained ${from}; head ${report.head ?? '(empty)'}\n`);
