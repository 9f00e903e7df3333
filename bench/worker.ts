/**
 * A load-generating worker: `node bench/worker.ts '<path spec JSON>'`, run where its path's server is
 * reachable (inside the edge namespace for direct/stdio/official paths). It holds one path's clients and
 * executes the coordinator's commands one at a time (protocol.ts), replying on stdout.
 */
import { createInterface } from 'node:readline';
import { runPhase } from './load.ts';
import { OPERATIONS } from './operations.ts';
import type { Command, PathSpec, Reply } from './protocol.ts';
import { createTarget } from './targets.ts';

const spec = JSON.parse(process.argv[2] ?? '{}') as PathSpec;
const target = await createTarget(spec);

function reply(r: Reply): void {
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

async function execute(c: Command): Promise<unknown> {
  switch (c.cmd) {
    case 'open':
      return target.open(c.concurrency, c.callTimeoutMs).then(() => null);
    case 'probe': {
      // Per operation: one that fails (e.g. the official server's find, slow on FerretDB) is reported and then
      // measured as errors; only a path on which every operation fails is not measured at all.
      const out: Record<string, string> = {};
      let failed = 0;
      for (const op of OPERATIONS) {
        const t0 = performance.now();
        try {
          out[op] = (await target.probe(op)).replace(/\s+/g, ' ').slice(0, 120);
        } catch (e) {
          failed++;
          out[op] = `FAILED after ${Math.round(performance.now() - t0)} ms: ${(e as Error).message.slice(0, 200)}`;
        }
      }
      if (failed === OPERATIONS.length) throw new Error(`every operation failed: ${JSON.stringify(out)}`);
      return out;
    }
    case 'run':
      return runPhase(target.callers(c.op), c.warmup, c.measure);
    case 'close':
      return target.close().then(() => null);
    case 'pids':
      return target.pids();
    case 'exit':
      await target.dispose().catch(() => undefined);
      return null;
  }
}

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const c = JSON.parse(line) as Command;
  try {
    reply({ bench: c.id, ok: true, result: await execute(c) });
  } catch (e) {
    reply({ bench: c.id, ok: false, error: e instanceof Error ? e.message.slice(0, 300) : String(e) });
  }
  if (c.cmd === 'exit') break;
}
await target.dispose().catch(() => undefined);
process.exit(0);
