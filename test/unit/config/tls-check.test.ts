import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { tlsVersionRange } from '../../../src/config/tls-check.js';

/** The errors slotgate gives for these flags (a seed is always added). */
async function errorsFor(flags: string[]): Promise<string[]> {
  const result = await loadConfig([...flags, '127.0.0.1:7001'], {});
  return result.kind === 'run' ? [] : result.errors;
}

describe('TLS options together', () => {
  it('reads tls-protocols as Redis writes it, as a range of versions', () => {
    expect(tlsVersionRange('TLSv1.2 TLSv1.3')).toEqual({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' });
    expect(tlsVersionRange('TLSv1.3')).toEqual({ minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' });
    expect(tlsVersionRange('TLSv1.3  TLSv1.2')).toEqual({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' });
  });

  it('accepts a TLS listener with its files, and backend TLS with or without a client certificate', async () => {
    expect(await errorsFor(['--tls-port', '6380', '--tls-cert-file', 'c.pem', '--tls-key-file', 'k.pem', '--tls-ca-cert-file', 'ca.pem'])).toEqual([]);
    expect(await errorsFor(['--tls-port', '6380', '--tls-cert-file', 'c.pem', '--tls-key-file', 'k.pem', '--tls-auth-clients', 'no'])).toEqual([]);
    expect(await errorsFor(['--backend-tls', '--backend-tls-ca-cert-file', 'ca.pem', '--backend-tls-verify-hostname', 'no'])).toEqual([]);
    expect(await errorsFor(['--backend-tls', '--backend-tls-cert-file', 'c.pem', '--backend-tls-key-file', 'k.pem'])).toEqual([]);
  });

  it('refuses a TLS listener without certificate and key, and client checks without a CA (as Redis)', async () => {
    expect(await errorsFor(['--tls-port', '6380', '--tls-auth-clients', 'no'])).toEqual(['tls-port needs tls-cert-file and tls-key-file']);
    expect(await errorsFor(['--tls-port', '6380', '--tls-cert-file', 'c.pem', '--tls-key-file', 'k.pem'])).toEqual([
      'tls-auth-clients yes needs tls-ca-cert-file to check client certificates (or set tls-auth-clients no)',
    ]);
    expect(await errorsFor(['--tls-cert-file', 'c.pem'])).toEqual(['tls-cert-file, tls-key-file and tls-ca-cert-file need tls-port (the TLS listener)']);
  });

  it('refuses half a backend client certificate, backend files without backend-tls, and unknown choices', async () => {
    expect(await errorsFor(['--backend-tls', '--backend-tls-cert-file', 'c.pem'])).toEqual(['backend-tls-cert-file and backend-tls-key-file go together']);
    expect(await errorsFor(['--backend-tls-ca-cert-file', 'ca.pem'])).toEqual(['backend-tls-* options are set but backend-tls is off']);
    expect((await errorsFor(['--tls-auth-clients', 'maybe']))[0]).toMatch(/tls-auth-clients/);
    expect(await errorsFor(['--tls-only'])).toEqual(['tls-only needs tls-port']);
    expect((await errorsFor(['--tls-protocols', 'TLSv1.3 TLSv1.1']))[0]).toMatch(/unknown TLS version TLSv1.1/);
  });
});
