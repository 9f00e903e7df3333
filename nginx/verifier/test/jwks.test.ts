import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect, afterEach } from 'vitest';
import { remoteSigningKeys } from '../src/jwks/remote.ts';
import { makeCert } from '../../test/fixtures/tls.ts';
import { makeKey, sign, claims } from './fixtures/tokens.ts';
import { startJwksServer, type JwksServer } from './fixtures/jwks-server.ts';
import { startVerifier, fromEdge, type Harness } from './fixtures/verifier.ts';

let jwks: JwksServer | undefined;
let v: Harness | undefined;
afterEach(async () => {
  await v?.close();
  await jwks?.close();
  v = undefined;
  jwks = undefined;
});

describe('signing keys', () => {
  it('refuses an unknown kid after one refresh, and refreshes again only after 30 s', async () => {
    const realm = await makeKey('k1');
    const rogue = await makeKey('rogue-kid');
    jwks = await startJwksServer(0, [realm.jwk]);
    v = await startVerifier(0, jwks.url);
    expect((await v.ask(fromEdge('ro', await sign(realm, claims())))).status).toBe(204);
    expect(jwks.hits).toBe(1);
    const forged = await sign(rogue, claims());
    for (let i = 0; i < 5; i++) expect((await v.ask(fromEdge('ro', forged))).status).toBe(401);
    expect(v.audit.at(-1)).toContain('"code":"unknown_kid"');
    expect(jwks.hits).toBe(2); // one refresh for the first unknown kid, none for the next four
    v.clock.ms += 29_000;
    await v.ask(fromEdge('ro', forged));
    expect(jwks.hits).toBe(2);
    v.clock.ms += 1_000;
    await v.ask(fromEdge('ro', forged));
    expect(jwks.hits).toBe(3);
  });

  it('refuses a token without a kid without fetching anything', async () => {
    const realm = await makeKey('k1');
    jwks = await startJwksServer(0, [realm.jwk]);
    v = await startVerifier(0, jwks.url);
    expect((await v.ask(fromEdge('ro', await sign(realm, claims(), { kid: undefined })))).status).toBe(401);
    expect(v.audit.at(-1)).toContain('"code":"unknown_kid"');
    expect(jwks.hits).toBe(0);
  });

  it('accepts a token signed by a newly rotated key once the refresh finds it', async () => {
    const k1 = await makeKey('k1');
    const k2 = await makeKey('k2', 'ES256');
    jwks = await startJwksServer(0, [k1.jwk]);
    v = await startVerifier(0, jwks.url);
    expect((await v.ask(fromEdge('ro', await sign(k1, claims())))).status).toBe(204);
    jwks.keys = [k1.jwk, k2.jwk]; // rotated right after the verifier's fetch: no cooldown counts from that one
    expect((await v.ask(fromEdge('ro', await sign(k2, claims())))).status).toBe(204);
    expect(jwks.hits).toBe(2);
  });

  it('keeps accepting tokens of the keys it holds while the key set cannot be fetched', async () => {
    const realm = await makeKey('k1');
    const rogue = await makeKey('rogue-kid');
    jwks = await startJwksServer(0, [realm.jwk]);
    v = await startVerifier(0, jwks.url);
    await v.keys.warm();
    expect(jwks.hits).toBe(1);
    jwks.down = true; // Keycloak down
    v.clock.ms += 11 * 60_000; // older than the background refresh period: no age limit on the keys held
    const fresh = () => claims({ iat: Math.floor(v!.clock.ms / 1000), exp: Math.floor(v!.clock.ms / 1000) + 300 });
    expect((await v.ask(fromEdge('ro', await sign(realm, fresh())))).status).toBe(204);
    expect(jwks.hits).toBe(1);
    // An unknown kid asks Keycloak once; the failure holds further attempts off for the interval.
    for (let i = 0; i < 3; i++) expect((await v.ask(fromEdge('ro', await sign(rogue, fresh())))).status).toBe(401);
    expect(v.audit.at(-1)).toContain('"code":"unknown_kid"');
    expect(jwks.hits).toBe(2);
    expect((await v.ask(fromEdge('ro', await sign(realm, fresh())))).status).toBe(204);
  });

  it('lets concurrent tokens of a rotated key wait for the one refetch instead of refusing them', async () => {
    const k1 = await makeKey('k1');
    const k2 = await makeKey('k2');
    jwks = await startJwksServer(0, [k1.jwk]);
    v = await startVerifier(0, jwks.url);
    expect((await v.ask(fromEdge('ro', await sign(k1, claims())))).status).toBe(204);
    jwks.keys = [k1.jwk, k2.jwk];
    const token = await sign(k2, claims());
    const answers = await Promise.all(Array.from({ length: 10 }, () => v!.ask(fromEdge('ro', token))));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(204));
    expect(jwks.hits).toBe(2);
  });

  it('shares one fetch among concurrent requests with an unknown kid', async () => {
    const realm = await makeKey('k1');
    jwks = await startJwksServer(0, [realm.jwk]);
    v = await startVerifier(0, jwks.url);
    const token = await sign(realm, claims());
    const answers = await Promise.all(Array.from({ length: 20 }, () => v!.ask(fromEdge('ro', token))));
    expect(answers.every((a) => a.status === 204)).toBe(true);
    expect(jwks.hits).toBe(1);
  });

  it('refuses a key published for another algorithm', async () => {
    const realm = await makeKey('k1');
    jwks = await startJwksServer(0, [{ ...realm.jwk, alg: 'PS256' }]);
    v = await startVerifier(0, jwks.url);
    expect((await v.ask(fromEdge('ro', await sign(realm, claims())))).status).toBe(401);
  });

  it('fails closed with 503 when the key set cannot be fetched', async () => {
    const realm = await makeKey('k1');
    v = await startVerifier(0, 'http://127.0.0.1:1/certs'); // port 1: nothing listens there, the connect is refused
    const r = await v.ask(fromEdge('ro', await sign(realm, claims())));
    expect(r.status).toBe(503);
    expect(v.audit.at(-1)).toContain('"code":"jwks_unavailable"');
  });
});

