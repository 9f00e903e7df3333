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
  /** Untimed calls per path and operation before the first round (JIT warm-up of a fresh server). */
  pathWarmupMs: number;
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

const HELP = `usage: npm run bench -- [--quick] [--coldStart] [--paths driver,direct-http,...] [--officialPort 3911] [--phaseMs N] [--rounds N]
  --quick       smoke run (≤ 60 s): one round, short phases, 1 and 16 clients
  --phaseMs     measured time per phase (default 1000, quick 150); --rounds: rounds (default 3, quick 1)
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
        phaseMs: { type: 'string' },
        rounds: { type: 'string' },
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
  const positive = (name: string, raw: string | undefined, fallback: number, max: number): number => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > max) {
      process.stderr.write(`bench: --${name}: must be an integer 1-${max}\n`);
      process.exit(2);
    }
    return n;
  };
  const phaseMs = positive('phaseMs', v.phaseMs, quick ? 150 : 1000, 10_000);
  const rounds = positive('rounds', v.rounds, quick ? 1 : 3, 10);
  return {
    quick,
    coldStart: v.coldStart ?? false,
    rounds,
    // Quick skips 64 clients: with a database that serialises queries, its tail alone costs seconds per phase.
    concurrencies: quick ? [1, 16] : [1, 16, 64],
    warmupMs: quick ? 50 : 300,
    pathWarmupMs: quick ? 700 : 2_000,
    phaseMs,
    maxCallsPerPhase: 50_000,
    callTimeoutMs: quick ? 4_000 : 10_000,
    // Room for the phases asked for: 6 paths × 3 operations × the concurrencies, twice (warm-up), plus set-up.
    measureBudgetMs: Math.max(quick ? 35_000 : 240_000, rounds * 6 * 3 * (quick ? 2 : 3) * (phaseMs + (quick ? 50 : 300)) * 2),
    verifierMs: quick ? 1_000 : 5_000,
    officialPort: port,
    paths: v.paths
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  };
}
