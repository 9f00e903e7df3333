/**
 * A free TCP port, chosen by the kernel (listen on port 0, read it back, close): for tiers and test servers
 * that must be told their port before they start (nginx, a spawned verifier, a database on the host). Tests
 * that start a server in-process listen on 0 themselves instead.
 */
import { createServer } from 'node:net';

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer().once('error', fail);
    s.listen(0, host, () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? ok(a.port) : fail(new Error('no port'))));
    });
  });
}
