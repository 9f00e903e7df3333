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
    /** Where the suites read the spans the stack exported (the fixture's collector); '' when the fixture runs none. */
    traceQueryUrl: string;
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
    project.provide('traceQueryUrl', '');
    return;
  }
  const started = Date.now();
  const stack = runtime === 'compose' ? await startCompose() : await startNative();
  process.stderr.write(`[stack] ${runtime} stack up in ${((Date.now() - started) / 1000).toFixed(1)} s (${stack.manifest.isolation})\n`);
  project.provide('manifest', stack.manifest);
  project.provide('traceQueryUrl', stack.traceQueryUrl);
  return async () => {
    await stack.stop();
  };
}

async function startNative() {
  const { startStack } = await import('../../scripts/stack/stack.ts');
  const { superviseStack } = await import('../../scripts/stack/supervisor.ts');
  // The stack exports its spans to the fixture's own collector (unless the caller names one), so the span-join
  // proof runs in every `npm test`. It must listen where the tiers reach it: the host's end of the edge link.
  const ownCollector = !process.env.STACK_OTLP_TRACES_ENDPOINT;
  if (ownCollector) process.env.STACK_OTLP_TRACES_ENDPOINT = await collectorEndpoint();
  const stack = await startStack({ quiet: true });
  let traces: Awaited<ReturnType<typeof startTraceCollector>> | undefined;
  try {
    // After the stack: in netns mode the address exists once the stack has made its links. The few spans exported
    // before (health probes) are refused and dropped; the tiers' exporters give up on them within 2 s.
    if (ownCollector) traces = await startTraceCollector(process.env.STACK_OTLP_TRACES_ENDPOINT as string);
  } catch (e) {
    await stack.stop();
    throw e;
  }
  // The same supervision as `npm start`: a tier a suite kills (tests/security/faults.test.ts) comes back alone.
  superviseStack(stack, {
    log: (l) => process.stderr.write(`[stack] ${l}\n`),
    giveUp: (why) => {
      process.stderr.write(`[stack] ${why}: stopping the stack\n`);
      void stack.stop();
    },
  });
  return {
    manifest: stack.manifest,
    traceQueryUrl: traces?.queryUrl ?? '',
    // The collector outlives the tiers: their last spans have somewhere to go (and shutdown never waits on it anyway).
    stop: async () => {
      await stack.stop();
      await traces?.close();
    },
  };
}

/** The host's end of the edge link in netns mode (as the stack will choose), else loopback; a free port. */
async function collectorEndpoint(): Promise<string> {
  const { ADDR, netnsCapable } = await import('../../scripts/stack/netns.ts');
  const { freePort } = await import('../../scripts/stack/ports.ts');
  const host = (await netnsCapable()).ok ? ADDR.hostFromEdge : '127.0.0.1';
  return `http://${host}:${await freePort()}/v1/traces`;
}

/** The collector the tiers export to, and its query listener on loopback for the suites (otlp-collector.ts). */
async function startTraceCollector(endpoint: string): Promise<{ queryUrl: string; close(): Promise<void> }> {
  const { serveSpanQueries, startOtlpCollector } = await import('./otlp-collector.ts');
  const at = new URL(endpoint);
  const collector = await startOtlpCollector(at.hostname, Number(at.port));
  const queries = await serveSpanQueries(collector).catch(async (e: unknown) => {
    await collector.close();
    throw e;
  });
  return {
    queryUrl: queries.url,
    close: async () => {
      await queries.close();
      await collector.close();
    },
  };
}

async function startCompose() {
  const { dockerAvailable, dockerEndpoint, startComposeStack } = await import('./compose-runtime.ts');
  if (!(await dockerAvailable())) {
    throw new Error(`STACK_RUNTIME=compose needs a reachable Docker engine (none at ${dockerEndpoint()}); unset STACK_RUNTIME for the native runtime`);
  }
  return { ...(await startComposeStack()), traceQueryUrl: '' };
}
