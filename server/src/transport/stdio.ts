import { serveStdio, type StdioServerHandle } from '@modelcontextprotocol/server/stdio';
import type { Server } from '@modelcontextprotocol/server';

/**
 * MCP over stdin/stdout. stdout belongs to the protocol: every diagnostic of this process goes to
 * stderr. `serveStdio` negotiates 2026-07-28 (server/discover) or a 2025 revision (initialize).
 */
export function startStdio(factory: () => Server, onClose: () => void): StdioServerHandle {
  process.stdin.on('end', onClose);
  return serveStdio(() => factory(), { onerror: (err) => process.stderr.write(`stdio: ${err.name}: ${err.message}\n`) });
}
