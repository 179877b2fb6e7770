import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../src/config/schema.js';
import { BackendTls, connectToNode } from '../../../src/net/backend-tls.js';
import { TestCa, type CertFiles } from '../../helpers/tls-certs.js';

// A TLS echo server on loopback stands in for a node: what matters is the connection itself.
const dir = path.join(os.tmpdir(), `slotgate-backend-tls-${process.pid}`);
let ca: TestCa;
let serverCert: CertFiles;
let server: tls.Server;
let port = 0;

beforeAll(async () => {
  ca = await TestCa.create(dir, 'unit-ca');
  serverCert = await ca.issue('unit-node', 7);
  server = tls.createServer({ cert: fs.readFileSync(serverCert.certFile), key: fs.readFileSync(serverCert.keyFile) }, (s) => s.pipe(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await fsp.rm(dir, { recursive: true, force: true });
});

function backend(overrides: Record<string, unknown> = {}): BackendTls {
  return new BackendTls({ ...defaultConfig(), backendTls: true, backendTlsCaCertFile: ca.certFile, ...overrides });
}

describe('connectToNode over TLS', () => {
  it('reads decrypted bytes through onread into the caller\'s buffer, ready after secureConnect', async () => {
    const slab = Buffer.alloc(1024);
    const got: string[] = [];
    const { socket, readyEvent, secure } = connectToNode('127.0.0.1', port, backend(), {
      buffer: slab,
      callback: (length: number, buf: Buffer) => {
        expect(buf).toBe(slab); // into our buffer, not one Node allocated
        got.push(slab.toString('latin1', 0, length));
        return true;
      },
    });
    expect([readyEvent, secure]).toEqual(['secureConnect', true]);
    socket.resume();
    await new Promise((resolve) => socket.once(readyEvent, resolve));
    socket.write('PING\r\n');
    for (let i = 0; i < 100 && got.join('') !== 'PING\r\n'; i++) await new Promise((r) => setTimeout(r, 10));
    socket.destroy();
    expect(got.join('')).toBe('PING\r\n');
  });

  it('refuses a certificate for another name, unless hostname checks are off', async () => {
    const outcome = (b: BackendTls): Promise<string> =>
      new Promise((resolve) => {
        const { socket } = connectToNode('127.0.0.1', port, b);
        socket.once('secureConnect', () => {
          socket.destroy();
          resolve('connected');
        });
        socket.once('error', (e) => resolve(e.message));
      });
    expect(await outcome(backend({ backendTlsServername: 'localhost' }))).toBe('connected');
    expect(await outcome(backend({ backendTlsServername: 'other.example' }))).toMatch(/does not match certificate's altnames/);
    expect(await outcome(backend({ backendTlsServername: 'other.example', backendTlsVerifyHostname: 'no' }))).toBe('connected');
    // Chain checks stay on: a CA that did not sign the node's certificate is refused either way.
    const stranger = await TestCa.create(path.join(dir, 'stranger'), 'stranger-ca');
    expect(await outcome(backend({ backendTlsCaCertFile: stranger.certFile, backendTlsVerifyHostname: 'no' }))).toMatch(/certificate/);
  });

  it('keeps the loaded files when a reload finds a bad one', async () => {
    const caCopy = path.join(dir, 'ca-copy.crt');
    await fsp.copyFile(ca.certFile, caCopy);
    const b = backend({ backendTlsCaCertFile: caCopy });
    await fsp.writeFile(caCopy, 'garbage');
    expect(() => b.reload()).toThrow();
    const { socket } = connectToNode('127.0.0.1', port, b);
    await new Promise((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    socket.destroy();
  });
});
