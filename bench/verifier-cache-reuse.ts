/**
 * What the verifier's result cache (nginx/verifier/src/jwt/token-cache.ts) gives on realistic token reuse
 * (issue #15). The bench's secure path shares one agent token across every session at hundreds of calls per
 * second, so its hit rate (99.9 %) is the best case. Here the real TokenCache replays call patterns on a
 * virtual clock: tokens live 300 s (the realm's accessTokenLifespan) and are replaced when they expire; an
 * entry lives at most 30 s (its TTL cap: a removed signing key stops being honoured within that). The cost
 * per call is modelled from the verifier's measured miss and hit costs (`npm run bench` prints both).
 *
 *   node bench/verifier-cache-reuse.ts [--missUs 184] [--hitUs 3.2]
 */
import { parseArgs } from 'node:util';
import { TokenCache } from '../nginx/verifier/src/jwt/token-cache.ts';
import type { AccessToken } from '../nginx/verifier/src/jwt/verify.ts';

const { values } = parseArgs({ options: { missUs: { type: 'string', default: '184' }, hitUs: { type: 'string', default: '3.2' } } });
const [MISS_US, HIT_US] = [Number(values.missUs), Number(values.hitUs)];
const TOKEN_LIFETIME_S = 300;
const TTL_MS = 30_000;
const HOUR_MS = 3_600_000;

interface Pattern {
  name: string;
  /** Callers, each with tokens of its own; `gapMs` between one caller's calls. */
  callers: number;
  gapMs: (i: number) => number;
}

const PATTERNS: Pattern[] = [
  { name: 'agent loop: 1 call/s per caller, 16 callers', callers: 16, gapMs: () => 1_000 },
  { name: 'busy agent: 10 calls/s, 1 caller', callers: 1, gapMs: () => 100 },
  { name: 'interactive: a call every 5-25 s (think time), 50 users', callers: 50, gapMs: (i) => 5_000 + ((i * 7919) % 20_000) },
  { name: 'bursty: 20 calls 200 ms apart, then 60 s idle, 20 callers', callers: 20, gapMs: (i) => (i % 20 === 19 ? 60_000 : 200) },
  { name: 'sparse: a call per minute, 100 callers', callers: 100, gapMs: () => 60_000 },
];

/** One hour of the pattern: hit rate and modelled verifier CPU per call. */
function replay(p: Pattern): { calls: number; hitRate: number; usPerCall: number } {
  let now = 0;
  const cache = new TokenCache(TTL_MS, () => now);
  const events: { at: number; caller: number; i: number }[] = [];
  for (let c = 0; c < p.callers; c++) {
    // Callers start spread over the first minute; each call's time is the previous one's plus the gap.
    for (let at = (c * 60_000) / p.callers, i = 0; at < HOUR_MS; at += p.gapMs(i + c), i++) events.push({ at, caller: c, i });
  }
  events.sort((a, b) => a.at - b.at);
  let hits = 0;
  for (const e of events) {
    now = e.at;
    // A caller's token for this moment: a new one every TOKEN_LIFETIME_S (its client refreshes it when it expires).
    const issued = Math.floor(e.at / (TOKEN_LIFETIME_S * 1000));
    const key = `${e.caller}:${issued}`;
    if (cache.get(key)) hits++;
    else cache.set(key, { exp: ((issued + 1) * TOKEN_LIFETIME_S * 1000) / 1000 } as AccessToken);
  }
  const hitRate = hits / events.length;
  return { calls: events.length, hitRate, usPerCall: hitRate * HIT_US + (1 - hitRate) * MISS_US };
}

console.log(
  `verifier result cache on call patterns (1 h each; token lifetime ${TOKEN_LIFETIME_S} s, cache TTL ${TTL_MS / 1000} s; miss ${MISS_US} µs, hit ${HIT_US} µs of verifier CPU)`,
);
for (const p of PATTERNS) {
  const r = replay(p);
  console.log(
    `  ${p.name.padEnd(60)} ${(r.hitRate * 100).toFixed(1).padStart(5)} % hits  ${r.usPerCall.toFixed(0).padStart(4)} µs/call (${(MISS_US / r.usPerCall).toFixed(1)}× less than no cache)  ${r.calls} calls`,
  );
}
