import { describe, expect, it } from 'vitest';
import { decidePrivileges } from '../../src/guard/privileges.ts';

// Shapes as mongod 8.0 returns them for `connectionStatus` with `showPrivileges: true`.
const readUser = {
  authInfo: {
    authenticatedUsers: [{ user: 'mcp_reader', db: 'admin' }],
    authenticatedUserRoles: [{ role: 'read', db: 'shop' }],
    authenticatedUserPrivileges: [
      {
        resource: { db: 'shop', collection: '' },
        actions: ['changeStream', 'collStats', 'dbHash', 'dbStats', 'find', 'killCursors', 'listCollections', 'listIndexes', 'listSearchIndexes'],
      },
      {
        resource: { db: 'shop', collection: 'system.js' },
        actions: ['changeStream', 'collStats', 'dbHash', 'dbStats', 'find', 'killCursors', 'listCollections', 'listIndexes'],
      },
    ],
  },
  ok: 1,
};

const readWriteUser = {
  authInfo: {
    authenticatedUsers: [{ user: 'mcp_writer', db: 'admin' }],
    authenticatedUserRoles: [{ role: 'readWrite', db: 'shop' }],
    authenticatedUserPrivileges: [
      {
        resource: { db: 'shop', collection: '' },
        actions: [
          'changeStream',
          'collStats',
          'convertToCapped',
          'createCollection',
          'createIndex',
          'createSearchIndexes',
          'dbHash',
          'dbStats',
          'dropCollection',
          'dropIndex',
          'dropSearchIndex',
          'find',
          'insert',
          'killCursors',
          'listCollections',
          'listIndexes',
          'listSearchIndexes',
          'remove',
          'renameCollectionSameDB',
          'update',
          'updateSearchIndex',
        ],
      },
    ],
  },
  ok: 1,
};

describe('read-only start-up privilege decision', () => {
  it('accepts a user holding only the read role', () => {
    expect(decidePrivileges(readUser)).toEqual({ kind: 'read-only' });
  });

  it('refuses a user holding readWrite and names the write actions', () => {
    const d = decidePrivileges(readWriteUser);
    expect(d.kind).toBe('can-write');
    if (d.kind !== 'can-write') return;
    expect(d.actions).toEqual(
      expect.arrayContaining(['insert', 'update', 'remove', 'createCollection', 'dropCollection', 'createIndex', 'renameCollectionSameDB']),
    );
    expect(d.actions).not.toContain('find');
    expect(d.users).toEqual(['mcp_writer@admin']);
  });

  it('refuses root-like users holding anyAction on anyResource', () => {
    const root = {
      authInfo: {
        authenticatedUsers: [{ user: 'admin', db: 'admin' }],
        authenticatedUserPrivileges: [{ resource: { anyResource: true }, actions: ['anyAction'] }],
      },
    };
    expect(decidePrivileges(root).kind).toBe('can-write');
  });

  it('refuses a read user who can also drop the database or manage users', () => {
    const mixed = structuredClone(readUser);
    mixed.authInfo.authenticatedUserPrivileges.push({ resource: { db: 'shop', collection: '' }, actions: ['dropDatabase'] });
    expect(decidePrivileges(mixed)).toMatchObject({ kind: 'can-write', actions: ['dropDatabase'] });
    const admin = structuredClone(readUser);
    admin.authInfo.authenticatedUserPrivileges.push({ resource: { db: 'admin', collection: '' }, actions: ['createUser', 'grantRole'] });
    expect(decidePrivileges(admin)).toMatchObject({ kind: 'can-write', actions: ['createUser', 'grantRole'] });
  });

  it('cannot decide when the server returns no privileges (FerretDB) and says so', () => {
    const ferret = { authInfo: { authenticatedUsers: [{ user: 'mcp_reader', db: 'admin' }], authenticatedUserRoles: [] }, ok: 1 };
    const d = decidePrivileges(ferret);
    expect(d.kind).toBe('unknown');
    if (d.kind === 'unknown') expect(d.reason).toMatch(/FerretDB/);
  });

  it('cannot decide when nobody is authenticated (access control off), never calls that read-only', () => {
    expect(decidePrivileges({ authInfo: { authenticatedUsers: [], authenticatedUserPrivileges: [] } }).kind).toBe('unknown');
    expect(decidePrivileges({}).kind).toBe('unknown');
    expect(decidePrivileges(null).kind).toBe('unknown');
  });

  it('ignores malformed privilege entries rather than crashing', () => {
    const odd = {
      authInfo: { authenticatedUsers: [{ user: 'u', db: 'admin' }], authenticatedUserPrivileges: [null, { actions: 'insert' }, { actions: [1, 'find'] }] },
    };
    expect(decidePrivileges(odd)).toEqual({ kind: 'read-only' });
  });
});
