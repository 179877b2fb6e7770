import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import type { SlotgateConfig } from '../config/config.js';
import type { ReloadableTls } from './tls-reload.js';
import { readCaFile } from './pem-files.js';

/** Node's `onread` option: reads land in a buffer the caller provides, without 'data' events. */
export type OnRead = NonNullable<net.NetConnectOpts['onread']>;

/** A connection to a node and the event after which it carries requests. */
export interface NodeConnection {
  socket: net.Socket;
  /** 'connect' for TCP; 'secureConnect' once the TLS handshake and the certificate checks passed. */
  readyEvent: 'connect' | 'secureConnect';
  /** True when the socket has no usable fd (TLS): writes go through the stream. */
  secure: boolean;
}

/**
 * slotgate's TLS towards the nodes: the CA their certificates are checked against, slotgate's
 * client certificate, the name to expect. `reload` re-reads the files (SIGHUP); connections made
 * after it use the new ones, open connections keep theirs.
 */
export class BackendTls implements ReloadableTls {
  private context: tls.SecureContext;

  constructor(private readonly config: SlotgateConfig) {
    this.context = this.load();
  }

  /** Re-reads the files; on error throws and keeps the files loaded before. */
  reload(): void {
    this.context = this.load();
  }

  /** The files it reads, for logs. */
  get files(): string[] {
    const c = this.config;
    return [c.backendTlsCaCertFile, c.backendTlsCertFile, c.backendTlsKeyFile].filter((f): f is string => f !== undefined);
  }

  private load(): tls.SecureContext {
    const c = this.config;
    return tls.createSecureContext({
      // Without a CA file: the system's trusted CAs, as any TLS client.
      ...(c.backendTlsCaCertFile !== undefined ? { ca: readCaFile(c.backendTlsCaCertFile) } : {}),
      ...(c.backendTlsCertFile !== undefined ? { cert: fs.readFileSync(c.backendTlsCertFile) } : {}),
      ...(c.backendTlsKeyFile !== undefined ? { key: fs.readFileSync(c.backendTlsKeyFile) } : {}),
    });
  }

  connect(host: string, port: number, onread: OnRead | undefined): tls.TLSSocket {
    const servername = this.config.backendTlsServername ?? (net.isIP(host) === 0 ? host : undefined);
    return tls.connect({
      host,
      port,
      secureContext: this.context,
      // SNI is for names only (Node warns about an IP); the certificate is then checked against
      // `servername`, or the host (an IP is matched against the certificate's IP SANs).
      ...(servername !== undefined ? { servername } : {}),
      ...(this.config.backendTlsVerifyHostname === 'no' ? { checkServerIdentity: () => undefined } : {}),
      ...(onread !== undefined ? { onread } : {}),
    });
  }
}

/** The backend TLS settings of `config`, loaded; null when backend-tls is off. Throws on unreadable files. */
export function backendTlsFromConfig(config: SlotgateConfig): BackendTls | null {
  return config.backendTls ? new BackendTls(config) : null;
}

/** Opens a connection to a node: TLS when `secure` is given, else plain TCP. */
export function connectToNode(host: string, port: number, secure: BackendTls | null, onread?: OnRead): NodeConnection {
  if (secure !== null) return { socket: secure.connect(host, port, onread), readyEvent: 'secureConnect', secure: true };
  const socket = net.connect({ host, port, ...(onread !== undefined ? { onread } : {}) });
  return { socket, readyEvent: 'connect', secure: false };
}