describe('the key set over https (VERIFIER_CA_FILE)', () => {
  it('fetches it trusting the given CA, and refuses a server that CA did not sign', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jwks-tls-'));
    const realm = await makeKey('k1');
    const { cert, key } = makeCert(dir);
    const server = createHttpsServer({ cert: readFileSync(cert), key: readFileSync(key) }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [realm.jwk] }));
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/certs`;
    const header = { alg: realm.alg, kid: realm.kid };
    const trusting = remoteSigningKeys({ url, ca: readFileSync(cert) });
    const untrusting = remoteSigningKeys({ url });
    try {
      await expect(trusting.getKey(header, {} as never)).resolves.toBeDefined();
      await expect(untrusting.getKey(header, {} as never)).rejects.toMatchObject({ code: 'jwks_unavailable' });
    } finally {
      trusting.close();
      untrusting.close();
      server.closeAllConnections();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('verified-token cache', () => {
  it('serves a repeated token from the cache but still checks the route rights', async () => {
    const realm = await makeKey('k1');
    jwks = await startJwksServer(0, [realm.jwk]);
    v = await startVerifier(0, jwks.url, { cacheTtlMs: 30_000 });
    const token = await sign(realm, claims());
    expect((await v.ask(fromEdge('ro', token))).status).toBe(204);
    expect((await v.ask(fromEdge('ro', token))).status).toBe(204);
    expect(JSON.parse(v.audit.at(-1) ?? '{}')).toMatchObject({ cached: true });
    // A read token at the read-write route: genuine, for this edge, but without the rights there.
    expect((await v.ask(fromEdge('rw', token))).status).toBe(403);
  });

  it('never serves a cached token past its exp', async () => {
    const realm = await makeKey('k1');
    jwks = await startJwksServer(0, [realm.jwk]);
    v = await startVerifier(0, jwks.url, { cacheTtlMs: 30_000 });
    const token = await sign(realm, claims({ exp: Math.floor(v.clock.ms / 1000) + 10 }));
    expect((await v.ask(fromEdge('ro', token))).status).toBe(204);
    v.clock.ms += 71_000; // past exp + 60 s skew, still inside what a 30 s TTL alone would not catch twice
    expect((await v.ask(fromEdge('ro', token))).status).toBe(401);
    expect(v.audit.at(-1)).toContain('"code":"expired"');
  });
});
