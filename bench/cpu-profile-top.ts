/**
 * A V8 `.cpuprofile` as text, for a PR description: the top frames by self time, and self time grouped by
 * where the code lives (our server's modules, each npm package, Node's internals, GC).
 *
 *   node bench/cpu-profile-top.ts <file.cpuprofile> [--top 25]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
if (!positionals[0]) {
  process.stderr.write('usage: node bench/cpu-profile-top.ts <file.cpuprofile> [--top 25]\n');
  process.exit(2);
}
const p = JSON.parse(readFileSync(positionals[0], 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
for (const [i, id] of p.samples.entries()) selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const idle = [...selfUs].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((a, [, t]) => a + t, 0);
const busy = total - idle;

function where(url: string, fn: string): string {
  if (fn.startsWith('(')) return fn; // (garbage collector), (program), (idle)
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const ours = /\/work\/[^/]+\/(.+)\/[^/]+$/.exec(url) ?? /\/((?:server|nginx)\/src\/[^/]+(?:\/[^/]+)?)\//.exec(url);
  if (ours) return ours[1]!;
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  return url === '' ? '(native)' : url;
}
const frames = new Map<string, number>();
const groups = new Map<string, number>();
for (const [id, t] of selfUs) {
  const f = byId.get(id)!.callFrame;
  if (f.functionName === '(idle)') continue;
  const short = f.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/\/work\/[^/]+\//, '');
  const key = `${f.functionName || '(anonymous)'}  ${short}${f.url ? `:${f.lineNumber + 1}` : ''}`;
  frames.set(key, (frames.get(key) ?? 0) + t);
  const g = where(f.url, f.functionName);
  groups.set(g, (groups.get(g) ?? 0) + t);
}
const pct = (t: number) => `${((100 * t) / busy).toFixed(1).padStart(5)}%`;
const top = Number(values.top);
console.log(`profile: ${((p.endTime - p.startTime) / 1e6).toFixed(1)} s wall, ${(busy / 1e6).toFixed(1)} s on CPU (idle excluded)\n`);
console.log('self time by where the code lives:');
for (const [g, t] of [...groups].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`  ${pct(t)}  ${g}`);
console.log(`\ntop ${top} frames by self time:`);
for (const [k, t] of [...frames].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(t)}  ${k}`);
