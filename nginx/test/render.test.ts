import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { substitute, renderTemplates, writeProxySecretInclude, EDGE_VARIABLES, type EdgeVars } from '../../scripts/stack/nginx.ts';

const vars = Object.fromEntries(EDGE_VARIABLES.map((n) => [n, `/v/${n.toLowerCase()}`])) as EdgeVars;

describe('template rendering (envsubst semantics)', () => {
  it('replaces declared ${VAR} and $VAR and leaves nginx variables and undeclared names alone', () => {
    const out = substitute('a ${PUBLIC_HOST} $PUBLIC_HOST $PUBLIC_HOSTX $remote_addr ${HOME} $request_uri', { PUBLIC_HOST: 'h:1' }, ['PUBLIC_HOST']);
    expect(out).toBe('a h:1 h:1 $PUBLIC_HOSTX $remote_addr ${HOME} $request_uri');
  });

  it('refuses a declared variable without a value', () => {
    expect(() => substitute('${TLS_CERT}', {}, ['TLS_CERT'])).toThrow(/TLS_CERT/);
  });

  it('refuses values that could add nginx directives', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'edge-render-'));
    try {
      await expect(renderTemplates({ ...vars, PUBLIC_HOST: 'x; include /etc/shadow' }, dir)).rejects.toThrow(/PUBLIC_HOST/);
      await expect(renderTemplates({ ...vars, PUBLIC_HOST: 'a"b' }, dir)).rejects.toThrow(/PUBLIC_HOST/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('renders every template into conf.d with its subfolder and no variable left', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'edge-render-'));
    try {
      const files = await renderTemplates(vars, dir);
      expect(files.map((f) => f.slice(dir.length + 1))).toContain('snippets/auth.conf');
      expect(files.map((f) => f.slice(dir.length + 1))).toContain('edge.conf');
      for (const f of files) expect(readFileSync(f, 'utf8')).not.toMatch(/\$\{[A-Z_]+\}/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('writes the proxy secret include 0600 and refuses a secret that could break out of its quotes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'edge-render-'));
    try {
      const f = join(dir, 'proxy_secret.conf');
      await writeProxySecretInclude('abcdefghijklmnop0123', f);
      expect(readFileSync(f, 'utf8')).toBe('proxy_set_header X-MCP-Proxy-Auth "abcdefghijklmnop0123";\n');
      expect(statSync(f).mode & 0o777).toBe(0o600);
      await expect(writeProxySecretInclude('abcdefghijklmnop"; return 200', f)).rejects.toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
