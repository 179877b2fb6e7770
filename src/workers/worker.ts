import type { Registry } from 'prom-client';
import type { SlotgateConfig } from '../config/config.js';
import { createMetrics } from '../telemetry/metrics.js';
import type { Logger } from '../telemetry/logger.js';
import { startProxy, type ProxyServer } from '../proxy/server.js';
import { proxyReadiness } from '../admin/proxy-readiness.js';
import { drainAndExit, type Exit } from '../lifecycle/drain-and-exit.js';
import { createReloader } from '../lifecycle/reloader.js';
import { isSlotgateMessage, type FromWorker, type ToWorker } from './messages.js';
import { answerPeer, PeersOverIpc } from './peers.js';

export interface WorkerOptions {
  config: SlotgateConfig;
  argv: string[];
  log: Logger;
  index: number;
  exit: Exit;
}

/** Signals a worker does not act on: the primary turns them into drain and reload messages. */
const IGNORED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Waits for the primary's start message; exits when the primary goes away first. */
export function receiveStart(exit: Exit): Promise<{ index: number; config: SlotgateConfig }> {
  return new Promise((resolve) => {
    const ignore = (): void => {};
    const onMessage = (message: unknown): void => {
      if (!isSlotgateMessage(message) || message.type !== 'slotgate:start') return;
      process.off('message', onMessage);
      process.off('disconnect', onDisconnect);
      // runWorker puts its own (logging) handlers in their place before anything else runs.
      for (const signal of IGNORED_SIGNALS) process.off(signal, ignore);
      const { index, config } = message as Extract<ToWorker, { type: 'slotgate:start' }>;
      resolve({ index, config });
    };
    const onDisconnect = (): void => exit(1);
    // From the fork on: a Ctrl-C reaching the process group must not kill a worker still
    // starting (runWorker logs the signals it ignores).
    for (const signal of IGNORED_SIGNALS) process.on(signal, ignore);
    process.on('message', onMessage);
    process.on('disconnect', onDisconnect);
    send({ type: 'slotgate:hello' });
  });
}

function send(message: FromWorker): void {
  // The channel closes when the primary is gone; 'disconnect' then ends this worker.
  if (process.connected) process.send?.(message);
}

/**
 * One worker of `threads` N > 1: the proxy as in one process (its own node links, topology and
 * clients; node:cluster hands it accepted connections of the shared RESP port), driven by the
 * primary: it drains, reloads and changes options when the primary says so, answers the
 * primary's readiness and metrics questions, and never opens the admin port.
 */
export async function runWorker({ config, argv, log, index, exit }: WorkerOptions): Promise<void> {
  let proxy: ProxyServer | null = null;
  let registry: Registry | null = null;
  let reload: (() => void) | null = null;
  let drainSignal: string | null = null;
  const peers = new PeersOverIpc(send);

  // Only the primary's messages drive a worker. A Ctrl-C in a terminal sends SIGINT to the whole
  // process group: a worker that drained on its own would leave the primary restarting it.
  for (const signal of IGNORED_SIGNALS) {
    process.on(signal, () => log.debug({ signal }, 'signal ignored by a worker: the primary drives drain and reload'));
  }
  // The primary is gone (killed, crashed): nobody would drain or replace this worker; exit now
  // rather than serve on as an orphan.
  process.on('disconnect', () => {
    log.warn('primary gone (IPC channel closed): exiting');
    exit(1);
  });

  const startDrain = (signal: string): void => {
    if (proxy === null || proxy.draining) return;
    drainAndExit(proxy, signal, log, exit);
  };

  process.on('message', (message: unknown) => {
    if (!isSlotgateMessage(message)) return;
    const m = message as ToWorker;
    switch (m.type) {
      case 'slotgate:drain':
        // Before the proxy started: drained as soon as it has.
        if (proxy === null) drainSignal = m.signal;
        else startDrain(m.signal);
        return;
      case 'slotgate:reload':
        reload?.();
        return;
      case 'slotgate:config-set': {
        const failure = proxy?.setOption(m.name, m.value, true) ?? 'not started';
        if (failure !== null) log.warn({ option: m.name, err: failure }, 'option change from another worker not applied');
        return;
      }
      case 'slotgate:readiness':
        send({
          type: 'slotgate:readiness-reply',
          id: m.id,
          readiness: proxy === null ? { ready: false, reason: 'starting' } : { ...proxyReadiness(proxy) },
        });
        return;
      case 'slotgate:peer-question':
        // Before the proxy started it has no clients: an empty list, nothing killed.
        send({
          type: 'slotgate:peer-answer',
          id: m.id,
          answer: proxy === null ? (m.ask.kind === 'client-list' ? { kind: 'client-list', text: '' } : { kind: 'client-kill', killed: 0 }) : answerPeer(proxy, m.ask),
        });
        return;
      case 'slotgate:peer-reply':
        peers.answered(m.askId, m.answers);
        return;
      case 'slotgate:metrics':
        void (registry?.getMetricsAsJSON() ?? Promise.resolve([])).then(
          (metrics) => send({ type: 'slotgate:metrics-reply', id: m.id, metrics }),
          (error: unknown) => {
            log.warn({ err: (error as Error).message }, 'metrics collection failed');
            send({ type: 'slotgate:metrics-reply', id: m.id, metrics: [] });
          },
        );
        return;
    }
  });

  log.info({ pid: process.pid }, 'worker starting');
  let started: ProxyServer;
  try {
    started = await startProxy(config, log, { index, count: config.threads });
  } catch (error) {
    log.fatal({ err: (error as Error).message }, 'could not start');
    return exit(1);
  }
  proxy = started;
  registry = createMetrics(started, () => proxyReadiness(started).ready);
  reload = createReloader(started, argv, log);
  started.onOptionSet = (name, value) => send({ type: 'slotgate:config-set', name, value });
  started.peers = peers;
  send({ type: 'slotgate:started' });
  if (drainSignal !== null) startDrain(drainSignal);
}
