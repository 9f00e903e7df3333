import { describe, expect, it } from 'vitest';
import { usesCollectionScan } from '../../src/tools/index-check.ts';

describe('index check on explain output', () => {
  it('detects a COLLSCAN winning plan from mongod', () => {
    expect(usesCollectionScan({ queryPlanner: { winningPlan: { stage: 'COLLSCAN', filter: {} } } })).toBe(true);
  });

  it('detects a COLLSCAN below other stages and inside aggregation cursor stages', () => {
    const agg = { stages: [{ $cursor: { queryPlanner: { winningPlan: { stage: 'PROJECTION_SIMPLE', inputStage: { stage: 'COLLSCAN' } } } } }, { $group: {} }] };
    expect(usesCollectionScan(agg)).toBe(true);
  });

  it('accepts an IXSCAN plan even when a rejected plan scanned the collection', () => {
    const explain = {
      queryPlanner: { winningPlan: { stage: 'FETCH', inputStage: { stage: 'IXSCAN', indexName: 'email_1' } }, rejectedPlans: [{ stage: 'COLLSCAN' }] },
    };
    expect(usesCollectionScan(explain)).toBe(false);
  });

  it('detects full-table scans in FerretDB backend plans (SQLite and PostgreSQL)', () => {
    expect(usesCollectionScan({ queryPlanner: { Plan: ['id=2 parent=0 notused=0 detail=SCAN customers_c09344de'] } })).toBe(true);
    expect(usesCollectionScan({ queryPlanner: { Plan: [{ Plan: { 'Node Type': 'Seq Scan' }, x: 'Seq Scan on t' }] } })).toBe(true);
    expect(usesCollectionScan({ queryPlanner: { Plan: ['id=2 parent=0 notused=0 detail=SEARCH customers USING INDEX x (k=?)'] } })).toBe(false);
  });

  it('does not mistake the echoed command filter for a plan', () => {
    expect(usesCollectionScan({ command: { filter: { s: 'SCAN x' } }, queryPlanner: { winningPlan: { stage: 'IXSCAN' } } })).toBe(false);
  });
});
