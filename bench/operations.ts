/**
 * The operations measured on every path (GitHub issue #7), on the sample dataset's `shop.orders`:
 * a find with limit 10, a bounded $limit/$group aggregation, and list-collections. The MCP arguments are
 * the same for our server and the official one (both use the official tool names and argument shapes);
 * the driver variant is what the tools do underneath, and is the floor.
 */
import type { Db } from 'mongodb';

export const OPERATIONS = ['find', 'aggregate', 'list-collections'] as const;
export type Operation = (typeof OPERATIONS)[number];

export const COLLECTION = 'orders';
// Why no filter (issue #15): FerretDB's SQLite handler pushes no filter down — `{status: "shipped"}` (or even
// an `_id` match) reads all 20 000 orders per call (63 ms against 13 ms unfiltered, in one measurement): `find` measured FerretDB.
// An unfiltered find is pushed down as a LIMIT: the database's cost is about list-collections'.
const FILTER = {};
// Why $limit first (issue #15): FerretDB (the native runner's database) pushes no $match down, so a leading
// $match read all 20 000 orders per call (190 ms, against 6 ms for list-collections, in one measurement); a
// leading $limit is pushed down. No $match after it: FerretDB 1.24 answered [$limit, $match, $group] with no
// groups at all, so the aggregation would have measured an empty answer.
const PIPELINE = [{ $limit: 20 }, { $group: { _id: '$shipping.country', orders: { $sum: 1 }, total: { $sum: '$total' } } }];

function toolArgs(op: Operation, database: string): Record<string, unknown> {
  switch (op) {
    case 'find':
      return { database, collection: COLLECTION, filter: FILTER, limit: 10 };
    case 'aggregate':
      return { database, collection: COLLECTION, pipeline: PIPELINE };
    case 'list-collections':
      return { database };
  }
}

export function toolCall(op: Operation, database: string, extra: Record<string, string> = {}): { name: string; arguments: Record<string, unknown> } {
  return { name: op, arguments: { ...toolArgs(op, database), ...extra } };
}

/** The same work through the driver; results are fully read, as a tool must read them to answer. */
export async function driverCall(op: Operation, db: Db, timeoutMS: number): Promise<void> {
  switch (op) {
    case 'find':
      await db.collection(COLLECTION).find(FILTER, { timeoutMS }).limit(10).toArray();
      return;
    case 'aggregate':
      await db.collection(COLLECTION).aggregate(PIPELINE, { timeoutMS }).toArray();
      return;
    case 'list-collections':
      await db.listCollections({}, { nameOnly: true, timeoutMS }).toArray();
      return;
  }
}
