/**
 * Where every tier listens and how each party addresses it, for both isolation modes. With namespaces the
 * ports are the contract's (contract/contract.ts PORTS, as in compose.yaml); on loopback every tier shares
 * 127.0.0.1, so Keycloak moves off the edge's :8080 (LOOPBACK_PORTS) and the whole set must be free on the host.
 */
import { LOOPBACK_PORTS, METRICS_PORTS, PORTS } from '../../contract/contract.ts';
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
  /** Loopback-only scrape listeners in the edge namespace (METRICS_PORTS). */
  metricsPorts: typeof METRICS_PORTS;
}

/** The edge namespace's loopback tiers: the same ports in both modes. */
const tierPorts = { verifierPort: PORTS.verifier, mcpRoPort: PORTS.mcpReadOnly, mcpRwPort: PORTS.mcpReadWrite, metricsPorts: METRICS_PORTS };

export function planFor(isolation: Isolation): Plan {
  if (isolation === 'netns') {
    return {
      isolation,
      ns: { ...NS },
      // 0.0.0.0 inside the edge namespace: its links are the client's, the host's and two back tiers'.
      edge: { listen: `${PORTS.edgeHttps}`, httpListen: `${PORTS.edgeHttp}`, publicHost: ADDR.edgePublic, port: PORTS.edgeHttps },
      keycloak: { bind: '0.0.0.0', port: PORTS.keycloakHttp, mgmtPort: PORTS.keycloakManagement, fromEdge: ADDR.kcFromEdge, fromHost: ADDR.kcFromHost },
      db: { bind: '0.0.0.0', port: PORTS.database, fromEdge: ADDR.dbFromEdge, fromHost: ADDR.dbFromHost },
      ...tierPorts,
    };
  }
  const lo = '127.0.0.1';
  return {
    isolation,
    ns: { client: null, edge: null, kc: null, db: null },
    edge: { listen: `${lo}:${PORTS.edgeHttps}`, httpListen: `${lo}:${PORTS.edgeHttp}`, publicHost: lo, port: PORTS.edgeHttps },
    keycloak: { bind: lo, port: LOOPBACK_PORTS.keycloakHttp, mgmtPort: LOOPBACK_PORTS.keycloakManagement, fromEdge: lo, fromHost: lo },
    db: { bind: lo, port: PORTS.database, fromEdge: lo, fromHost: lo },
    ...tierPorts,
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
