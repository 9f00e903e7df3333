import { describe, it, expect, afterEach } from 'vitest';
import { makeKey, sign, claims } from './fixtures/tokens.ts';
import { startJwksServer, type JwksServer } from './fixtures/jwks-server.ts';
import { startVerifier, fromEdge, type Harness } from './fixtures/verifier.ts';

// Ports 34322–34325 belong to this file.
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
    jwks = await startJwksServer(34322, [realm.jwk]);
    v = await startVerifier(34323, jwks.url);
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

  it('accepts a token signed by a newly rotated key once the refresh finds it', async () => {
    const k1 = await makeKey('k1');
    const k2 = await makeKey('k2', 'ES256');
    jwks = await startJwksServer(34322, [k1.jwk]);
    v = await startVerifier(34323, jwks.url);
    expect((await v.ask(fromEdge('ro', await sign(k1, claims())))).status).toBe(204);
    jwks.keys = [k1.jwk, k2.jwk];
    expect((await v.ask(fromEdge('ro', await sign(k2, claims())))).status).toBe(204);
    expect(jwks.hits).toBe(2);
  });

  it('shares one fetch among concurrent requests with an unknown kid', async () => {
    const realm = await makeKey('k1');
    jwks = await startJwksServer(34322, [realm.jwk]);
    v = await startVerifier(34323, jwks.url);
    const token = await sign(realm, claims());
    const answers = await Promise.all(Array.from({ length: 20 }, () => v!.ask(fromEdge('ro', token))));
    expect(answers.every((a) => a.status === 204)).toBe(true);
    expect(jwks.hits).toBe(1);
  });

  it('refuses a key published for another algorithm', async () => {
    const realm = await makeKey('k1');
    jwks = await startJwksServer(34322, [{ ...realm.jwk, alg: 'PS256' }]);
    v = await startVerifier(34323, jwks.url);
    expect((await v.ask(fromEdge('ro', await sign(realm, claims())))).status).toBe(401);
  });

  it('fails closed with 503 when the key set cannot be fetched', async () => {
    const realm = await makeKey('k1');
    v = await startVerifier(34324, 'http://127.0.0.1:34325/certs'); // nothing listens there
    const r = await v.ask(fromEdge('ro', await sign(realm, claims())));
    expect(r.status).toBe(503);
    expect(v.audit.at(-1)).toContain('"code":"jwks_unavailable"');
  });
});

describe('verified-token cache', () => {
  it('serves a repeated token from the cache but still checks the route rights', async () => {
    const realm = await makeKey('k1');
    jwks = await startJwksServer(34322, [realm.jwk]);
    v = await startVerifier(34323, jwks.url, { cacheTtlMs: 30_000 });
    const token = await sign(realm, claims());
    expect((await v.ask(fromEdge('ro', token))).status).toBe(204);
    expect((await v.ask(fromEdge('ro', token))).status).toBe(204);
    expect(JSON.parse(v.audit.at(-1) ?? '{}')).toMatchObject({ cached: true });
    // A read token at the read-write route: genuine, for this edge, but without the rights there.
    expect((await v.ask(fromEdge('rw', token))).status).toBe(403);
  });

  it('never serves a cached token past its exp', async () => {
    const realm = await makeKey('k1');
    jwks = await startJwksServer(34322, [realm.jwk]);
    v = await startVerifier(34323, jwks.url, { cacheTtlMs: 30_000 });
    const token = await sign(realm, claims({ exp: Math.floor(v.clock.ms / 1000) + 10 }));
    expect((await v.ask(fromEdge('ro', token))).status).toBe(204);
    v.clock.ms += 71_000; // past exp + 60 s skew, still inside what a 30 s TTL alone would not catch twice
    expect((await v.ask(fromEdge('ro', token))).status).toBe(401);
    expect(v.audit.at(-1)).toContain('"code":"expired"');
  });
});
