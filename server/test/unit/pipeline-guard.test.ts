import { describe, expect, it } from 'vitest';
import { inspect, MAX_DEPTH } from '../../src/guard/pipeline-guard.ts';

const ops = (v: unknown) => inspect(v).writeStages.map((f) => f.operator);
const js = (v: unknown) => inspect(v).serverSideJs.map((f) => f.operator);

describe('pipeline guard: write stages', () => {
  it('finds $out and $merge as top-level stages', () => {
    expect(ops([{ $match: {} }, { $out: 'x' }])).toEqual(['$out']);
    expect(ops([{ $merge: { into: 'x' } }])).toEqual(['$merge']);
  });

  it('finds a write stage inside a $facet branch', () => {
    expect(ops([{ $facet: { a: [{ $match: {} }], b: [{ $merge: 'x' }] } }])).toEqual(['$merge']);
  });

  it('finds a write stage inside a $lookup sub-pipeline and a $unionWith pipeline', () => {
    expect(ops([{ $lookup: { from: 'o', as: 'o', pipeline: [{ $out: 'x' }] } }])).toEqual(['$out']);
    expect(ops([{ $unionWith: { coll: 'o', pipeline: [{ $facet: { z: [{ $out: 'y' }] } }] } }])).toEqual(['$out']);
  });

  it('finds write stages nested several levels deep in arrays of arrays', () => {
    expect(ops({ a: [[[{ b: [{ $merge: {} }] }]]] })).toEqual(['$merge']);
  });

  it('matches operator keys case-insensitively and with surrounding spaces', () => {
    expect(ops([{ $OUT: 'x' }, { ' $merge ': 'y' }])).toEqual(['$OUT', ' $merge ']);
  });

  it('reports every occurrence with its path', () => {
    const found = inspect([{ $out: 'a' }, { $facet: { f: [{ $merge: 'b' }] } }], 'pipeline').writeStages;
    expect(found).toEqual([
      { operator: '$out', path: 'pipeline[0].$out' },
      { operator: '$merge', path: 'pipeline[1].$facet.f[0].$merge' },
    ]);
  });

  it('ignores "$out" appearing as a string value rather than a key', () => {
    expect(ops([{ $match: { stage: '$out' } }, { $project: { a: '$merge' } }])).toEqual([]);
  });

  it('accepts an ordinary read pipeline', () => {
    expect(inspect([{ $match: { a: 1 } }, { $group: { _id: '$a', n: { $sum: 1 } } }, { $sort: { n: -1 } }])).toEqual({
      writeStages: [],
      serverSideJs: [],
      namespaceStages: [],
      clusterStages: [],
      tooDeep: false,
    });
  });
});

describe('pipeline guard: server-side JavaScript', () => {
  it('finds $where in a filter, also inside $and/$or arrays', () => {
    expect(js({ $where: 'sleep(1)' })).toEqual(['$where']);
    expect(js({ $or: [{ a: 1 }, { $and: [{ $where: 'true' }] }] })).toEqual(['$where']);
  });

  it('finds $function inside $expr and $accumulator inside $group', () => {
    expect(js([{ $match: { $expr: { $function: { body: 'x', args: [], lang: 'js' } } } }])).toEqual(['$function']);
    expect(js([{ $group: { _id: null, x: { $accumulator: { init: 'f' } } } }])).toEqual(['$accumulator']);
  });

  it('finds JavaScript in $lookup sub-pipelines and $facet branches', () => {
    expect(js([{ $lookup: { from: 'x', as: 'y', pipeline: [{ $addFields: { z: { $function: {} } } }] } }])).toEqual(['$function']);
    expect(js([{ $facet: { a: [{ $match: { $where: 'x' } }] } }])).toEqual(['$where']);
  });

  it('treats the Extended JSON $code type and BSON Code values as JavaScript', () => {
    expect(js({ a: { $code: 'function(){}' } })).toEqual(['$code']);
    expect(js({ a: { _bsontype: 'Code', code: 'x' } })).toEqual(['Code']);
  });
});

describe('pipeline guard: robustness', () => {
  it('flags input nested deeper than the limit instead of walking it', () => {
    let deep: unknown = { a: 1 };
    for (let i = 0; i < MAX_DEPTH + 5; i++) deep = { n: deep };
    expect(inspect(deep).tooDeep).toBe(true);
  });

  it('survives cyclic objects', () => {
    const a: Record<string, unknown> = { $out: 'x' };
    a.self = a;
    expect(ops(a)).toEqual(['$out']);
  });

  it('ignores scalars and null', () => {
    expect(inspect(null).writeStages).toEqual([]);
    expect(inspect('$out').writeStages).toEqual([]);
    expect(inspect(42).serverSideJs).toEqual([]);
  });
});
