import fs from 'node:fs';
import type net from 'node:net';
import tls from 'node:tls';
import type { SlotgateConfig } from '../config/config.js';
import type { ReloadableTls } from './tls-reload.js';
import { tlsVersionRange } from '../config/tls-check.js';
import { readCaFile } from './pem-files.js';
import type { Logger } from '../telemetry/logger.js';

/**
 * The client-facing TLS listener (`tls-port`). Handshakes, client certificate checks
 * (`tls-auth-clients`) and certificate reloads happen here; `onSecure` gets each connection
 * once it is authorised.
 */
export class TlsListener implements ReloadableTls {
  readonly server: tls.Server;

  constructor(
    private readonly config: SlotgateConfig,
    onSecure: (socket: tls.TLSSocket) => void,
    log: Logger,
  ) {
    const auth = config.tlsAuthClients;
    this.server = tls.createServer({
      ...this.contextOptions(),
      requestCert: auth !== 'no',
      // `optional` lets a client without a certificate in; one that shows an invalid certificate
      // is refused below, as Redis does.
      rejectUnauthorized: auth === 'yes',
    });
    this.server.on('secureConnection', (socket) => {
      if (auth === 'optional' && !socket.authorized && hasPeerCertificate(socket)) {
        log.info({ client: peer(socket), err: String(socket.authorizationError) }, 'TLS client certificate refused');
        socket.destroy();
        return;
      }
      onSecure(socket);
    });
    // Failed handshakes (no or untrusted client certificate, wrong protocol): the client is
    // told by TLS itself; the log says who and why.
    this.server.on('tlsClientError', (error, socket) => {
      log.info({ client: peer(socket), err: error.message }, 'TLS handshake failed');
    });
  }

  /** The files it reads, for logs. */
  get files(): string[] {
    const c = this.config;
    return [c.tlsCertFile, c.tlsKeyFile, c.tlsCaCertFile].filter((f): f is string => f !== undefined);
  }

  /** Re-reads the certificate, key and CA for new connections; throws (keeping the old ones) when they are bad. */
  reload(): void {
    this.server.setSecureContext(this.contextOptions());
  }

  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address !== null ? address.port : (this.config.tlsPort ?? 0);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private contextOptions(): tls.SecureContextOptions {
    const c = this.config;
    // tls-check.ts made sure both are set whenever tls-port is.
    // The versions belong to the context: a reload must give them again.
    const options: tls.SecureContextOptions = {
      cert: fs.readFileSync(c.tlsCertFile ?? ''),
      key: fs.readFileSync(c.tlsKeyFile ?? ''),
      ...tlsVersionRange(c.tlsProtocols),
    };
    if (c.tlsCaCertFile !== undefined) options.ca = readCaFile(c.tlsCaCertFile);
    return options;
  }
}

function hasPeerCertificate(socket: tls.TLSSocket): boolean {
  return Object.keys(socket.getPeerCertificate()).length > 0;
}

function peer(socket: net.Socket): string {
  return `${socket.remoteAddress}:${socket.remotePort}`;
}
