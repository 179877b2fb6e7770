import { collectDefaultMetrics, Counter, Gauge, Registry, type Aggregator, type Metric } from 'prom-client';
import type { ProxyServer } from '../proxy/server.js';
import { packageVersion } from '../version.js';
import { DURATION_BUCKETS_SECONDS, type CommandStats } from './command-stats.js';

/**
 * Every metric slotgate exports, defined here and nowhere else. The hot path only adds to plain
 * number fields (Router.stats, ProxyServer and NodeLink counters, CommandStat); each metric
 * reads them in its `collect` callback when Prometheus scrapes, so serving a request never
 * touches prom-client (no label lookup, no string building per request).
 *
 * With workers (`threads` > 1) the primary adds up every worker's registry (prom-client's
 * AggregatorRegistry): counters and histograms are summed, and each gauge says how (its
 * `aggregator`): connections and links are summed, covered slots is the worst worker's.
 */

/** Names of the `slotgate_*` metrics (the dashboard test checks its queries against this list). */
export const SLOTGATE_METRICS = [
  'slotgate_build_info',
  'slotgate_client_connections',
  'slotgate_client_connections_total',
  'slotgate_client_connections_rejected_total',
  'slotgate_commands_total',
  'slotgate_command_duration_seconds',
  'slotgate_upstream_requests_total',
  'slotgate_upstream_errors_total',
  'slotgate_upstream_connections',
  'slotgate_redirections_total',
  'slotgate_topology_refreshes_total',
  'slotgate_slots_covered',
  'slotgate_fanout_subrequests_total',
  'slotgate_client_bytes_received_total',
  'slotgate_client_bytes_sent_total',
  'slotgate_protocol_errors_total',
  'slotgate_private_links_lent',
  'slotgate_private_links_idle',
  'slotgate_drain_closes_total',
  'slotgate_ready',
] as const;

/** The primary's own metrics with workers (`threads` > 1), beside the workers' added-up ones. */
export const PRIMARY_METRICS = ['slotgate_workers', 'slotgate_worker_restarts_total', 'slotgate_ready'] as const;

/** What the primary's metrics read. */
export interface PrimaryMetricsSource {
  readonly aliveCount: number;
  readonly restarts: number;
  /** Whether the primary's /readyz would answer 200 (every worker ready). */
  ready(): Promise<boolean>;
}

/**
 * The primary's registry: no default process metrics (the workers' are summed instead; the
 * primary only forks and relays), `slotgate_ready` for all the workers together.
 */
export function createPrimaryMetrics(primary: PrimaryMetricsSource): Registry {
  const registry = new Registry();
  const registers = [registry];
  gauge(registry, 'slotgate_workers', 'Worker processes alive now (threads)', () => primary.aliveCount);
  counter(registry, 'slotgate_worker_restarts_total', 'Workers replaced after exiting outside a drain', () => primary.restarts);
  new Gauge({
    name: 'slotgate_ready',
    help: '1 while /readyz answers 200',
    registers,
    async collect() {
      this.set((await primary.ready()) ? 1 : 0);
    },
  });
  return registry;
}

/** What `slotgate_ready` reads (the admin server's readiness check). */
export type ReadySource = () => boolean;

