import net from 'node:net';
import type { SlotgateConfig } from '../config/config.js';
import { TopologySource } from '../cluster/topology-source.js';
import { NodeReplyError } from '../upstream/query-node.js';
import { parseCommandReply } from './commands/command-info.js';
import { CommandTable, fallbackCommandTable } from './commands/table.js';
import { clock, useClock } from '../util/coarse-clock.js';
import { parseOutputLimits, type OutputLimits } from '../config/output-limits.js';
import type { Logger } from '../telemetry/logger.js';
import type { ClientView, OptionView, ServerContext, WorkerPeers } from './client-context.js';
import { OPTIONS } from '../config/schema.js';
import { coerceValue, formatValue } from '../config/values.js';
import { REDACTED } from '../config/redact.js';
import { describeChange, diffConfig, diffUsers } from '../config/diff.js';
import { drainConfigErrors } from '../config/drain-check.js';
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

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const MAX_CLIENTS_REPLY = Buffer.from('-ERR max number of clients reached\r\n');
const CLIENT_CHECK_MS = 1000;

/** The option's limits (checked valid when the config was loaded). */
function outputLimits(config: SlotgateConfig): OutputLimits {
  return parseOutputLimits(config.clientOutputBufferLimit) as OutputLimits;
}

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
  /** Client ids: worker k of N issues k+1, k+1+N, ... so an id names one client across workers. */
  private nextClientId: number;
  private readonly clientIdStep: number;
  /** This process' place among the workers (index 0 of 1 without workers). */
  readonly worker: WorkerPlace;
  /**
   * Called after a client's `PROXY CONFIG SET` succeeded here; a worker passes the change on to
   * the other workers (through the primary) so that it holds for every connection.
   */
  onOptionSet: ((name: string, value: string) => void) | null = null;
  /** The other workers' clients (CLIENT LIST, CLIENT KILL); null in one process. */
  peers: WorkerPeers | null = null;
  private releaseClock: (() => void) | null = null;
  /** Shared by every session, so PROXY CONFIG SET reaches them all. */
  private readonly limits: SessionLimits;
  private readonly routerOptions: RouterOptions;
  /** Dedicated node connections lent to clients (transactions, blocking commands, subscriptions). */
  readonly privateLinks: PrivateLinkPool;
  private warmTimer: NodeJS.Timeout | null = null;
  /** Once a second: idle clients and clients over the output soft limit for too long. */
  private clientCheckTimer: NodeJS.Timeout | null = null;
  redisVersion = '7.0.0';
  totalConnections = 0;
  rejectedConnections = 0;
  /** Client bytes and protocol errors (metrics). */
  readonly traffic: ClientTraffic = newClientTraffic();
  /**
   * True while shutting down gracefully (`drain`): /readyz answers 503 so load balancers stop
   * sending clients.
   */
  draining = false;
  /** Client connections closed by a drain, gracefully or cut at drain-timeout (slotgate_drain_closes_total). */
  drainCloses = 0;
  /** The drain closed the listeners: a connection that still arrives (a TLS handshake under way) is dropped. */
  private listenersClosed = false;
  /** Called when the last session closes during a drain. */
  private onLastSessionClosed: (() => void) | null = null;

  constructor(
    private readonly config: SlotgateConfig,
    readonly log: Logger,
    worker: WorkerPlace = SINGLE_PROCESS,
  ) {
    this.worker = worker;
    this.nextClientId = worker.index + 1;
    this.clientIdStep = worker.count;
    const credentials = { user: config.backendUser, password: config.backendPassword };
    this.backendTls = backendTlsFromConfig(config);
    this.source = new TopologySource(config.seeds, credentials, config.connectTimeoutMs, this.backendTls);
    this.routerOptions = {
      connectionsPerNode: config.connectionsPerNode,
      requestTimeoutMs: config.requestTimeoutMs,
      refreshIntervalMs: config.refreshIntervalMs,
      maxRedirects: config.maxRedirects,
      nodeMaxPending: config.nodeMaxPending,
      link: { connectTimeoutMs: config.connectTimeoutMs, keepaliveMs: config.tcpKeepaliveMs, credentials, tls: this.backendTls },
    };
    this.router = new Router(this.source, this.routerOptions, log);
    this.limits = {
      maxBulkLen: config.protoMaxBulkLen,
      maxArgs: config.maxArgs,
      maxBuffered: config.clientQueryBufferLimit,
      maxPending: config.clientMaxPending,
      slowMs: config.slowlogLogSlowerThanUs / 1000,
      outputLimits: outputLimits(config),
      idleTimeoutMs: config.clientIdleTimeoutMs,
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

  /**
   * From `users` and `requirepass`; replaced by a SIGHUP reload that changes them (new AUTH and
   * HELLO AUTH use the new one; open connections are re-bound, see `replaceUsers`).
   */
  users: UserDirectory;
  /** SLOWLOG GET/LEN/RESET: slotgate's own, end to end. */
  readonly slowlog: SlowLog;
  /** Counts and reply times per command (metrics). */
  get commandStats(): CommandStats {
    return this.dispatcher.commandStats;
  }

  /** drain-timeout now (changeable): the bound of a drain from its signal. */
  get drainTimeoutMs(): number {
    return this.config.drainTimeoutMs;
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
    this.clientCheckTimer = setInterval(() => this.checkClients(), CLIENT_CHECK_MS);
    this.clientCheckTimer.unref();
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

  /** Closes idle clients (client-idle-timeout) and slow readers (client-output-buffer-limit's soft limit). */
  private checkClients(): void {
    const checkIdle = this.limits.idleTimeoutMs > 0;
    const now = clock.now;
    for (const session of this.sessions) {
      if (!session.checkOutputLimit(now) && checkIdle) session.checkIdle(now);
    }
  }

  private accept(socket: net.Socket, openTransport: TransportOpener): void {
    if (this.listenersClosed) {
      socket.destroy();
      return;
    }
    this.totalConnections++;
    if (this.sessions.size >= this.config.maxClients) {
      this.rejectedConnections++;
      socket.on('error', () => {});
      // As Redis: the error, then the connection is closed (not left half-open).
      endGracefully(socket, MAX_CLIENTS_REPLY);
      return;
    }
    // Dead peers (a client host gone without a FIN) are found by keepalive probes.
    if (this.config.tcpKeepaliveMs > 0) socket.setKeepAlive(true, this.config.tcpKeepaliveMs);
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
    const id = this.nextClientId;
    this.nextClientId += this.clientIdStep;
    return new Session(
      id,
      openTransport,
      this,
      this.dispatcher,
      this.limits,
      (s) => this.sessionClosed(s),
    );
  }

  private sessionClosed(session: Session): void {
    if (!this.sessions.delete(session)) return;
    if (!this.listenersClosed) return;
    this.drainCloses++;
    if (this.sessions.size === 0) this.onLastSessionClosed?.();
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
      ...(this.worker.count > 1 ? [`worker_index:${this.worker.index}`, `workers:${this.worker.count}`] : []),
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

  /**
   * PROXY CONFIG SET. `relayed`: the change comes from another worker's client (through the
   * primary), so it is not passed on again.
   */
  setOption(name: string, value: string, relayed = false): string | null {
    const spec = OPTIONS.find((o) => o.name === name);
    if (spec === undefined) return `Unknown option '${name}'`;
    if (spec.reloadable === true) return `'${name}' cannot be changed with PROXY CONFIG SET (change the configuration and send slotgate SIGHUP)`;
    if (spec.runtime !== true) return `'${name}' cannot be changed while running (restart with the new value)`;
    const coerced = coerceValue(spec, value);
    if (!coerced.ok) return `Invalid value for '${name}': ${coerced.error}`;
    const problems = drainConfigErrors({ ...this.config, [spec.field]: coerced.value });
    if (problems.length > 0) return `Invalid value for '${name}': ${problems[0]}`;
    (this.config as unknown as Record<string, unknown>)[spec.field] = coerced.value;
    this.applyRuntimeOptions();
    this.log.info({ option: name, value: coerced.value, relayed }, 'option changed');
    if (!relayed) this.onOptionSet?.(name, value);
    return null;
  }

  /**
   * Hands the config's runtime options to where they are used. Options read where they are used
   * (cross-slot, admin-commands, max-clients, announce-*, drain-*) need nothing more.
   */
  private applyRuntimeOptions(): void {
    const config = this.config;
    this.limits.maxPending = config.clientMaxPending;
    this.limits.maxBulkLen = config.protoMaxBulkLen;
    this.limits.maxArgs = config.maxArgs;
    this.limits.maxBuffered = config.clientQueryBufferLimit;
    this.limits.slowMs = config.slowlogLogSlowerThanUs / 1000;
    this.limits.outputLimits = outputLimits(config);
    this.limits.idleTimeoutMs = config.clientIdleTimeoutMs;
    this.routerOptions.nodeMaxPending = config.nodeMaxPending;
    this.slowlog.setMaxLen(config.slowlogMaxLen);
    this.routerOptions.maxRedirects = config.maxRedirects;
    this.routerOptions.requestTimeoutMs = config.requestTimeoutMs;
    this.privateLinks.limits.max = config.privateLinksMax;
    this.privateLinks.limits.idlePerNode = config.privateLinksIdle;
    this.log.level = config.logLevel;
    this.dispatcher.traceTo(this.log);
  }

  /**
   * SIGHUP: takes over what `next` (the configuration resolved again, as at start, and valid)
   * changes of the runtime and reloadable options; the others are kept and named as needing a
   * restart. Passwords and users: see `replaceUsers`. Logs what changed (secrets by name only).
   */
  reloadConfig(next: SlotgateConfig): ReloadOutcome {
    const changes = diffConfig(this.config, next);
    const running = this.config as unknown as Record<string, unknown>;
    const wanted = next as unknown as Record<string, unknown>;
    const applied: Record<string, unknown> = {};
    const restart: string[] = [];
    let usersChanged = false;
    let usersSummary: ReturnType<typeof diffUsers> | undefined;
    for (const { spec, effect } of changes) {
      if (effect === 'restart') {
        restart.push(spec.name);
        continue;
      }
      applied[spec.name] = describeChange(spec, running[spec.field], wanted[spec.field]);
      if (spec.field === 'users') usersSummary = diffUsers(this.config.users, next.users);
      if (spec.field === 'users' || spec.field === 'requirepass') usersChanged = true;
      const value = wanted[spec.field];
      running[spec.field] = Array.isArray(value) ? [...(value as unknown[])] : value;
    }
    this.applyRuntimeOptions();
    const outcome: ReloadOutcome = { applied: Object.keys(applied), restart, clientsClosed: 0, clientsRebound: 0 };
    if (usersChanged) Object.assign(outcome, this.replaceUsers());
    if (restart.length > 0) {
      this.log.warn({ options: restart }, 'configuration reload: changed, needs a restart (the running values are kept)');
    }
    if (outcome.applied.length > 0) {
      this.log.info(
        { changed: applied, users: usersSummary, clientsClosed: outcome.clientsClosed, clientsRebound: outcome.clientsRebound },
        'configuration reloaded',
      );
    } else {
      this.log.info('configuration reloaded: nothing to change');
    }
    return outcome;
  }

  /**
   * New passwords and users (`users`, `requirepass` changed): AUTH and HELLO AUTH use them from
   * now on. Connections stay connected, as on Redis when requirepass changes, and get their
   * user's new permissions (re-bound by name), except those authenticated as a user that is
   * gone or disabled, which are closed at once (as Redis' ACL DELUSER closes them).
   * Connections not yet authenticated need the new passwords; if `default` needs none any more
   * they are in as `default`, as on Redis.
   */
  private replaceUsers(): { clientsClosed: number; clientsRebound: number } {
    const users = new UserDirectory(this.config.users, this.config.requirepass);
    this.users = users;
    let clientsClosed = 0;
    let clientsRebound = 0;
    for (const session of [...this.sessions]) {
      const old = session.user;
      if (old === null) {
        const initial = users.initialUser;
        if (initial !== null) session.rebind(initial);
        continue;
      }
      const now = users.get(old.name);
      if (now === undefined || !now.enabled) {
        session.kill();
        clientsClosed++;
      } else {
        session.rebind(now);
        clientsRebound++;
      }
    }
    return { clientsClosed, clientsRebound };
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

  /**
   * Graceful shutdown (SIGTERM/SIGINT), in phases, each logged: /readyz fails at once while
   * clients are still served and accepted for `drain-delay`; then the listeners close, and each
   * client reads no more requests, gets the replies of those in flight and is closed (at once
   * when it has none); then the node links close. Clients still open `drain-timeout` after the
   * start are cut (destroyed). Resolves when everything is closed; the caller exits.
   */
  async drain(signal: string): Promise<DrainOutcome> {
    const startedAt = Date.now();
    const { drainDelayMs, drainTimeoutMs } = this.config;
    this.draining = true;
    this.log.info(
      { signal, drainDelayMs, drainTimeoutMs, clients: this.sessions.size },
      'drain: not ready (/readyz 503); still serving until drain-delay has passed',
    );
    await sleep(drainDelayMs);

    this.listenersClosed = true;
    this.server.close();
    void this.tlsListener?.close();
    const draining = this.sessions.size;
    let busy = 0;
    for (const session of this.sessions) {
      if (session.pendingRequests > 0) busy++;
      session.drain();
    }
    this.log.info(
      { clients: draining, withRequestsInFlight: busy },
      'drain: listeners closed; clients get the replies of their requests in flight, then are closed',
    );

    const left = Math.max(0, startedAt + drainTimeoutMs - Date.now());
    const allClosed = new Promise<boolean>((resolve) => {
      if (this.sessions.size === 0) return resolve(true);
      this.onLastSessionClosed = () => resolve(true);
      setTimeout(() => resolve(false), left).unref();
    });
    let cut = 0;
    if (await allClosed) {
      this.log.info({ clients: draining, ms: Date.now() - startedAt }, 'drain: every client closed');
    } else {
      cut = this.sessions.size;
      const stuck = [...this.sessions].map((s) => ({ id: s.id, addr: s.peerAddress, pending: s.pendingRequests }));
      this.log.warn({ cut, clients: stuck.slice(0, 20) }, 'drain: drain-timeout reached; cutting the clients still open');
      for (const session of [...this.sessions]) session.kill();
    }
    this.onLastSessionClosed = null;
    this.stopNodeSide();
    this.log.info({ closed: draining - cut, cut, ms: Date.now() - startedAt }, 'drain: node links closed; done');
    return { closed: draining - cut, cut };
  }

  /** Closes the dedicated and shared node links and stops the refresh timers. */
  private stopNodeSide(): void {
    if (this.warmTimer !== null) clearInterval(this.warmTimer);
    this.warmTimer = null;
    if (this.clientCheckTimer !== null) clearInterval(this.clientCheckTimer);
    this.clientCheckTimer = null;
    this.privateLinks.close();
    this.router.stop();
    this.releaseClock?.();
    this.releaseClock = null;
  }

  /** Stops listening, closes clients and node links. */
  async close(): Promise<void> {
    const closed = Promise.all([
      // Called (with an error) also when it never listened (tls-only).
      new Promise<void>((resolve) => this.server.close(() => resolve())),
      this.tlsListener?.close(),
    ]);
    for (const session of this.sessions) session.destroy();
    this.stopNodeSide();
    await closed;
  }
}

/** What a SIGHUP reload did: option names applied and kept for a restart, clients closed (user gone) and re-bound. */
export interface ReloadOutcome {
  applied: string[];
  restart: string[];
  clientsClosed: number;
  clientsRebound: number;
}

/** How a drain ended: clients closed after their replies, and clients cut at drain-timeout. */
export interface DrainOutcome {
  closed: number;
  cut: number;
}

/** Which worker a proxy is, of how many (see src/workers/). */
export interface WorkerPlace {
  index: number;
  count: number;
}

/** slotgate in one process (`threads 1`): client ids 1, 2, 3, ... */
const SINGLE_PROCESS: WorkerPlace = { index: 0, count: 1 };

/** Starts a proxy with this configuration; resolves once it listens and has tried the cluster. */
export async function startProxy(config: SlotgateConfig, log: Logger, worker?: WorkerPlace): Promise<ProxyServer> {
  const proxy = new ProxyServer(config, log, worker);
  await proxy.start();
  return proxy;
}
