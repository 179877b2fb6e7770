import crypto from 'node:crypto';
import fs from 'node:fs';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Reads a file of PEM CA certificates, and throws unless it holds at least one and each parses.
 * Node's TLS takes a CA file without a certificate in it silently and then trusts nothing, so a
 * truncated file at a reload would otherwise refuse every new connection.
 */
export function readCaFile(path: string): Buffer {
  const pem = fs.readFileSync(path);
  const blocks = pem.toString('latin1').match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new Error(`${path} holds no PEM certificate`);
  for (const block of blocks) {
    try {
      new crypto.X509Certificate(block);
    } catch (error) {
      throw new Error(`${path}: a certificate does not parse (${(error as Error).message})`);
    }
  }
  return pem;
}
