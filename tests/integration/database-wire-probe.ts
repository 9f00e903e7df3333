/**
 * A raw MongoDB `hello` over a socket, to tell "the server refused" apart from "the client gave up":
 * the driver reports both as a timeout, a socket shows the TLS alert or the silent close.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { BSON } from 'mongodb';

export interface ProbeResult {
  /** The server answered the hello with an OP_MSG (it served us). */
  answered: boolean;
  /** The socket error code, e.g. ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED, when it failed. */
  errorCode?: string;
}

const OP_MSG = 2013;

function helloMessage(): Buffer {
  const body = BSON.serialize({ hello: 1, $db: 'admin' });
  const header = Buffer.alloc(20); // 16-byte MsgHeader + flagBits
  header.writeInt32LE(21 + body.length, 0);
  header.writeInt32LE(1, 4); // requestID
  header.writeInt32LE(0, 8); // responseTo
  header.writeInt32LE(OP_MSG, 12);
  header.writeUInt32LE(0, 16); // flagBits
  return Buffer.concat([header, Buffer.from([0]), body]); // section kind 0 = body
}

function exchange(socket: Socket, ready: string): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let got = Buffer.alloc(0);
    const done = (r: ProbeResult) => {
      socket.destroy();
      resolve(r);
    };
    socket.setTimeout(5_000, () => done({ answered: false, errorCode: 'TIMEOUT' }));
    socket.once(ready, () => socket.write(helloMessage()));
    socket.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 16) done({ answered: got.readInt32LE(12) === OP_MSG });
    });
    socket.once('error', (e: NodeJS.ErrnoException) => done({ answered: false, errorCode: e.code ?? e.message }));
    socket.once('close', () => done({ answered: false, errorCode: 'CLOSED' }));
  });
}

export function plaintextHello(host: string, port: number): Promise<ProbeResult> {
  return exchange(tcpConnect({ host, port }), 'connect');
}

export function tlsHello(host: string, port: number, o: ConnectionOptions): Promise<ProbeResult> {
  return exchange(tlsConnect({ host, port, servername: undefined, ...o }), 'secureConnect');
}
