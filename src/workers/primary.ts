import cluster, { type Worker } from 'node:cluster';
import type { SlotgateConfig } from '../config/config.js';
import { loadConfig } from '../config/load.js';
import { OPTIONS } from '../config/schema.js';
import { coerceValue } from '../config/values.js';
import type { Logger } from '../telemetry/logger.js';
import { startAdminServerFor, type AdminServer } from '../admin/admin-server.js';
import { DRAIN_GRACE_MS, type Exit } from '../lifecycle/drain-and-exit.js';
import { diffConfig } from '../config/diff.js';
import { isSlotgateMessage, type Answer, type FromWorker, type PeerAnswer, type PeerAsk, type Question, type ToWorker } from './messages.js';
import { QUICK_CRASH_MS, restartDelayMs } from './restart-backoff.js';
import { PrimaryAdmin } from './primary-admin.js';

/** A question before the primary gives it its id (each member of the union on its own). */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

/** How long the primary waits for each other worker's answer to a CLIENT LIST / CLIENT KILL. */
const PEER_QUESTION_TIMEOUT_MS = 1000;
/** After drain-timeout and the workers' own grace: how long the primary still waits for their exits. */
const PRIMARY_GRACE_MS = 1000;

/** One of the N places a worker runs in; a replacement takes the same index. */
export interface WorkerSlot {
  readonly index: number;
  worker: Worker | null;
  /** The worker's proxy listens and has tried the cluster. */
  started: boolean;
  forkedAt: number;
  /** Exits within QUICK_CRASH_MS of the fork in a row (restart backoff). */
  quickCrashes: number;
  restartTimer: NodeJS.Timeout | null;
}

export interface PrimaryOptions {
  config: SlotgateConfig;
  argv: string[];
  log: Logger;
  exit: Exit;
}

/**
 * `threads` N > 1: the node:cluster primary. It forks N workers (each runs the proxy with its own
 * node links and topology; node:cluster's round-robin hands them the RESP port's connections),
 * replaces a worker that exits outside a drain (with backoff), runs the admin port for all of
 * them (see PrimaryAdmin), relays `PROXY CONFIG SET` between them, and turns SIGTERM/SIGINT and
 * SIGHUP into drain and reload messages to every worker.
 */
export class Primary {
  readonly slots: WorkerSlot[];
  restarts = 0;
  draining = false;
  private admin: AdminServer | null = null;
  private readonly adminView: PrimaryAdmin;
  private nextQuestionId = 1;
  private readonly questions = new Map<number, (answer: Answer | null) => void>();
  /** Until every first worker started, an exit means slotgate cannot start (port taken, bad TLS file...). */
  private startingUp = true;
  private onAllStarted: (() => void) | null = null;
  /** Every worker that exited during the drain exited 0. */
  private drainClean = true;

  constructor(
    private readonly config: SlotgateConfig,
    private readonly argv: string[],
    private readonly log: Logger,
    private readonly exit: Exit,
  ) {
    this.slots = Array.from({ length: config.threads }, (_, index) => ({
      index,
      worker: null,
      started: false,
      forkedAt: 0,
      quickCrashes: 0,
      restartTimer: null,
    }));
    this.adminView = new PrimaryAdmin(this);
  }

  get aliveCount(): number {
    return this.slots.filter((s) => s.worker !== null).length;
  }

  async start(): Promise<void> {
    // Round-robin in the primary (Linux' default, said here since SCHED_NONE would let the
    // kernel pile connections onto whichever worker wakes first).
    cluster.schedulingPolicy = cluster.SCHED_RR;
    process.on('SIGINT', () => this.stop('SIGINT'));
    process.on('SIGTERM', () => this.stop('SIGTERM'));
    process.on('SIGHUP', () => void this.reload());
    const allStarted = new Promise<void>((resolve) => (this.onAllStarted = resolve));
    for (const slot of this.slots) this.fork(slot);
    await allStarted;
    this.startingUp = false;
    const { adminEnabled, adminPort, adminBind } = this.config;
    if (adminEnabled) {
      try {
        this.admin = await startAdminServerFor(this.adminView, { port: adminPort, bind: adminBind }, this.log);
      } catch (error) {
        this.fatal((error as Error).message);
      }
    }
    this.log.info({ workers: this.slots.length, pids: this.slots.map((s) => s.worker?.process.pid) }, 'workers started');
  }

