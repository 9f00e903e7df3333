/**
 * The operations measured on every path (GitHub issue #7), on the sample dataset's `shop.orders`:
 * a filtered find with limit 10, a bounded $match/$group aggregation, and list-collections. The MCP arguments are
 * the same for our server and the official one (both use the official tool names and argument shapes);
 * the driver variant is what the tools do underneath, and is the floor.
 */
import type { Db } from 'mongodb';

export const OPERATIONS = ['find', 'aggregate', 'list-collections'] as const;
export type Operation = (typeof OPERATIONS)[number];

export const COLLECTION = 'orders';
const FILTER = { status: 'shipped' };
// Why the $limit: FerretDB (the native runner's database) pushes no $match down and would scan all 20 000
// orders per call (seconds on this machine); bounded work keeps the measurement about the path, not the engine.
const PIPELINE = [
  { $match: { status: 'shipped' } },
  { $limit: 50 },
  { $group: { _id: '$shipping.country', orders: { $sum: 1 }, total: { $sum: '$total' } } },
];

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
