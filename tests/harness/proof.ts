/** A security test records what it attacked and what it saw; the summary reporter prints the table. */
import type { TestContext } from 'vitest';

export interface Proof {
  attack: string;
  expected: string;
  observed: string;
}

declare module 'vitest' {
  interface TaskMeta {
    proof?: Proof;
  }
}

export function recordProof(ctx: TestContext, proof: Proof): void {
  ctx.task.meta.proof = proof;
}
