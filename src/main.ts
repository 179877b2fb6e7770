#!/usr/bin/env node
/** slotgate's entry point: CLI → config → proxy → signals. The only place that exits the process. */
import { loadConfig, redactConfig } from './config/load.js';
import { createLogger } from './telemetry/logger.js';
import { startProxy, type ProxyServer } from './proxy/server.js';
import { startAdminServer, type AdminServer } from './admin/admin-server.js';

const argv = process.argv.slice(2);
const result = await loadConfig(argv, process.env);
if (result.kind !== 'run') {
  if (result.stdout) process.stdout.write(result.stdout);
  if (result.stderr) process.stderr.write(result.stderr);
  process.exit(result.exitCode);
}

const log = createLogger(result.config.logLevel);
for (const warning of result.warnings) log.warn(warning);
log.info({ config: redactConfig(result.config) }, 'starting slotgate');

let proxy: ProxyServer;
let admin: AdminServer | null;
try {
  proxy = await startProxy(result.config, log);
  const { adminEnabled, adminPort, adminBind } = result.config;
  admin = adminEnabled ? await startAdminServer(proxy, { port: adminPort, bind: adminBind }, log) : null;
} catch (error) {
  log.fatal({ err: (error as Error).message }, 'could not start');
  process.exit(1);
}

/** Exit code of a second SIGTERM/SIGINT during a drain: the drain was cut short. */
const EXIT_AT_ONCE = 1;
/** Beyond drain-timeout, what the last closes may take before slotgate gives up on them. */
const DRAIN_GRACE_MS = 2000;

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) {
    log.warn({ signal }, 'second signal during the drain: exiting at once');
    process.exit(EXIT_AT_ONCE);
  }
  stopping = true;
  // A bug must not keep the process alive past its bound: the drain cuts clients at drain-timeout.
  setTimeout(() => {
    log.error('drain did not finish in time: exiting');
    process.exit(1);
  }, proxy.drainTimeoutMs + DRAIN_GRACE_MS).unref();
  // /readyz keeps answering (503) through the drain; the admin listener closes last.
  void proxy
    .drain(signal)
    .then(() => admin?.close())
    .then(() => {
      log.info({ exitCode: 0 }, 'exiting');
      process.exit(0);
    });
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));

// SIGHUP: the configuration is resolved again as at start (defaults < file < env < flags, secret
// files re-read); a valid one is taken over where it can change while running. Then the TLS
// files are re-read (new connections get them, open ones keep theirs). One reload at a time.
let reloading: Promise<void> = Promise.resolve();
const reload = async (): Promise<void> => {
  if (stopping) {
    log.info('SIGHUP during the drain: ignored');
    return;
  }
  const next = await loadConfig(argv, process.env);
  if (next.kind === 'run') {
    for (const warning of next.warnings) log.warn(warning);
    proxy.reloadConfig(next.config);
  } else {
    // First lines only: a YAML error goes on with an excerpt of the file, which may hold a secret.
    const errors = (next.errors.length > 0 ? next.errors : [next.stderr.trim()]).map((e) => e.split('\n')[0]);
    log.error({ errors }, 'configuration not reloaded: it is not valid; the running configuration is kept');
  }
  proxy.reloadTls();
};
process.on('SIGHUP', () => {
  reloading = reloading.then(reload).catch((error: unknown) => {
    log.error({ err: (error as Error).message }, 'configuration reload failed; the running configuration is kept');
  });
});
