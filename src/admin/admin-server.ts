import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { ProxyServer } from '../proxy/server.js';
import type { Logger } from '../telemetry/logger.js';
import { createMetrics } from '../telemetry/metrics.js';
import { proxyReadiness } from './proxy-readiness.js';

export interface AdminOptions {
  port: number;
  bind: string;
}

/** What the admin listener answers from: one proxy, or (with workers) the primary's view of all of them. */
export interface AdminSource {
  /** `/readyz`: 200 when `ready`, else 503; the whole object is the JSON body. */
  readiness(): Promise<{ ready: boolean }> | { ready: boolean };
  /** `/metrics`: Prometheus text. */
  metrics(): Promise<string>;
  readonly contentType: string;
}

/** The admin source of slotgate in one process: its proxy's readiness and metrics. */
export function proxyAdminSource(proxy: ProxyServer): AdminSource {
  const registry: Registry = createMetrics(proxy, () => proxyReadiness(proxy).ready);
  return {
    readiness: () => proxyReadiness(proxy),
    metrics: () => registry.metrics(),
    contentType: registry.contentType,
  };
}

/**
 * The admin HTTP listener, apart from the RESP port: `/metrics` (Prometheus text), `/livez`
 * (200 while the process answers) and `/readyz` (200 when every slot has a reachable master and
 * the proxy is not draining, else 503 with the reason as JSON).
 */
export class AdminServer {
  private readonly server: http.Server;

  constructor(
    private readonly source: AdminSource,
    private readonly options: AdminOptions,
    private readonly log: Logger,
  ) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  /** The port actually listened on (when configured as 0). */
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.bind, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.log.info({ bind: this.options.bind, port: this.port }, 'admin listening');
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'text/plain', 'method not allowed\n');
    switch (path) {
      case '/livez':
        return reply(res, 200, 'text/plain', 'ok\n');
      case '/readyz':
        try {
          const readiness = await this.source.readiness();
          return reply(res, readiness.ready ? 200 : 503, 'application/json', JSON.stringify(readiness) + '\n');
        } catch (error) {
          // Not knowing is not ready: a load balancer must not send clients on a guess.
          this.log.warn({ err: (error as Error).message }, 'readiness check failed');
          return reply(res, 503, 'application/json', JSON.stringify({ ready: false, reason: 'readiness check failed' }) + '\n');
        }
      case '/metrics':
        try {
          return reply(res, 200, this.source.contentType, await this.source.metrics());
        } catch (error) {
          this.log.warn({ err: (error as Error).message }, 'metrics collection failed');
          return reply(res, 500, 'text/plain', `metrics collection failed: ${(error as Error).message}\n`);
        }
      default:
        return reply(res, 404, 'text/plain', 'not found: try /metrics, /livez or /readyz\n');
    }
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function reply(res: http.ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Starts the admin listener of one proxy (slotgate without workers). */
export async function startAdminServer(proxy: ProxyServer, options: AdminOptions, log: Logger): Promise<AdminServer> {
  return startAdminServerFor(proxyAdminSource(proxy), options, log);
}

/** Starts the admin listener answering from `source`. */
export async function startAdminServerFor(source: AdminSource, options: AdminOptions, log: Logger): Promise<AdminServer> {
  const admin = new AdminServer(source, options, log);
  await admin.start();
  return admin;
}
