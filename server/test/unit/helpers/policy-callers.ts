import type { Identity } from '../../../src/identity/identity.ts';

// The realm as shipped (keycloak/realm-mcp.json): the service agent's service-account user, analyst, operator.
export const CALLERS = {
  machine: {
    subject: 'sa-1',
    username: 'service-account-mcp-service-agent',
    clientId: 'mcp-service-agent',
    scopes: ['mcp:read'],
    roles: ['mcp-reader'],
    principalType: 'machine',
  },
  analyst: {
    subject: 'u-analyst',
    username: 'analyst',
    clientId: 'mcp-agent',
    scopes: ['mcp:read'],
    roles: ['mcp-reader'],
    principalType: 'person',
  },
  operator: {
    subject: 'u-operator',
    username: 'operator',
    clientId: 'mcp-agent',
    scopes: ['mcp:read', 'mcp:write'],
    roles: ['mcp-reader', 'mcp-writer'],
    principalType: 'person',
  },
  // A valid token of someone without any MCP role: Cedar's default deny.
  nobody: { subject: 'u-x', username: 'x', clientId: 'mcp-agent', scopes: ['mcp:read'], roles: [], principalType: 'person' },
} satisfies Record<string, Identity>;