  private fatal(message: string): never {
    this.log.fatal({ err: message }, 'could not start');
    this.killAll();
    return this.exit(1);
  }

  private fork(slot: WorkerSlot): void {
    slot.restartTimer = null;
    const worker = cluster.fork();
    slot.worker = worker;
    slot.started = false;
    slot.forkedAt = Date.now();
    // A send to a worker whose channel just closed: its 'exit' follows and is handled there.
    worker.on('error', (error) => this.log.debug({ worker: slot.index, err: error.message }, 'worker channel error'));
    worker.on('message', (message: unknown) => this.onMessage(slot, worker, message));
    worker.on('exit', (code, signal) => this.onExit(slot, worker, code, signal));
  }

  private onMessage(slot: WorkerSlot, worker: Worker, message: unknown): void {
    if (!isSlotgateMessage(message) || slot.worker !== worker) return;
    const m = message as FromWorker;
    switch (m.type) {
      case 'slotgate:hello':
        // The configuration as it is now: a replacement gets reloads and PROXY CONFIG SETs too.
        this.send(slot, { type: 'slotgate:start', index: slot.index, config: this.config });
        return;
      case 'slotgate:started':
        slot.started = true;
        if (this.draining) this.send(slot, { type: 'slotgate:drain', signal: 'SIGTERM' });
        if (this.slots.every((s) => s.started)) this.onAllStarted?.();
        return;
      case 'slotgate:config-set':
        this.relayOptionChange(slot, m.name, m.value);
        return;
      case 'slotgate:peer-ask':
        void this.askPeers(slot, m.askId, m.ask);
        return;
      case 'slotgate:readiness-reply':
      case 'slotgate:metrics-reply':
      case 'slotgate:peer-answer': {
        const answer = this.questions.get(m.id);
        this.questions.delete(m.id);
        answer?.(m);
        return;
      }
    }
  }

  /**
   * A worker's client changed an option: every other worker takes it, and so does the primary's
   * configuration (a replacement worker starts with it; the drain's bound reads it).
   */
  private relayOptionChange(from: WorkerSlot, name: string, value: string): void {
    const spec = OPTIONS.find((o) => o.name === name);
    const coerced = spec === undefined ? null : coerceValue(spec, value);
    if (spec !== undefined && coerced?.ok === true) (this.config as unknown as Record<string, unknown>)[spec.field] = coerced.value;
    for (const slot of this.slots) if (slot !== from && slot.started) this.send(slot, { type: 'slotgate:config-set', name, value });
    this.log.info({ option: name, from: from.index }, 'option change passed on to every worker');
  }

  /** A worker's CLIENT LIST / CLIENT KILL: every other running worker answers, the asker gets what came in time. */
  private async askPeers(from: WorkerSlot, askId: number, ask: PeerAsk): Promise<void> {
    const others = this.slots.filter((s) => s !== from && s.started);
    const replies = await Promise.all(others.map((s) => this.ask(s, { type: 'slotgate:peer-question', ask }, PEER_QUESTION_TIMEOUT_MS)));
    const answers: PeerAnswer[] = [];
    for (const reply of replies) if (reply?.type === 'slotgate:peer-answer') answers.push(reply.answer);
    this.send(from, { type: 'slotgate:peer-reply', askId, answers });
  }

