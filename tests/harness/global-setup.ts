/**
 * The stack fixture for the `stack` project: attaches to a running stack when .stack/manifest.json
 * exists and its edge answers (so `npm start` + `vitest --project stack` iterates fast), else starts
 * the native stack for this run and stops it afterwards. Suites receive the manifest via inject().
 * Under STACK_RUNTIME=compose the same suites would drive compose.yaml; without a Docker engine
 * that runtime is refused with the reason, never silently swapped for the native one.
 */
import type { TestProject } from 'vitest/node';
import { readManifest, type StackManifest } from './manifest.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    manifest: StackManifest;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | void> {
  const runtime = process.env.STACK_RUNTIME ?? 'native';
  if (runtime !== 'native') {
    throw new Error(`STACK_RUNTIME=${runtime}: only the native runtime can run on this machine (no Docker engine); unset STACK_RUNTIME`);
  }
  const attached = await readManifest({ requireHealthy: true });
  if (attached) {
    process.stderr.write(`[stack] attaching to the running stack (${attached.runtime}, ${attached.isolation})\n`);
    project.provide('manifest', attached);
    return;
  }
  const { startStack } = await import('../../scripts/stack/stack.ts');
  const started = Date.now();
  const stack = await startStack({ quiet: true });
  process.stderr.write(`[stack] native stack up in ${((Date.now() - started) / 1000).toFixed(1)} s (${stack.manifest.isolation})\n`);
  project.provide('manifest', stack.manifest);
  return async () => {
    await stack.stop();
  };
}
