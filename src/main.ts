#!/usr/bin/env node
/**
 * slotgate's entry point: CLI → config → proxy → signals. The only place that exits the process.
 * `threads` 1: one process, as below. `threads` N > 1: this process is the node:cluster primary
 * (src/workers/primary.ts), and each forked worker runs this file again as a worker
 * (src/workers/worker.ts).
 */
import cluster from 'node:cluster';
import { loadConfig, redactConfig } from './config/load.js';
import type { SlotgateConfig } from './config/config.js';
import { createLogger } from './telemetry/logger.js';
import type { ProxyServer } from './proxy/server.js';
import type { AdminServer } from './admin/admin-server.js';

// Each role loads only its own modules (dynamic imports below): the primary of `threads` N
// never runs the proxy, and not loading it keeps the primary's memory down (with 2 workers, the
// three processes' RSS is most of what 10,000 idle clients cost in all).

const argv = process.argv.slice(2);
const exit = (code: number): never => process.exit(code);

if (cluster.isWorker) await startWorker();
else await start();

/** A worker starts with the primary's configuration (it reads the sources again on reload). */
async function startWorker(): Promise<void> {
  const { receiveStart, runWorker } = await import('./workers/worker.js');
  const { index, config } = await receiveStart(exit);
  const log = createLogger(config.logLevel, { worker: index });
  await runWorker({ config, argv, log, index, exit });
}

/** The configuration from the sources, then one process or the primary of `threads` workers. */
async function start(): Promise<void> {
  const result = await loadConfig(argv, process.env);
  if (result.kind !== 'run') {
    if (result.stdout) process.stdout.write(result.stdout);
    if (result.stderr) process.stderr.write(result.stderr);
    process.exit(result.exitCode);
  }
  const { config, warnings } = result;
  if (config.threads === 1) return runSingleProcess(config, warnings);
  const log = createLogger(config.logLevel, { role: 'primary' });
  for (const warning of warnings) log.warn(warning);
  log.info({ config: redactConfig(config) }, 'starting slotgate');
  const { runPrimary } = await import('./workers/primary.js');
  await runPrimary({ config, argv, log, exit });
}

/** `threads 1`: the proxy and its admin port in this process, with its signals. */
async function runSingleProcess(config: SlotgateConfig, warnings: string[]): Promise<void> {
  const log = createLogger(config.logLevel);
  for (const warning of warnings) log.warn(warning);
  log.info({ config: redactConfig(config) }, 'starting slotgate');

  const [{ startProxy }, { startAdminServer }, { drainAndExit }, { createReloader }] = await Promise.all([
    import('./proxy/server.js'),
    import('./admin/admin-server.js'),
    import('./lifecycle/drain-and-exit.js'),
    import('./lifecycle/reloader.js'),
  ]);
  let proxy: ProxyServer;
  let admin: AdminServer | null;
  try {
    proxy = await startProxy(config, log);
    const { adminEnabled, adminPort, adminBind } = config;
    admin = adminEnabled ? await startAdminServer(proxy, { port: adminPort, bind: adminBind }, log) : null;
  } catch (error) {
    log.fatal({ err: (error as Error).message }, 'could not start');
    process.exit(1);
  }

  /** Exit code of a second SIGTERM/SIGINT during a drain: the drain was cut short. */
  const EXIT_AT_ONCE = 1;
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal during the drain: exiting at once');
      process.exit(EXIT_AT_ONCE);
    }
    stopping = true;
    // /readyz keeps answering (503) through the drain; the admin listener closes last.
    drainAndExit(proxy, signal, log, exit, () => admin?.close());
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGHUP', createReloader(proxy, argv, log));
}
