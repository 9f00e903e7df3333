/**
 * The proxy service's nginx configuration variables: compose sets exactly the names the templates use, and the
 * nginx image's envsubst substitutes only those. `nginx -t` on the rendered configuration needs root and a network
 * namespace: tests/integration/compose-nginx.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { EDGE_VARIABLES } from '../../scripts/stack/nginx.ts';
import { envOf, loadCompose } from './compose-file.ts';

const proxyEnv = envOf(loadCompose().services.proxy ?? {});

describe('proxy: template variables', () => {
  it('defines every variable the templates use, and no template variable is left undefined', () => {
    expect(EDGE_VARIABLES.filter((v) => proxyEnv[v] === undefined)).toEqual([]);
  });

  it("restricts the image's envsubst to exactly those variables (NGINX_ENVSUBST_FILTER)", () => {
    const filter = new RegExp(proxyEnv.NGINX_ENVSUBST_FILTER ?? '(?!)');
    const matched = Object.keys({ ...process.env, ...proxyEnv, HOSTNAME: '', NGINX_VERSION: '', PKG_RELEASE: '' }).filter((n) => filter.test(n));
    expect(matched.sort()).toEqual([...EDGE_VARIABLES].sort());
  });
});
