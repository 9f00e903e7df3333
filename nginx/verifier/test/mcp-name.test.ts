/** The Mcp-Name pre-filter refuses exactly the contract's write tools, and only on the read-only route. */
import { describe, expect, it } from 'vitest';
import { WRITE_TOOLS } from '../../../contract/contract.ts';
import { checkMcpName } from '../src/http/mcp-name.ts';
import { Refusal } from '../src/errors.ts';

const codeOf = (f: () => void): string | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    if (e instanceof Refusal) return e.code;
    throw e;
  }
};

describe('Mcp-Name pre-filter', () => {
  it.each(WRITE_TOOLS)('refuses a tools/call named %s on the read-only route with write_tool_on_read_route', (name) => {
    expect(codeOf(() => checkMcpName('tools/call', name, 'ro'))).toBe('write_tool_on_read_route');
  });

  it('lets the same names through on the read-write route, and read tools and other methods on the read-only one', () => {
    for (const name of WRITE_TOOLS) expect(codeOf(() => checkMcpName('tools/call', name, 'rw'))).toBeUndefined();
    expect(codeOf(() => checkMcpName('tools/call', 'find', 'ro'))).toBeUndefined();
    expect(codeOf(() => checkMcpName('tools/list', 'drop-database', 'ro'))).toBeUndefined();
  });
});
