import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { ProxyServer } from '../proxy/server.js';
import type { ClusterNode } from '../upstream/cluster-node.js';
import type { Logger } from '../telemetry/logger.js';
import { createMetrics } from '../telemetry/metrics.js';
import { decideReadiness, readinessInput, type Readiness } from './readiness.js';

export interface AdminOptions {
  port: number;
  bind: string;
}

/**
 * The admin HTTP listener, apart from the RESP port: `/metrics` (Prometheus text), `/livez`
 * (200 while the process answers) and `/readyz` (200 when every slot has a reachable master and
 * the proxy is not draining, else 503 with the reason as JSON).
 */
export class AdminServer {
  private readonly server: http.Server;
  readonly registry: Registry;

  constructor(
    private readonly proxy: ProxyServer,
    private readonly options: AdminOptions,
    private readonly log: Logger,
  ) {
    this.registry = createMetrics(proxy, () => this.readiness().ready);
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

  /** Readiness now (also checks the masters' links, see ClusterNode.checkReachable). */
  readiness(): Readiness {
    const router = this.proxy.router;
    const masters = router.currentMasters();
    const reachable = new Set<ClusterNode>();
    for (const master of masters) if (master.checkReachable()) reachable.add(master);
    return decideReadiness(readinessInput(this.proxy.draining, (slot) => router.ownerOf(slot), masters, reachable));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'text/plain', 'method not allowed\n');
    switch (path) {
      case '/livez':
        return reply(res, 200, 'text/plain', 'ok\n');
      case '/readyz': {
        const readiness = this.readiness();
        return reply(res, readiness.ready ? 200 : 503, 'application/json', JSON.stringify(readiness) + '\n');
      }
      case '/metrics':
        try {
          return reply(res, 200, this.registry.contentType, await this.registry.metrics());
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

/** Starts the admin listener. */
export async function startAdminServer(proxy: ProxyServer, options: AdminOptions, log: Logger): Promise<AdminServer> {
  const admin = new AdminServer(proxy, options, log);
  await admin.start();
  return admin;
}
