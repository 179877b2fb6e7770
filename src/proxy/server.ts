import net from 'node:net';
import type { SlotgateConfig } from '../config/config.js';
import { TopologySource } from '../cluster/topology-source.js';
import { NodeReplyError } from '../upstream/query-node.js';
import { parseCommandReply } from './commands/command-info.js';
import { CommandTable, fallbackCommandTable } from './commands/table.js';
import { useClock } from '../util/coarse-clock.js';
import type { Logger } from '../telemetry/logger.js';
import type { ClientView, OptionView, ServerContext } from './client-context.js';
import { OPTIONS } from '../config/schema.js';
import { coerceValue, formatValue } from '../config/values.js';
import { REDACTED } from '../config/redact.js';
import type { SessionLimits } from './session.js';
import type { RouterOptions } from './router.js';
import { Dispatcher } from './dispatcher.js';
import { Router } from './router.js';
import { Session } from './session.js';
import { packageVersion } from '../version.js';
import { PrivateLinkPool } from '../upstream/private-links.js';
import { UserDirectory } from '../auth/users.js';
import { SlowLog } from '../telemetry/slowlog.js';
import { directTransport, streamTransport, type TransportOpener } from '../net/client-transport.js';
import { TlsListener } from '../net/tls-listener.js';
import { listenOn } from '../net/listen.js';
import { reloadTlsFiles } from '../net/tls-reload.js';
import { backendTlsFromConfig, type BackendTls } from '../net/backend-tls.js';
import { newClientTraffic, type ClientTraffic } from '../telemetry/client-traffic.js';
import type { CommandStats } from '../telemetry/command-stats.js';
import { endGracefully } from '../net/end-gracefully.js';

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
  /** The `tls-port` listener, null without one. */
  private readonly tlsListener: TlsListener | null;
  /** TLS towards the nodes (every link and query), null for plain TCP. */
  private readonly backendTls: BackendTls | null;
  private readonly sessions = new Set<Session>();
  private readonly source: TopologySource;
  private nextClientId = 1;
  private releaseClock: (() => void) | null = null;
  /** Shared by every session, so PROXY CONFIG SET reaches them all. */
  private readonly limits: SessionLimits;
  private readonly routerOptions: RouterOptions;
  /** Dedicated node connections lent to clients (transactions, blocking commands, subscriptions). */
  readonly privateLinks: PrivateLinkPool;
  private warmTimer: NodeJS.Timeout | null = null;
  redisVersion = '7.0.0';
  totalConnections = 0;
  rejectedConnections = 0;
  /** Client bytes and protocol errors (metrics). */
  readonly traffic: ClientTraffic = newClientTraffic();
  /**
   * True while shutting down gracefully: /readyz answers 503 so load balancers stop sending
   * clients. Set by the drain feature (not yet written); false until then.
   */
  draining = false;
  /** Client connections closed by a drain (slotgate_drain_closes_total; counted by the drain feature). */
  drainCloses = 0;

  constructor(
    private readonly config: SlotgateConfig,
    private readonly log: Logger,
  ) {
    const credentials = { user: config.backendUser, password: config.backendPassword };
    this.backendTls = backendTlsFromConfig(config);
    this.source = new TopologySource(config.seeds, credentials, config.connectTimeoutMs, this.backendTls);
    this.routerOptions = {
      connectionsPerNode: config.connectionsPerNode,
      requestTimeoutMs: config.requestTimeoutMs,
      refreshIntervalMs: config.refreshIntervalMs,
      maxRedirects: config.maxRedirects,
      link: { connectTimeoutMs: config.connectTimeoutMs, credentials, tls: this.backendTls },
    };
    this.router = new Router(this.source, this.routerOptions, log);
    this.limits = {
      maxBulkLen: config.protoMaxBulkLen,
      maxArgs: config.maxArgs,
      queryBufferLimit: config.clientQueryBufferLimit,
      maxPending: config.clientMaxPending,
      slowMs: config.slowlogLogSlowerThanUs / 1000,
    };
    this.slowlog = new SlowLog(config.slowlogMaxLen);
    this.users = new UserDirectory(config.users, config.requirepass);
    this.privateLinks = new PrivateLinkPool(
      this.routerOptions.link,
      { max: config.privateLinksMax, idlePerNode: config.privateLinksIdle },
      log,
    );
    this.dispatcher = new Dispatcher(fallbackCommandTable(), this.router, config, { router: this.router, pool: this.privateLinks });
    this.dispatcher.traceTo(log);
    // Sessions take accepted connections over before reading from them (see takeOverAccepted).
    this.server = net.createServer({ pauseOnConnect: true }, (socket) => this.accept(socket, directTransport(socket)));
    // TLS connections cannot take the fd fast path: their sessions read and write the stream.
    this.tlsListener =
      config.tlsPort === undefined ? null : new TlsListener(config, (socket) => this.accept(socket, streamTransport(socket)), log);
  }

  /** Built once from the config (users and requirepass are not changeable at run time). */
  readonly users: UserDirectory;
  /** SLOWLOG GET/LEN/RESET: slotgate's own, end to end. */
  readonly slowlog: SlowLog;
  /** Counts and reply times per command (metrics). */
  get commandStats(): CommandStats {
    return this.dispatcher.commandStats;
  }

  get clientCount(): number {
    return this.sessions.size;
  }

  /** The port actually listened on (when configured as 0); with `tls-only`, the TLS port. */
  get port(): number {
    if (this.config.tlsOnly) return this.tlsPort ?? 0;
    const address = this.server.address();
    return typeof address === 'object' && address !== null ? address.port : this.config.port;
  }

  /** The TLS port actually listened on, undefined without `tls-port`. */
  get tlsPort(): number | undefined {
    return this.tlsListener?.port;
  }

  /**
   * SIGHUP: re-reads the certificate files for new connections (clients and nodes); open
   * connections keep theirs. Files that cannot be loaded leave the ones in use in place.
   */
  reloadTls(): void {
    reloadTlsFiles({ client: this.tlsListener, backend: this.backendTls }, this.log);
  }

  /** Listens, then learns the topology; serves even while no node answers (requests wait or time out). */
  async start(): Promise<void> {
    this.releaseClock = useClock();
    if (!this.config.tlsOnly) await listenOn(this.server, this.config.port, this.config.bind);
    if (this.tlsListener !== null) await listenOn(this.tlsListener.server, this.config.tlsPort ?? 0, this.config.bind);
    this.log.info({ bind: this.config.bind, port: this.port, tlsPort: this.tlsPort, seeds: this.config.seeds }, 'listening');
    await this.router.start();
    // Idle dedicated links follow the masters (checked at each refresh interval).
    this.privateLinks.warm(this.router.masterNodes());
    this.warmTimer = setInterval(() => this.privateLinks.warm(this.router.masterNodes()), this.config.refreshIntervalMs);
    this.warmTimer.unref();
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

  private accept(socket: net.Socket, openTransport: TransportOpener): void {
    this.totalConnections++;
    if (this.sessions.size >= this.config.maxClients) {
      this.rejectedConnections++;
      socket.on('error', () => {});
      // As Redis: the error, then the connection is closed (not left half-open).
      endGracefully(socket, MAX_CLIENTS_REPLY);
      return;
    }
    let session: Session;
    try {
      session = this.newSession(openTransport);
    } catch (error) {
      // The connection went away before slotgate could take it over: nothing to serve.
      this.log.debug({ err: (error as Error).message }, 'dropped a connection at accept');
      return;
    }
    this.sessions.add(session);
  }

  private newSession(openTransport: TransportOpener): Session {
    return new Session(
      this.nextClientId++,
      openTransport,
      this,
      this.dispatcher,
      this.limits,
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
      `cross_slot:${this.config.crossSlot}`,
      `admin_commands:${this.config.adminCommands ? 'yes' : 'no'}`,
      `topology_epoch:${this.router.epoch}`,
      `covered_slots:${this.router.coveredSlots}`,
      `masters:${this.router.masterAddresses().join(',')}`,
      `redirects_moved:${s.moved}`,
      `redirects_ask:${s.ask}`,
      `retries_tryagain:${s.tryagain}`,
      `retries_clusterdown:${s.clusterdown}`,
      `link_downs:${s.linkDowns}`,
      `private_links_lent:${this.privateLinks.lentCount}`,
      `private_links_idle:${this.privateLinks.idleCount}`,
      `private_links_lent_total:${this.privateLinks.totalLent}`,
      `private_links_closed_dirty:${this.privateLinks.closedDirty}`,
      `upstream_timeouts:${s.timeouts}`,
      `topology_refreshes:${s.refreshes}`,
      `topology_refresh_failures:${s.refreshFailures}`,
      `scripts_remembered:${this.router.scripts.store.size}`,
      `noscript_reloads:${this.router.scripts.reloads}`,
    ];
    return lines.join('\r\n') + '\r\n';
  }

  get coveredSlots(): number {
    return this.router.coveredSlots;
  }

  get announceHost(): string | undefined {
    return this.config.announceHost;
  }

  get announcePort(): number | undefined {
    return this.config.announcePort;
  }

  options(): OptionView[] {
    const config = this.config as unknown as Record<string, unknown>;
    return OPTIONS.map((spec) => {
      const value = config[spec.field];
      let text = '';
      if (value !== undefined) text = spec.secret ? REDACTED : String(formatValue(spec, value as never));
      return { name: spec.name, value: text, runtime: spec.runtime === true };
    });
  }

  setOption(name: string, value: string): string | null {
    const spec = OPTIONS.find((o) => o.name === name);
    if (spec === undefined) return `Unknown option '${name}'`;
    if (spec.runtime !== true) return `'${name}' cannot be changed while running (restart with the new value)`;
    const coerced = coerceValue(spec, value);
    if (!coerced.ok) return `Invalid value for '${name}': ${coerced.error}`;
    (this.config as unknown as Record<string, unknown>)[spec.field] = coerced.value;
    // Options read where they are used (cross-slot, admin-commands, max-clients) need nothing more.
    const config = this.config;
    this.limits.maxPending = config.clientMaxPending;
    this.limits.slowMs = config.slowlogLogSlowerThanUs / 1000;
    this.slowlog.setMaxLen(config.slowlogMaxLen);
    this.routerOptions.maxRedirects = config.maxRedirects;
    this.routerOptions.requestTimeoutMs = config.requestTimeoutMs;
    this.privateLinks.limits.max = config.privateLinksMax;
    this.log.level = config.logLevel;
    this.dispatcher.traceTo(this.log);
    this.log.info({ option: name, value: coerced.value }, 'option changed');
    return null;
  }

  clientList(): string {
    const now = Date.now();
    return [...this.sessions].map((s) => s.describe(now) + '\n').join('');
  }

  clients(): Iterable<ClientView> {
    return this.sessions;
  }

  clusterDescription(): string {
    return this.router.describe();
  }

  routingTable(names: string[]): [string, string, string][] {
    const rows: [string, string, string][] = [];
    for (const spec of this.dispatcher.table.all()) {
      if (names.length === 0 || names.includes(spec.name)) rows.push([spec.name, spec.policy, spec.detail]);
    }
    return rows.sort((a, b) => (a[0] < b[0] ? -1 : 1));
  }

  /** Stops listening, closes clients and node links. */
  async close(): Promise<void> {
    const closed = Promise.all([
      // Called (with an error) also when it never listened (tls-only).
      new Promise<void>((resolve) => this.server.close(() => resolve())),
      this.tlsListener?.close(),
    ]);
    for (const session of this.sessions) session.destroy();
    if (this.warmTimer !== null) clearInterval(this.warmTimer);
    this.privateLinks.close();
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
