import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { KillFilter } from '../proxy/commands/client-control.js';

/**
 * Every IPC message between slotgate's primary and its workers (`threads` > 1), in one place.
 * Each has a `type` starting with `slotgate:`, so messages of other users of the channel
 * (prom-client's own cluster requests, Node's internal ones) are never taken for ours.
 */

/** Worker metrics as prom-client's `getMetricsAsJSON` gives them, for `AggregatorRegistry.aggregate`. */
export type WorkerMetrics = MetricObjectWithValues<MetricValue<string>>[];

/** A worker's readiness as its `/readyz` would say it in one process. */
export type WorkerReadiness = { ready: boolean; reason?: string } & Record<string, unknown>;

/** What one worker asks the others (through the primary) for its client's CLIENT LIST / CLIENT KILL. */
export type PeerAsk = { kind: 'client-list' } | { kind: 'client-kill'; filter: KillFilter };
/** One other worker's answer: its CLIENT LIST lines, or how many of its clients it killed. */
export type PeerAnswer = { kind: 'client-list'; text: string } | { kind: 'client-kill'; killed: number };

/** From the primary to a worker. */
export type ToWorker =
  /** Start today's graceful drain (SIGTERM/SIGINT reached the primary), then exit 0. */
  | { type: 'slotgate:drain'; signal: string }
  /** SIGHUP reached the primary: resolve the configuration again and take it over. */
  | { type: 'slotgate:reload' }
  /** A `PROXY CONFIG SET` another worker's client made (or one replayed to a new worker). */
  | { type: 'slotgate:config-set'; name: string; value: string }
  /** Questions, answered with the same `id`. */
  | { type: 'slotgate:readiness'; id: number }
  | { type: 'slotgate:metrics'; id: number }
  /** Another worker's PeerAsk, answered with a peer-answer of the same `id`. */
  | { type: 'slotgate:peer-question'; id: number; ask: PeerAsk }
  /** The other workers' answers to this worker's peer-ask `askId` (those that answered in time). */
  | { type: 'slotgate:peer-reply'; askId: number; answers: PeerAnswer[] };

/** From a worker to the primary. */
export type FromWorker =
  /** The worker listens and has tried the cluster (startProxy resolved). */
  | { type: 'slotgate:started' }
  /** One of this worker's clients changed an option with `PROXY CONFIG SET`. */
  | { type: 'slotgate:config-set'; name: string; value: string }
  | { type: 'slotgate:readiness-reply'; id: number; readiness: WorkerReadiness }
  | { type: 'slotgate:metrics-reply'; id: number; metrics: WorkerMetrics }
  | { type: 'slotgate:peer-answer'; id: number; answer: PeerAnswer }
  /** Asks every other worker (the primary passes it on and gathers the answers). */
  | { type: 'slotgate:peer-ask'; askId: number; ask: PeerAsk };

export type Question = Extract<ToWorker, { id: number }>;
export type Answer = Extract<FromWorker, { id: number }>;

/** True for a message of ours (not prom-client's or Node's). */
export function isSlotgateMessage(message: unknown): message is { type: string } {
  return (
    typeof message === 'object' &&
    message !== null &&
    typeof (message as { type?: unknown }).type === 'string' &&
    (message as { type: string }).type.startsWith('slotgate:')
  );
}

/** Environment variable that tells a forked worker its index (0 .. threads-1). */
export const WORKER_INDEX_ENV = 'SLOTGATE_WORKER_INDEX';