/** A registry with Node's default metrics and slotgate's, reading `proxy` at scrape time. */
export function createMetrics(proxy: ProxyServer, ready: ReadySource): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const router = proxy.router;

  new Gauge({
    name: 'slotgate_build_info',
    help: 'Always 1; labels give the slotgate and Node.js versions',
    labelNames: ['version', 'node'],
    registers,
    // Every worker runs the same build.
    aggregator: 'first',
  }).set({ version: packageVersion(), node: process.version }, 1);

  gauge(registry, 'slotgate_client_connections', 'Client connections open now', () => proxy.clientCount);
  counter(registry, 'slotgate_client_connections_total', 'Client connections accepted', () => proxy.totalConnections);
  new Counter({
    name: 'slotgate_client_connections_rejected_total',
    help: 'Client connections refused, by reason',
    labelNames: ['reason'],
    registers,
    collect() {
      this.reset();
      this.inc({ reason: 'max-clients' }, proxy.rejectedConnections);
    },
  });

  registry.registerMetric(commandDuration(proxy.commandStats));
  new Counter({
    name: 'slotgate_commands_total',
    help: "Client requests answered, by command (the command table's names, else 'other') and result (ok or error reply)",
    labelNames: ['command', 'result'],
    registers,
    collect() {
      this.reset();
      for (const stat of proxy.commandStats.used()) {
        this.inc({ command: stat.name, result: 'ok' }, stat.ok);
        this.inc({ command: stat.name, result: 'error' }, stat.errors);
      }
    },
  });

  new Counter({
    name: 'slotgate_upstream_requests_total',
    help: 'Requests written to shared node links, by master',
    labelNames: ['node'],
    registers,
    collect() {
      this.reset();
      for (const node of router.currentMasters()) this.inc({ node: node.address }, sumLinks(node.links, (l) => l.requestsSent));
    },
  });
  new Counter({
    name: 'slotgate_upstream_errors_total',
    help: 'Shared node link failures (connection lost or refused, timeout), by master',
    labelNames: ['node'],
    registers,
    collect() {
      this.reset();
      for (const node of router.currentMasters()) this.inc({ node: node.address }, sumLinks(node.links, (l) => l.linkFailures));
    },
  });
  new Gauge({
    name: 'slotgate_upstream_connections',
    help: 'Shared node links connected now, by master',
    labelNames: ['node'],
    registers,
    collect() {
      this.reset();
      for (const node of router.currentMasters()) this.set({ node: node.address }, sumLinks(node.links, (l) => (l.status === 'ready' ? 1 : 0)));
    },
  });

  new Counter({
    name: 'slotgate_redirections_total',
    help: 'Redirections and retries followed for clients, by type (moved, ask, tryagain, clusterdown)',
    labelNames: ['type'],
    registers,
    collect() {
      this.reset();
      const s = router.stats;
      this.inc({ type: 'moved' }, s.moved);
      this.inc({ type: 'ask' }, s.ask);
      this.inc({ type: 'tryagain' }, s.tryagain);
      this.inc({ type: 'clusterdown' }, s.clusterdown);
    },
  });
  new Counter({
    name: 'slotgate_topology_refreshes_total',
    help: 'Topology refreshes run, by trigger (periodic, moved, link-down, ...) and result (ok, error)',
    labelNames: ['trigger', 'result'],
    registers,
    collect() {
      this.reset();
      for (const [trigger, outcome] of router.stats.refreshesByTrigger) {
        this.inc({ trigger, result: 'ok' }, outcome.ok);
        this.inc({ trigger, result: 'error' }, outcome.failed);
      }
    },
  });
  // The worst worker's: a worker with a stale map is what a client may meet.
  gauge(registry, 'slotgate_slots_covered', 'Hash slots served by a master in the current slot map', () => router.coveredSlots, 'min');
  counter(
    registry,
    'slotgate_fanout_subrequests_total',
    'Sub-requests sent for split multi-key commands and whole-cluster commands',
    () => router.stats.fanoutSubrequests,
  );
  counter(registry, 'slotgate_client_bytes_received_total', 'Bytes read from clients', () => proxy.traffic.bytesIn);
  counter(registry, 'slotgate_client_bytes_sent_total', 'Bytes written to clients', () => proxy.traffic.bytesOut);
  counter(registry, 'slotgate_protocol_errors_total', 'Clients closed for malformed input', () => proxy.traffic.protocolErrors);
  counter(registry, 'slotgate_output_limit_closes_total', 'Clients closed for exceeding client-output-buffer-limit', () => proxy.traffic.outputLimitCloses);
  counter(registry, 'slotgate_idle_closes_total', 'Clients closed after client-idle-timeout', () => proxy.traffic.idleCloses);
  gauge(registry, 'slotgate_private_links_lent', 'Dedicated node connections lent to clients now', () => proxy.privateLinks.lentCount);
  gauge(registry, 'slotgate_private_links_idle', 'Dedicated node connections connected and ready to lend', () => proxy.privateLinks.idleCount);
  counter(registry, 'slotgate_drain_closes_total', 'Client connections closed by a drain (shutdown)', () => proxy.drainCloses);
  gauge(registry, 'slotgate_ready', '1 while /readyz answers 200', () => (ready() ? 1 : 0), 'min');
  return registry;
}

function sumLinks<L>(links: readonly L[], value: (link: L) => number): number {
  let sum = 0;
  for (const link of links) sum += value(link);
  return sum;
}

/** A gauge read at scrape time; `aggregator`: how the workers' values combine (default: summed). */
function gauge(registry: Registry, name: string, help: string, read: () => number, aggregator: Aggregator = 'sum'): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    aggregator,
    collect() {
      this.set(read());
    },
  });
}

function counter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

/**
 * `slotgate_command_duration_seconds{command}`: a histogram built at scrape time from the
 * CommandStat buckets (prom-client's own Histogram would be fed per request: a label lookup and
 * a closure each time). It has the shape prom-client's registry prints for its own histograms.
 */
function commandDuration(stats: CommandStats): Metric {
  const name = 'slotgate_command_duration_seconds';
  const metric = {
    name,
    help: 'Time from reading a request to its reply being ready in order, by command',
    type: 'histogram',
    aggregator: 'sum',
    get() {
      const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
      for (const stat of stats.used()) {
        let cumulative = 0;
        for (let i = 0; i < DURATION_BUCKETS_SECONDS.length; i++) {
          cumulative += stat.buckets[i];
          values.push({ labels: { le: DURATION_BUCKETS_SECONDS[i], command: stat.name }, value: cumulative, metricName: `${name}_bucket` });
        }
        values.push({ labels: { le: '+Inf', command: stat.name }, value: stat.count, metricName: `${name}_bucket` });
        values.push({ labels: { command: stat.name }, value: stat.sumMs / 1000, metricName: `${name}_sum` });
        values.push({ labels: { command: stat.name }, value: stat.count, metricName: `${name}_count` });
      }
      return { name, help: metric.help, type: 'histogram', values, aggregator: 'sum' };
    },
  };
  return metric as unknown as Metric;
}
