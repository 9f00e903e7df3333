/**
 * The run as data: bench/results/<timestamp>.json (gitignored) holds every summary, the targets, memory,
 * the verifier rate, the machine's load and the notes a reader needs to judge the numbers.
 */
import { cpus, loadavg } from 'node:os';
import { writeFileSync } from 'node:fs';
import type { StackManifest } from '../tests/harness/manifest.ts';
import type { Measurement } from './measure.ts';
import type { TierMemory } from './memory.ts';
import type { BenchOptions } from './options.ts';
import { OPERATIONS } from './operations.ts';
import type { BenchPath } from './paths.ts';
import { summarize } from './stats.ts';
import type { TargetResult } from './targets-check.ts';
import type { cacheHitRate, VerifierRate } from './verifier-rate.ts';

export interface RunRecord {
  startedAt: string;
  loadAtStart: number[];
  options: BenchOptions;
  manifest: StackManifest;
  paths: BenchPath[];
  probes: Record<string, unknown>;
  measurement: Measurement;
  verifier: VerifierRate | { error: string } | undefined;
  tokenCache: ReturnType<typeof cacheHitRate>;
  memory: TierMemory[];
  coldStart: { ms: number } | { error: string } | { skipped: string } | undefined;
  targets: TargetResult[];
}

export const NOTES = [
  'The raw-driver floor uses the admin user from the manifest (database.uri) from the host namespace; MCP paths use the reader user from the edge namespace.',
  'stdio servers are one session each: their N concurrent clients are N in-flight requests on that session. HTTP paths open N MCP sessions.',
  'Latency is per tools/call (or driver call), measured by the client, warm-up excluded; percentiles are nearest-rank over all rounds.',
  "The official server's find also runs countDocuments(filter) alongside the query (capped by its queryCountMaxTimeMsCap); ours reads only the documents it returns (cap + 1 when the cap cuts). On FerretDB a count is a collection scan.",
  'Only whole rounds run (every path gets the same share); the first round always completes, later ones only if they fit the time budget.',
  'The load generator shares the machine (2 cores) with every tier; only one phase runs at a time.',
  'Verifier rate: nginx/verifier validation code in-process (signature + claims + route rights), JWKS cached, token cache bypassed, per CPU-second of one thread.',
];

export function writeRecord(file: string, r: RunRecord): void {
  const cells = r.paths.flatMap((p) =>
    OPERATIONS.flatMap((op) =>
      r.options.concurrencies.flatMap((c) => {
        const s = r.measurement.cells.get(`${p.id}|${op}|${c}`);
        return s ? [{ path: p.id, op, concurrency: c, ...summarize(s), errorSamples: s.errorSamples }] : [];
      }),
    ),
  );
  const m = r.manifest;
  const doc = {
    startedAt: r.startedAt,
    finishedAt: new Date().toISOString(),
    machine: { cpus: cpus().length, loadAtStart: r.loadAtStart, loadAtEnd: loadavg(), node: process.version },
    stack: { runtime: m.runtime, isolation: m.isolation, database: { kind: m.database.kind, name: m.database.name } },
    options: r.options,
    notes: NOTES,
    paths: r.paths.map((p) => ({ id: p.id, label: p.label, netns: p.netns })),
    probes: r.probes,
    roundsCompleted: r.measurement.roundsCompleted,
    aborted: r.measurement.aborted ?? null,
    measureSeconds: Math.round(r.measurement.elapsedMs / 1000),
    failures: Object.fromEntries(r.measurement.failures),
    cells,
    verifier: r.verifier,
    verifierTokenCache: r.tokenCache,
    memoryMiB: r.memory,
    coldStart: r.coldStart,
    targets: r.targets,
  };
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
}
