// Test certificates made with the openssl command line: CAs, and certificates they sign.

import { execFile } from 'node:child_process';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const openssl = (args: string[]): Promise<unknown> => promisify(execFile)('openssl', args);

/** PEM files of one certificate. */
export interface CertFiles {
  certFile: string;
  keyFile: string;
}

/** A CA that signs test certificates (EC P-256 keys: fast to make). */
export class TestCa {
  private constructor(
    readonly dir: string,
    readonly name: string,
    readonly certFile: string,
    private readonly keyFile: string,
  ) {}

  static async create(dir: string, name: string): Promise<TestCa> {
    await fsp.mkdir(dir, { recursive: true });
    const certFile = path.join(dir, `${name}.crt`);
    const keyFile = path.join(dir, `${name}.key`);
    await openssl([
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    return new TestCa(dir, name, certFile, keyFile);
  }

  /**
   * A certificate for 127.0.0.1 and localhost, with this `serial`, usable by servers and clients
   * (Redis nodes use theirs both ways on the cluster bus).
   */
  async issue(name: string, serial: number): Promise<CertFiles> {
    const certFile = path.join(this.dir, `${name}.crt`);
    const keyFile = path.join(this.dir, `${name}.key`);
    const csr = path.join(this.dir, `${name}.csr`);
    const ext = path.join(this.dir, `${name}.ext`);
    await fsp.writeFile(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n');
    await openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', csr, '-subj', `/CN=${name}`]);
    await openssl([
      'x509', '-req', '-in', csr, '-CA', this.certFile, '-CAkey', this.keyFile, '-set_serial', String(serial),
      '-days', '2', '-extfile', ext, '-out', certFile,
    ]);
    return { certFile, keyFile };
  }
}
