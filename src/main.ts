#!/usr/bin/env node
/** slotgate's entry point: CLI → config → proxy → signals. The only place that exits the process. */
import { loadConfig, redactConfig } from './config/load.js';
import { createLogger } from './telemetry/logger.js';
import { startProxy } from './proxy/server.js';
import { startAdminServer, type AdminServer } from './admin/admin-server.js';

const result = await loadConfig(process.argv.slice(2), process.env);
if (result.kind !== 'run') {
  if (result.stdout) process.stdout.write(result.stdout);
  if (result.stderr) process.stderr.write(result.stderr);
  process.exit(result.exitCode);
}

const log = createLogger(result.config.logLevel);
for (const warning of result.warnings) log.warn(warning);
log.info({ config: redactConfig(result.config) }, 'starting slotgate');

let proxy;
let admin: AdminServer | null;
try {
  proxy = await startProxy(result.config, log);
  const { adminEnabled, adminPort, adminBind } = result.config;
  admin = adminEnabled ? await startAdminServer(proxy, { port: adminPort, bind: adminBind }, log) : null;
} catch (error) {
  log.fatal({ err: (error as Error).message }, 'could not start');
  process.exit(1);
}

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) process.exit(1); // a second signal: exit at once
  stopping = true;
  log.info({ signal }, 'stopping');
  void Promise.all([proxy.close(), admin?.close()]).then(() => process.exit(0));
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
// Certificate rotation: new connections get the re-read files, open ones keep theirs.
process.on('SIGHUP', () => proxy.reloadTls());
