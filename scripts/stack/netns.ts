/**
 * The native network topology (docs/architecture.md "Native network topology"): one Linux network
 * namespace per trust zone, joined by veth pairs, with IP forwarding off everywhere so that a namespace
 * can reach only the addresses on its own links. The client namespace stands for the outside world and
 * is linked to the edge alone; the host (tests, runner) has a private link into each tier.
 */
import { run } from './process.ts';

export type Isolation = 'netns' | 'loopback';

export const NS = { client: 'mcps-client', edge: 'mcps-edge', kc: 'mcps-kc', db: 'mcps-db' } as const;
export type Zone = keyof typeof NS;

/** [zone A, interface in A, address in A, zone B (or host), interface in B, address in B]. /24 per link. */
type Link = readonly [Zone | 'host', string, string, Zone | 'host', string, string];
const LINKS: readonly Link[] = [
  ['client', 'c-edge', '10.88.1.1', 'edge', 'e-client', '10.88.1.2'],
  ['edge', 'e-kc', '10.88.2.1', 'kc', 'k-edge', '10.88.2.2'],
  ['edge', 'e-db', '10.88.3.1', 'db', 'd-edge', '10.88.3.2'],
  ['host', 'mcps-edge0', '10.88.0.1', 'edge', 'e-host', '10.88.0.2'],
  ['host', 'mcps-kc0', '10.88.4.1', 'kc', 'k-host', '10.88.4.2'],
  ['host', 'mcps-db0', '10.88.5.1', 'db', 'd-host', '10.88.5.2'],
];

/** Where each tier listens and how the others (and the host) address it. */
export const ADDR = {
  edgePublic: '10.88.1.2', // the client's view of the edge; the host reaches it by a /32 route
  edgeFromHost: '10.88.0.2',
  hostFromEdge: '10.88.0.1', // the host's end of the edge link: where the test fixture's trace collector listens
  kcFromEdge: '10.88.2.2',
  kcFromHost: '10.88.4.2',
  dbFromEdge: '10.88.3.2',
  dbFromHost: '10.88.5.2',
} as const;

const SUPERNET = '10.88.0.0/16';

const nsOf = (z: Zone | 'host'): string | null => (z === 'host' ? null : NS[z]);

/** Root and a working `ip netns add`; otherwise the stack falls back to loopback isolation. */
export async function netnsCapable(): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (process.env.MCP_STACK_ISOLATION === 'loopback') return { ok: false, reason: 'MCP_STACK_ISOLATION=loopback' };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'not running as root' };
  const probe = `mcps-probe-${process.pid}`;
  try {
    await run('ip', ['netns', 'add', probe]);
    await run('ip', ['netns', 'del', probe]);
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: `ip netns unavailable: ${(e as Error).message.split('\n')[0]}` };
  }
}

export async function listOurNamespaces(): Promise<string[]> {
  const out = await run('ip', ['netns', 'list']).catch(() => '');
  const ours = new Set<string>(Object.values(NS));
  return out
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => ours.has(n));
}

/** Kills whatever still runs inside our namespaces: only our tiers can live there. */
export async function killNamespacePids(): Promise<number> {
  let killed = 0;
  for (const ns of await listOurNamespaces()) {
    const pids = (await run('ip', ['netns', 'pids', ns]).catch(() => ''))
      .split('\n')
      .map(Number)
      .filter((p) => p > 0);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
        killed++;
      } catch {
        /* gone */
      }
    }
  }
  return killed;
}

/** Removes every namespace, host-side link and route we create; safe to run when none exist. */
export async function teardownNetns(): Promise<void> {
  await killNamespacePids();
  await run('ip', ['route', 'del', `${ADDR.edgePublic}/32`]).catch(() => undefined);
  await run('ip', ['route', 'del', 'unreachable', SUPERNET]).catch(() => undefined);
  for (const ns of await listOurNamespaces()) await run('ip', ['netns', 'del', ns]).catch(() => undefined);
  // Deleting a namespace destroys its veth ends and so their host peers; this catches half-made links.
  for (const [a, ifA, , b, ifB] of LINKS) {
    if (a === 'host') await run('ip', ['link', 'del', ifA]).catch(() => undefined);
    if (b === 'host') await run('ip', ['link', 'del', ifB]).catch(() => undefined);
  }
}

async function sh(netns: string | null, args: string[]): Promise<void> {
  await run('ip', args, { netns });
}

/** Builds the topology from scratch (after tearing down leftovers of a crashed run). */
export async function setupNetns(): Promise<void> {
  await teardownNetns();
  try {
    for (const ns of Object.values(NS)) {
      await run('ip', ['netns', 'add', ns]);
      await sh(ns, ['link', 'set', 'lo', 'up']);
      // A namespace that forwards would let the client route through the edge to the back tiers.
      await run('sysctl', ['-q', '-w', 'net.ipv4.ip_forward=0'], { netns: ns });
      // The topology is IPv4 only; without IPv6 no link-local path exists that the tests do not examine.
      for (const k of ['all', 'default']) await run('sysctl', ['-q', '-w', `net.ipv6.conf.${k}.disable_ipv6=1`], { netns: ns }).catch(() => undefined);
    }
    for (const [a, ifA, ipA, b, ifB, ipB] of LINKS) {
      const nsA = nsOf(a);
      const nsB = nsOf(b);
      await sh(null, ['link', 'add', ifA, ...(nsA ? ['netns', nsA] : []), 'type', 'veth', 'peer', 'name', ifB, ...(nsB ? ['netns', nsB] : [])]);
      await sh(nsA, ['addr', 'add', `${ipA}/24`, 'dev', ifA]);
      await sh(nsB, ['addr', 'add', `${ipB}/24`, 'dev', ifB]);
      await sh(nsA, ['link', 'set', ifA, 'up']);
      await sh(nsB, ['link', 'set', ifB, 'up']);
    }
    // The host uses the same public edge address as the client, so one issuer URL serves both.
    await sh(null, ['route', 'replace', `${ADDR.edgePublic}/32`, 'via', ADDR.edgeFromHost]);
    // Without this, a host-side probe of an internal address (10.88.2.2, 10.88.3.2) would leave by the
    // default route to the real network instead of failing here.
    await sh(null, ['route', 'replace', 'unreachable', SUPERNET]);
  } catch (e) {
    await teardownNetns();
    throw e;
  }
}
