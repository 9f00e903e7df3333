/**
 * The stack fixture for the `stack` project: attaches to a running stack of the requested runtime when
 * .stack/manifest.json exists and its edge answers (so `npm start` + `vitest --project stack` iterates
 * fast), else starts one for this run and stops it afterwards. Suites receive the manifest via inject().
 * STACK_RUNTIME=native (default) runs scripts/stack; STACK_RUNTIME=compose drives compose.yaml through
 * testcontainers (compose-runtime.ts) and, without a Docker engine, is refused with the reason — never
 * silently swapped for the native runtime.
 */
import type { TestProject } from 'vitest/node';
import { readManifest, type StackManifest } from './manifest.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    manifest: StackManifest;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | void> {
  const requested = process.env.STACK_RUNTIME;
  const runtime = requested ?? 'native';
  if (runtime !== 'native' && runtime !== 'compose') {
    throw new Error(`STACK_RUNTIME=${runtime}: expected native or compose`);
  }
  const attached = await readManifest({ requireHealthy: true });
  // Unset STACK_RUNTIME attaches to whichever stack runs (as before); an explicit one only to its own kind.
  if (attached && (!requested || attached.runtime === runtime)) {
    process.stderr.write(`[stack] attaching to the running stack (${attached.runtime}, ${attached.isolation})\n`);
    project.provide('manifest', attached);
    return;
  }
  const started = Date.now();
  const stack = runtime === 'compose' ? await startCompose() : await startNative();
  process.stderr.write(`[stack] ${runtime} stack up in ${((Date.now() - started) / 1000).toFixed(1)} s (${stack.manifest.isolation})\n`);
  project.provide('manifest', stack.manifest);
  return async () => {
    await stack.stop();
  };
}

async function startNative() {
  const { startStack } = await import('../../scripts/stack/stack.ts');
  const { superviseStack } = await import('../../scripts/stack/supervisor.ts');
  const stack = await startStack({ quiet: true });
  // The same supervision as `npm start`: a tier a suite kills (tests/security/faults.test.ts) comes back alone.
  superviseStack(stack, {
    log: (l) => process.stderr.write(`[stack] ${l}\n`),
    giveUp: (why) => {
      process.stderr.write(`[stack] ${why}: stopping the stack\n`);
      void stack.stop();
    },
  });
  return stack;
}

async function startCompose() {
  const { dockerAvailable, dockerEndpoint, startComposeStack } = await import('./compose-runtime.ts');
  if (!(await dockerAvailable())) {
    throw new Error(`STACK_RUNTIME=compose needs a reachable Docker engine (none at ${dockerEndpoint()}); unset STACK_RUNTIME for the native runtime`);
  }
  return startComposeStack();
}
