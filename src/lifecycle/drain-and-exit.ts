import type { ProxyServer } from '../proxy/server.js';
import type { Logger } from '../telemetry/logger.js';

/** Beyond drain-timeout, what the last closes may take before slotgate gives up on them. */
export const DRAIN_GRACE_MS = 2000;

/** Ends the process (main.ts' process.exit, passed in so that only main.ts exits). */
export type Exit = (code: number) => never;

/**
 * The graceful drain of one proxy (SIGTERM/SIGINT in one process; the primary's drain message in
 * a worker), then `afterDrain` (the admin listener closes last), then exit 0. Bounded: a bug must
 * not keep the process alive past drain-timeout + DRAIN_GRACE_MS, then it exits 1.
 */
export function drainAndExit(proxy: ProxyServer, signal: string, log: Logger, exit: Exit, afterDrain?: () => Promise<void> | undefined): void {
  setTimeout(() => {
    log.error('drain did not finish in time: exiting');
    exit(1);
  }, proxy.drainTimeoutMs + DRAIN_GRACE_MS).unref();
  void proxy
    .drain(signal)
    .then(() => afterDrain?.())
    .then(() => {
      log.info({ exitCode: 0 }, 'exiting');
      exit(0);
    });
}
