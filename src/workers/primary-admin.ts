import { AggregatorRegistry, Registry } from 'prom-client';
import { createPrimaryMetrics } from '../telemetry/metrics.js';
import type { AdminSource } from '../admin/admin-server.js';
import type { WorkerMetrics, WorkerReadiness } from './messages.js';
import type { Primary } from './primary.js';

/** How long /readyz waits for a worker's answer: a worker that cannot answer in this is not ready. */
export const READINESS_TIMEOUT_MS = 1000;
/** How long /metrics waits for a worker's registry (Prometheus' own scrape timeout is 10 s by default). */
export const METRICS_TIMEOUT_MS = 2000;

/** One worker's line in the primary's /readyz body. */
export type WorkerState = { worker: number; pid?: number } & WorkerReadiness;

/**
 * The admin port of slotgate with workers, in the primary:
 *
 * - `/readyz`: 200 only when every one of the N workers is running and says it is ready
 *   (asked over IPC; no answer within READINESS_TIMEOUT_MS is not ready); 503 at once while
 *   draining. The body names each worker's state.
 * - `/metrics`: every worker's registry added up by prom-client's AggregatorRegistry (each
 *   metric's `aggregator`: counters summed, gauges as metrics.ts says), plus the primary's own
 *   metrics (metrics.ts' createPrimaryMetrics: workers alive, restarts, and `slotgate_ready`
 *   for all of them).
 *   The workers are asked over our own IPC messages rather than through
 *   AggregatorRegistry.clusterMetrics(), which fails the whole scrape when one worker is slow or
 *   gone (a restarting worker would blank every metric).
 */
export class PrimaryAdmin implements AdminSource {
  private readonly registry: Registry;
  readonly contentType: string;

  constructor(private readonly primary: Primary) {
    this.registry = createPrimaryMetrics({
      get aliveCount() {
        return primary.aliveCount;
      },
      get restarts() {
        return primary.restarts;
      },
      ready: async () => (await this.readiness()).ready,
    });
    this.contentType = this.registry.contentType;
  }

  async readiness(): Promise<{ ready: boolean; reason?: string; coveredSlots?: number; workers: WorkerState[] }> {
    // At once: a load balancer must stop sending clients whatever the workers would say.
    if (this.primary.draining) return { ready: false, reason: 'draining', workers: this.primary.slots.map((s) => ({ worker: s.index, pid: s.worker?.process.pid, ready: false, reason: 'draining' })) };
    const workers = await Promise.all(this.primary.slots.map((slot) => this.workerState(slot)));
    const notReady = workers.filter((w) => !w.ready);
    const covered = workers.map((w) => w.coveredSlots).filter((c): c is number => typeof c === 'number');
    const coveredSlots = covered.length === workers.length ? Math.min(...covered) : 0;
    if (notReady.length > 0) {
      return { ready: false, reason: `worker not ready: ${notReady.map((w) => `${w.worker} (${w.reason ?? 'unknown'})`).join(', ')}`, coveredSlots, workers };
    }
    return { ready: true, coveredSlots, workers };
  }

  private async workerState(slot: Primary['slots'][number]): Promise<WorkerState> {
    const pid = slot.worker?.process.pid;
    if (slot.worker === null) return { worker: slot.index, ready: false, reason: 'not running' };
    if (!slot.started) return { worker: slot.index, pid, ready: false, reason: 'starting' };
    const answer = await this.primary.ask(slot, { type: 'slotgate:readiness' }, READINESS_TIMEOUT_MS);
    if (answer === null || answer.type !== 'slotgate:readiness-reply') return { worker: slot.index, pid, ready: false, reason: 'no answer' };
    return { worker: slot.index, pid, ...answer.readiness };
  }

  async metrics(): Promise<string> {
    const answers = await Promise.all(
      this.primary.slots.filter((s) => s.started).map((slot) => this.primary.ask(slot, { type: 'slotgate:metrics' }, METRICS_TIMEOUT_MS)),
    );
    const perWorker: WorkerMetrics[] = [];
    for (const answer of answers) {
      // The workers' slotgate_ready is each one's own: the primary's says whether all are.
      if (answer?.type === 'slotgate:metrics-reply') perWorker.push(answer.metrics.filter((m) => m.name !== 'slotgate_ready'));
    }
    const merged = Registry.merge([AggregatorRegistry.aggregate(perWorker), this.registry]);
    return merged.metrics();
  }
}
