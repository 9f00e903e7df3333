/**
 * Where every tier listens and how each party addresses it, for both isolation modes. With namespaces the
 * ports are the ones of docs/architecture.md; on loopback every tier shares 127.0.0.1, so Keycloak moves
 * off the edge's :8080 and the whole set must be free on the host.
 */
import { ADDR, NS, type Isolation } from './netns.ts';

export interface Plan {
  isolation: Isolation;
  ns: { client: string | null; edge: string | null; kc: string | null; db: string | null };
  edge: { listen: string; httpListen: string; publicHost: string; port: number };
  keycloak: { bind: string; port: number; mgmtPort: number; fromEdge: string; fromHost: string };
  db: { bind: string; port: number; fromEdge: string; fromHost: string };
  verifierPort: number;
  mcpRoPort: number;
  mcpRwPort: number;
}

export function planFor(isolation: Isolation): Plan {
  if (isolation === 'netns') {
    return {
      isolation,
      ns: { ...NS },
      // 0.0.0.0 inside the edge namespace: its links are the client's, the host's and two back tiers'.
      edge: { listen: '8443', httpListen: '8080', publicHost: ADDR.edgePublic, port: 8443 },
      keycloak: { bind: '0.0.0.0', port: 8080, mgmtPort: 9000, fromEdge: ADDR.kcFromEdge, fromHost: ADDR.kcFromHost },
      db: { bind: '0.0.0.0', port: 27017, fromEdge: ADDR.dbFromEdge, fromHost: ADDR.dbFromHost },
      verifierPort: 9191,
      mcpRoPort: 3001,
      mcpRwPort: 3002,
    };
  }
  const lo = '127.0.0.1';
  return {
    isolation,
    ns: { client: null, edge: null, kc: null, db: null },
    edge: { listen: `${lo}:8443`, httpListen: `${lo}:8080`, publicHost: lo, port: 8443 },
    keycloak: { bind: lo, port: 18080, mgmtPort: 19000, fromEdge: lo, fromHost: lo },
    db: { bind: lo, port: 27017, fromEdge: lo, fromHost: lo },
    verifierPort: 9191,
    mcpRoPort: 3001,
    mcpRwPort: 3002,
  };
}

/** The back-tier sockets an outsider must not reach: probed from the client namespace by the tests. */
export function internalEndpoints(p: Plan): { name: string; host: string; port: number }[] {
  const edge = p.edge.publicHost;
  return [
    { name: 'mcp-ro', host: edge, port: p.mcpRoPort },
    { name: 'mcp-rw', host: edge, port: p.mcpRwPort },
    { name: 'verifier', host: edge, port: p.verifierPort },
    { name: 'keycloak-http', host: p.keycloak.fromEdge, port: p.keycloak.port },
    { name: 'keycloak-management', host: p.keycloak.fromEdge, port: p.keycloak.mgmtPort },
    // The database's address on the edge link: what a client would aim at by routing through the edge.
    { name: 'database-from-edge', host: p.db.fromEdge, port: p.db.port },
  ];
}
