/**
 * Loads the sample dataset. Only missing documents are inserted (deterministic _ids, unordered insert,
 * duplicate-key errors ignored), so re-running never overwrites data and an interrupted load completes.
 */
import { MongoBulkWriteError, type Db } from 'mongodb';
import { SAMPLE_COUNTS, SAMPLE_INDEXES, sampleDocuments, type SampleCollection } from './sample-data.ts';

type Log = (line: string) => void;
const BATCH = 1_000;

async function insertMissing(db: Db, name: SampleCollection, docs: ReturnType<typeof sampleDocuments>[SampleCollection]): Promise<number> {
  let inserted = 0;
  for (let i = 0; i < docs.length; i += BATCH) {
    try {
      const r = await db.collection(name).insertMany(docs.slice(i, i + BATCH), { ordered: false });
      inserted += r.insertedCount;
    } catch (err) {
      // 11000 duplicate key: the document is already there, which is what we want.
      if (!(err instanceof MongoBulkWriteError)) throw err;
      const other = (Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors]).find((w) => w.code !== 11000);
      if (other) throw err;
      inserted += err.insertedCount;
    }
  }
  return inserted;
}

/** The exact count from collection statistics: far faster than countDocuments on FerretDB (no scan). */
async function countOf(db: Db, name: string): Promise<number> {
  try {
    const [row] = await db
      .collection(name)
      .aggregate([{ $collStats: { count: {} } }])
      .toArray();
    return typeof row?.count === 'number' ? row.count : 0;
  } catch {
    return 0; // no such collection yet (mongod: NamespaceNotFound); a real failure resurfaces on insert
  }
}

/** Returns the number of documents inserted per collection (all zero on a re-run). */
export async function ensureSampleData(db: Db, log: Log): Promise<Record<SampleCollection, number>> {
  const names = Object.keys(SAMPLE_COUNTS) as SampleCollection[];
  const result = { customers: 0, products: 0, orders: 0 };
  let docs: ReturnType<typeof sampleDocuments> | undefined;
  for (const name of names) {
    const present = await countOf(db, name);
    if (present < SAMPLE_COUNTS[name]) {
      docs ??= sampleDocuments();
      result[name] = await insertMissing(db, name, docs[name]);
      log(`loaded ${result[name]} document(s) into ${db.databaseName}.${name}`);
    }
    for (const ix of SAMPLE_INDEXES[name]) {
      await db.collection(name).createIndex(ix.key, { name: ix.name, ...(ix.unique ? { unique: true } : {}) });
    }
  }
  return result;
}
