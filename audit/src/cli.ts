#!/usr/bin/env node
/** mcp-audit: see USAGE (args.ts). Exit 0 all applicable practices pass, 1 any fails, 2 usage error. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseCli, USAGE } from './args.ts';
import { audit, exitCodeOf } from './audit.ts';
import { toSarif } from './report/sarif.ts';
import { toTable } from './report/table.ts';

const VERSION = (JSON.parse(readFileSync(resolve(import.meta.dirname, '../package.json'), 'utf8')) as { version: string }).version;

async function main(argv: string[]): Promise<number> {
  const parsed = parseCli(argv);
  if (parsed.kind === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (parsed.kind === 'usage-error') {
    process.stderr.write(`mcp-audit: ${parsed.message}\n\n${USAGE}`);
    return 2;
  }
  const o = parsed.options;
  if (o.aggressive) process.stderr.write('mcp-audit: --aggressive: write-path probes and the request flood run; each is announced before it is sent\n');
  const report = await audit({ ...o, announce: (line) => process.stderr.write(`mcp-audit: ${line}\n`) });
  const out =
    o.format === 'json'
      ? `${JSON.stringify(report, null, 2)}\n`
      : o.format === 'sarif'
        ? `${JSON.stringify(toSarif(report, VERSION), null, 2)}\n`
        : toTable(report, { colour: process.stdout.isTTY === true && !process.env.NO_COLOR, width: process.stdout.columns });
  process.stdout.write(out);
  return exitCodeOf(report);
}

process.exitCode = await main(process.argv.slice(2)).catch((e: Error) => {
  process.stderr.write(`mcp-audit: ${e.message}\n`);
  return 1;
});
