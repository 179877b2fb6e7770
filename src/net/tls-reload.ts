import type { Logger } from '../telemetry/logger.js';

/** TLS settings read from files that can be read again (the listener's, the node connections'). */
export interface ReloadableTls {
  /** The files it reads, for logs (names only: their contents never reach a log). */
  readonly files: string[];
  /** Re-reads the files for new connections; throws, keeping the loaded ones, when they are bad. */
  reload(): void;
}

/**
 * SIGHUP: re-reads each side's files; one side's bad files leave that side as it was and do not
 * stop the other side's reload.
 */
export function reloadTlsFiles(sides: Record<string, ReloadableTls | null>, log: Logger): void {
  let any = false;
  for (const [side, target] of Object.entries(sides)) {
    if (target === null) continue;
    any = true;
    try {
      target.reload();
      log.info({ side, files: target.files }, 'TLS certificates reloaded');
    } catch (error) {
      log.error({ side, files: target.files, err: (error as Error).message }, 'TLS certificates not reloaded; keeping the loaded ones');
    }
  }
  if (!any) log.info('no TLS configured: nothing to reload');
}
