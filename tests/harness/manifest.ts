/** Reads the stack manifest (docs/architecture.md): the only way tests and benchmarks find the stack. */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { StackManifest } from '../../scripts/stack/manifest.ts';
import { httpOk } from '../../scripts/stack/process.ts';

export type { StackManifest };

export const MANIFEST_PATH = resolve(import.meta.dirname, '../../.stack/manifest.json');

export async function readManifest(o: { requireHealthy?: boolean } = {}): Promise<StackManifest | undefined> {
  let m: StackManifest;
  try {
    m = JSON.parse(await readFile(MANIFEST_PATH, 'utf8')) as StackManifest;
  } catch {
    return undefined;
  }
  // The edge's metadata document is public: a 2xx there means nginx is up and routing.
  if (o.requireHealthy && !(await httpOk(`${m.edgeUrl}/.well-known/oauth-protected-resource`, { caFile: m.caFile }))) {
    return undefined;
  }
  return m;
}

/**
 * The manifest as it is on disk now. inject('manifest') is the one written at start; the supervisor rewrites the
 * file with a restarted tier's pid, so a suite that signals or measures a tier process reads this instead.
 */
export async function currentManifest(): Promise<StackManifest> {
  const now = await readManifest();
  if (!now) throw new Error('the manifest is gone: the stack stopped');
  return now;
}
