import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { KillFilter } from '../proxy/commands/client-control.js';
import type { SlotgateConfig } from '../config/config.js';

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
  /**
   * The answer to `slotgate:hello`: the worker's index and the configuration it starts with (the
   * primary's: what it started with, plus reloads and PROXY CONFIG SET since), so a replacement
   * listens where the others do and issues ids of the same stride, whatever the file says now.
   */
  | { type: 'slotgate:start'; index: number; config: SlotgateConfig }
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
  /**
   * First: the worker listens for messages and asks for its start message (sent only now: a
   * message sent while the worker still loads its modules would find no listener and be lost).
   */
  | { type: 'slotgate:hello' }
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