  private onExit(slot: WorkerSlot, worker: Worker, code: number | null, signal: string | null): void {
    if (slot.worker !== worker) return;
    slot.worker = null;
    slot.started = false;
    const pid = worker.process.pid;
    if (this.draining) {
      if (code !== 0) this.drainClean = false;
      this.log.info({ worker: slot.index, pid, code, signal }, 'drain: worker exited');
      if (this.aliveCount === 0) void this.finishDrain();
      return;
    }
    if (this.startingUp) this.fatal(`worker ${slot.index} exited at start (code ${code}, signal ${signal})`);
    const lived = Date.now() - slot.forkedAt;
    slot.quickCrashes = lived < QUICK_CRASH_MS ? slot.quickCrashes + 1 : 0;
    const delayMs = restartDelayMs(slot.quickCrashes);
    this.restarts++;
    this.log.warn({ worker: slot.index, pid, code, signal, livedMs: lived, restartInMs: delayMs }, 'worker exited; starting a new one');
    slot.restartTimer = setTimeout(() => this.fork(slot), delayMs);
  }

  private send(slot: WorkerSlot, message: ToWorker): boolean {
    const worker = slot.worker;
    if (worker === null || !worker.isConnected()) return false;
    return worker.send(message);
  }

  /** Asks one worker; null when it is not there or does not answer within `timeoutMs`. */
  ask(slot: WorkerSlot, question: WithoutId<Question>, timeoutMs: number): Promise<Answer | null> {
    const id = this.nextQuestionId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.questions.delete(id);
        resolve(null);
      }, timeoutMs);
      this.questions.set(id, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      if (!this.send(slot, { ...question, id } as Question)) {
        this.questions.delete(id);
        clearTimeout(timer);
        resolve(null);
      }
    });
  }

  /** SIGTERM/SIGINT: not ready at once, every worker drains; exits 0 once all exited 0. */
  private stop(signal: string): void {
    if (this.draining) {
      this.log.warn({ signal }, 'second signal during the drain: killing the workers and exiting at once');
      this.killAll();
      this.exit(1);
    }
    this.draining = true;
    this.log.info({ signal, workers: this.aliveCount, drainTimeoutMs: this.config.drainTimeoutMs }, 'drain: not ready (/readyz 503); every worker drains');
    for (const slot of this.slots) {
      if (slot.restartTimer !== null) clearTimeout(slot.restartTimer);
      slot.restartTimer = null;
      // A worker still starting gets it too: it drains once started.
      this.send(slot, { type: 'slotgate:drain', signal });
    }
    if (this.aliveCount === 0) {
      void this.finishDrain();
      return;
    }
    setTimeout(() => {
      this.log.error({ workers: this.aliveCount }, 'drain: workers did not exit in time; killing them');
      this.killAll();
      this.exit(1);
    }, this.config.drainTimeoutMs + DRAIN_GRACE_MS + PRIMARY_GRACE_MS).unref();
  }

  private async finishDrain(): Promise<void> {
    await this.admin?.close();
    const exitCode = this.drainClean ? 0 : 1;
    this.log.info({ exitCode }, 'every worker exited; exiting');
    this.exit(exitCode);
  }

  private killAll(): void {
    for (const slot of this.slots) slot.worker?.process.kill('SIGKILL');
  }

  /** SIGHUP: every worker resolves the configuration again itself (as in one process). */
  private async reload(): Promise<void> {
    if (this.draining) {
      this.log.info('SIGHUP during the drain: ignored');
      return;
    }
    for (const slot of this.slots) this.send(slot, { type: 'slotgate:reload' });
    this.log.info({ workers: this.aliveCount }, 'reload: passed on to every worker');
    // The primary's copy takes what the workers take (changeable and reloadable options; the
    // others keep their running values), for replacements and the drain's bound. The workers
    // log the changes and any errors.
    const next = await loadConfig(this.argv, process.env);
    if (next.kind !== 'run') return;
    const running = this.config as unknown as Record<string, unknown>;
    const wanted = next.config as unknown as Record<string, unknown>;
    for (const { spec, effect } of diffConfig(this.config, next.config)) {
      if (effect === 'apply') running[spec.field] = wanted[spec.field];
    }
  }
}

/** Runs the primary; resolves once every worker started and the admin port listens. */
export async function runPrimary({ config, argv, log, exit }: PrimaryOptions): Promise<Primary> {
  const primary = new Primary(config, argv, log, exit);
  await primary.start();
  return primary;
}
