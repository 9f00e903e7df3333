/**
 * State at rest: `.stack/` holds the realm's signing key (Keycloak's H2 database), client secrets, database
 * files, private keys, the manifest, audit logs and request lines. None of it may be readable by another
 * local user: a world-readable Keycloak database lets anyone on the host forge a read-write token. The rule
 * is one and simple: every directory is 0700, every file has no group or other bit. The runner applies it
 * before any tier starts (tightening what an older version left behind) and the state-at-rest suite walks
 * the running stack's tree with the same walk.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Group and other bits: the part of a mode that another local user could use. */
const SHARED_BITS = 0o077;

export interface ExposedEntry {
  path: string;
  kind: 'dir' | 'file' | 'other';
  mode: number;
}

/** Creates `dir` (and missing parents) as 0700 and makes it 0700 if it existed. */
export function privateDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  return dir;
}

/**
 * Every entry under `root` (root included) that another user could read, write or traverse. Symlinks are
 * not followed: Keycloak's home links to the shared, secret-free distribution in the cache.
 */
export function exposedEntries(root: string): ExposedEntry[] {
  const out: ExposedEntry[] = [];
  // Iterative, so a deep tree cannot exhaust the stack.
  const pending = [root];
  while (pending.length > 0) {
    const path = pending.pop() as string;
    let st;
    try {
      st = lstatSync(path);
    } catch {
      continue; // removed while we walked (a tier rotating a file)
    }
    if (st.isSymbolicLink()) continue;
    const kind = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
    if ((st.mode & SHARED_BITS) !== 0) out.push({ path, kind, mode: st.mode & 0o7777 });
    if (kind === 'dir') for (const name of readdirSync(path)) pending.push(join(path, name));
  }
  return out;
}

/** Removes group and other bits from everything under `root`; returns how many entries it changed. */
export function tightenTree(root: string): number {
  const exposed = exposedEntries(root);
  for (const e of exposed) chmodSync(e.path, e.kind === 'dir' ? 0o700 : e.mode & ~SHARED_BITS);
  return exposed.length;
}
