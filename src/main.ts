#!/usr/bin/env node
/**
 * slotgate's entry point: CLI → config → proxy → signals. The only place that exits the process.
 * `threads` 1: one process, as below. `threads` N > 1: this process is the node:cluster primary
 * (src/workers/primary.ts), and each forked worker runs this file again as a worker
 * (src/workers/worker.ts).
 */
import cluster from 'node:cluster';
import { loadConfig, redactConfig } from './config/load.js';
import { createLogger } from './telemetry/logger.js';
import { startProxy, type ProxyServer } from './proxy/server.js';
import { startAdminServer, type AdminServer } from './admin/admin-server.js';
import { drainAndExit } from './lifecycle/drain-and-exit.js';
import { createReloader } from './lifecycle/reloader.js';
import { runPrimary } from './workers/primary.js';
import { runWorker } from './workers/worker.js';
import { WORKER_INDEX_ENV } from './workers/messages.js';

const argv = process.argv.slice(2);
const result = await loadConfig(argv, process.env);
if (result.kind !== 'run') {
  if (result.stdout) process.stdout.write(result.stdout);
  if (result.stderr) process.stderr.write(result.stderr);
  process.exit(result.exitCode);
}
const { config, warnings } = result;
const exit = (code: number): never => process.exit(code);

if (cluster.isWorker) {
  const index = Number(process.env[WORKER_INDEX_ENV] ?? 0);
  const log = createLogger(config.logLevel, { worker: index });
  await runWorker({ config, argv, log, index, exit });
} else if (config.threads > 1) {
  const log = createLogger(config.logLevel, { role: 'primary' });
  for (const warning of warnings) log.warn(warning);
  log.info({ config: redactConfig(config) }, 'starting slotgate');
  await runPrimary({ config, argv, log, exit });
} else {
  await runSingleProcess();
}

/** `threads 1`: the proxy and its admin port in this process, with its signals. */
async function runSingleProcess(): Promise<void> {
  const log = createLogger(config.logLevel);
  for (const warning of warnings) log.warn(warning);
  log.info({ config: redactConfig(config) }, 'starting slotgate');

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
