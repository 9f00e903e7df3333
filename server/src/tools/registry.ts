import type { ToolDefinition } from './tool.ts';
import listDatabases from './metadata/list-databases.ts';
import listCollections from './metadata/list-collections.ts';
import collectionIndexes from './metadata/collection-indexes.ts';
import collectionSchema from './metadata/collection-schema.ts';
import collectionStorageSize from './metadata/collection-storage-size.ts';
import dbStats from './metadata/db-stats.ts';
import explain from './metadata/explain.ts';
import find from './read/find.ts';
import count from './read/count.ts';
import aggregate from './read/aggregate.ts';
import insertMany from './create/insert-many.ts';
import createIndex from './create/create-index.ts';
import createCollection from './create/create-collection.ts';
import updateMany from './update/update-many.ts';
import renameCollection from './update/rename-collection.ts';
import deleteMany from './delete/delete-many.ts';
import dropCollection from './delete/drop-collection.ts';
import dropDatabase from './delete/drop-database.ts';
import dropIndex from './delete/drop-index.ts';

/** Every tool the server knows. There is deliberately no `connect` (the connection is fixed) and no `export`. */
export const ALL_TOOLS: readonly ToolDefinition[] = [
  listDatabases,
  listCollections,
  collectionIndexes,
  collectionSchema,
  collectionStorageSize,
  dbStats,
  explain,
  find,
  count,
  aggregate,
  insertMany,
  createIndex,
  createCollection,
  updateMany,
  renameCollection,
  deleteMany,
  dropCollection,
  dropDatabase,
  dropIndex,
];
