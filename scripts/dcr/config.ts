/** The registration reaper's configuration (main.ts): environment variables, one schema; compose.yaml is tested against it. */
// 'zod/v4': the v4 API whichever major is hoisted to the root (as db/config.ts; knip.json says why).
import { z } from 'zod/v4';

export const ConfigSchema = z.object({
  DCR_REAPER_KEYCLOAK_URL: z
    .url({ protocol: /^https?$/ })
    .transform((u) => u.replace(/\/+$/, ''))
    .describe("Keycloak's own listener (the admin API is never served at the edge)"),
  DCR_REAPER_REALM: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('mcp')
    .describe('the realm whose registrations expire'),
  DCR_REAPER_CLIENT_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/)
    .default('mcp-dcr-reaper')
    .describe("the reaper's confidential client in the realm (client credentials; realm-management roles only)"),
  DCR_REAPER_CLIENT_SECRET_FILE: z.string().min(1).describe("a 0600 file with the client's secret"),
  DCR_REAPER_HEALTH_FILE: z.string().min(1).optional().describe('touched after each successful sweep (compose healthcheck: a fresh file is a working reaper)'),
  DCR_REAPER_TTL_S: z.coerce.number().int().min(1).max(31_536_000).default(3_600).describe('an unused registration older than this is deleted'),
  DCR_REAPER_INTERVAL_S: z.coerce.number().int().min(1).max(86_400).default(60).describe('seconds between two sweeps'),
});
