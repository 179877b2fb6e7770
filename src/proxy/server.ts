import net from 'node:net';
import type { SlotgateConfig } from '../config/config.js';
import { TopologySource } from '../cluster/topology-source.js';
import { NodeReplyError } from '../upstream/query-node.js';
import { parseCommandReply } from './commands/command-info.js';
import { CommandTable, fallbackCommandTable } from './commands/table.js';
import { useClock } from '../util/coarse-clock.js';
import type { Logger } from '../telemetry/logger.js';
import type { ServerContext } from './client-context.js';
import { Dispatcher } from './dispatcher.js';
import { Router } from './router.js';
import { Session } from './session.js';
import { packageVersion } from '../version.js';

const MAX_CLIENTS_REPLY = Buffer.from('-ERR max number of clients reached\r\n');

/**
 * slotgate's RESP endpoint: accepts clients, gives each a session, and owns the router and the
 * command table they share. The table starts as the committed fallback and is replaced by the
 * cluster's own `COMMAND` once a node answers.
 */
export class ProxyServer implements ServerContext {
  readonly router: Router;
  private readonly dispatcher: Dispatcher;
  private readonly server: net.Server;
  private readonly sessions = new Set<Session>();
  private readonly source: TopologySource;
  private nextClientId = 1;
  private releaseClock: (() => void) | null = null;
  redisVersion = '7.0.0';
  totalConnections = 0;
  rejectedConnections = 0;

  constructor(
    private readonly config: SlotgateConfig,
    private readonly log: Logger,
  ) {
    const credentials = { user: config.backendUser, password: config.backendPassword };
    this.source = new TopologySource(config.seeds, credentials, config.connectTimeoutMs);
    this.router = new Router(
      this.source,
      {
        connectionsPerNode: config.connectionsPerNode,
        requestTimeoutMs: config.requestTimeoutMs,
        refreshIntervalMs: config.refreshIntervalMs,
        maxRedirects: config.maxRedirects,
        link: { connectTimeoutMs: config.connectTimeoutMs, credentials },
      },
      log,
    );
    this.dispatcher = new Dispatcher(fallbackCommandTable(), this.router);
    // Sessions take accepted connections over before reading from them (see takeOverAccepted).
    this.server = net.createServer({ pauseOnConnect: true }, (socket) => this.accept(socket));
  }

  get requirepass(): string | undefined {
    return this.config.requirepass;
  }

  get clientCount(): number {
    return this.sessions.size;
  }

  /** The port actually listened on (when configured as 0). */
  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address !== null ? address.port : this.config.port;
  }

  /** Listens, then learns the topology; serves even while no node answers (requests wait or time out). */
  async start(): Promise<void> {
    this.releaseClock = useClock();
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.config.port, this.config.bind, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.log.info({ bind: this.config.bind, port: this.port, seeds: this.config.seeds }, 'listening');
    await this.router.start();
    await this.loadCommandTable();
  }

  /** Replaces the fallback command table with the cluster's own, and learns its Redis version. */
  private async loadCommandTable(): Promise<void> {
    try {
      const [commands, info] = await this.source.query(this.router.masterNodes(), [['COMMAND'], ['INFO', 'server']]);
      if (commands instanceof NodeReplyError) throw commands;
      const table = new CommandTable(parseCommandReply(commands), 'cluster');
      if (table.size < 100) throw new Error(`COMMAND listed only ${table.size} commands`);
      this.dispatcher.table = table;
      const version = /redis_version:(\S+)/.exec(String(info))?.[1];
      if (version !== undefined) this.redisVersion = version;
      this.log.info({ commands: table.size, redisVersion: this.redisVersion }, 'command table read from the cluster');
    } catch (error) {
      this.log.warn({ err: (error as Error).message, table: this.dispatcher.table.source }, 'using the fallback command table');
    }
  }

  private accept(socket: net.Socket): void {
    this.totalConnections++;
    if (this.sessions.size >= this.config.maxClients) {
      this.rejectedConnections++;
      socket.on('error', () => {});
      // As Redis: the error, then the connection is closed (not left half-open).
      socket.end(MAX_CLIENTS_REPLY, () => socket.destroy());
      return;
    }
    let session: Session;
    try {
      session = this.newSession(socket);
    } catch (error) {
      // The connection went away before slotgate could take it over: nothing to serve.
      this.log.debug({ err: (error as Error).message }, 'dropped a connection at accept');
      return;
    }
    this.sessions.add(session);
  }

  private newSession(socket: net.Socket): Session {
    return new Session(
      this.nextClientId++,
      socket,
      this,
      this.dispatcher,
      {
        maxBulkLen: this.config.protoMaxBulkLen,
        maxArgs: this.config.maxArgs,
        queryBufferLimit: this.config.clientQueryBufferLimit,
        maxPending: this.config.clientMaxPending,
      },
      (s) => this.sessions.delete(s),
    );
  }

  private sumOverClients(value: (session: Session) => number): number {
    let sum = 0;
    for (const session of this.sessions) sum += value(session);
    return sum;
  }

  proxyInfo(): string {
    const s = this.router.stats;
    const lines = [
      '# Proxy',
      `slotgate_version:${packageVersion()}`,
      `redis_version:${this.redisVersion}`,
      `process_id:${process.pid}`,
      `tcp_port:${this.port}`,
      `connected_clients:${this.sessions.size}`,
      `pending_requests:${this.sumOverClients((c) => c.pendingRequests)}`,
      `client_query_bytes:${this.sumOverClients((c) => c.queryBytes)}`,
      `client_output_bytes:${this.sumOverClients((c) => c.outputBytes)}`,
      `total_connections_received:${this.totalConnections}`,
      `rejected_connections:${this.rejectedConnections}`,
      `command_table:${this.dispatcher.table.source}`,
      '',
      '# Cluster',
      `topology_epoch:${this.router.epoch}`,
      `covered_slots:${this.router.coveredSlots}`,
      `masters:${this.router.masterAddresses().join(',')}`,
      `redirects_moved:${s.moved}`,
      `redirects_ask:${s.ask}`,
      `retries_tryagain:${s.tryagain}`,
      `retries_clusterdown:${s.clusterdown}`,
      `link_downs:${s.linkDowns}`,
      `upstream_timeouts:${s.timeouts}`,
      `topology_refreshes:${s.refreshes}`,
      `topology_refresh_failures:${s.refreshFailures}`,
    ];
    return lines.join('\r\n') + '\r\n';
  }

  /** Stops listening, closes clients and node links. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const session of this.sessions) session.destroy();
    this.router.stop();
    this.releaseClock?.();
    this.releaseClock = null;
    await closed;
  }
}

/** Starts a proxy with this configuration; resolves once it listens and has tried the cluster. */
export async function startProxy(config: SlotgateConfig, log: Logger): Promise<ProxyServer> {
  const proxy = new ProxyServer(config, log);
  await proxy.start();
  return proxy;
}
