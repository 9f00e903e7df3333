/**
 * Command-line options of `npm run bench`. The budgets keep every run bounded: the default run finishes
 * within 5 minutes, `--quick` (a smoke test of the whole pipeline) within 60 s.
 */
import { parseArgs } from 'node:util';

export interface BenchOptions {
  quick: boolean;
  coldStart: boolean;
  rounds: number;
  concurrencies: number[];
  warmupMs: number;
  phaseMs: number;
  maxCallsPerPhase: number;
  /** A call slower than this is an error (counted), so a stalled tier cannot stretch the run. */
  callTimeoutMs: number;
  /** The measurement loop stops starting new phases after this, whatever is left. */
  measureBudgetMs: number;
  verifierMs: number;
  officialPort: number;
  paths: string[] | undefined;
}

const HELP = `usage: npm run bench -- [--quick] [--coldStart] [--paths driver,direct-http,...] [--officialPort 3911]
  --quick       smoke run (≤ 60 s): one round, short phases, 1 and 16 clients
  --coldStart   time \`npm start -- --detach\` first (only when no stack is running; the bench then stops it)
  --paths       only these paths: driver, direct-http, direct-stdio, secure, official-http, official-stdio`;

export function parseOptions(argv: string[]): BenchOptions {
  let v;
  try {
    v = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean', default: false },
        coldStart: { type: 'boolean', default: false },
        paths: { type: 'string' },
        officialPort: { type: 'string', default: '3911' },
        help: { type: 'boolean', default: false },
      },
    }).values;
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n${HELP}\n`);
    process.exit(2);
  }
  if (v.help) {
    process.stdout.write(`${HELP}\n`);
    process.exit(0);
  }
  const port = Number(v.officialPort);
  if (!Number.isInteger(port) || port < 1024 || port > 65535) {
    process.stderr.write('bench: --officialPort: must be an integer port 1024-65535\n');
    process.exit(2);
  }
  const quick = v.quick ?? false;
  return {
    quick,
    coldStart: v.coldStart ?? false,
    rounds: quick ? 1 : 3,
    // Quick skips 64 clients: with a database that serialises queries, its tail alone costs seconds per phase.
    concurrencies: quick ? [1, 16] : [1, 16, 64],
    warmupMs: quick ? 50 : 300,
    phaseMs: quick ? 150 : 1000,
    maxCallsPerPhase: 50_000,
    callTimeoutMs: quick ? 4_000 : 10_000,
    measureBudgetMs: quick ? 35_000 : 240_000,
    verifierMs: quick ? 1_000 : 5_000,
    officialPort: port,
    paths: v.paths?.split(',').map((s) => s.trim()).filter(Boolean),
  };
}
