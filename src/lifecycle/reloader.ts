import { loadConfig } from '../config/load.js';
import type { ProxyServer } from '../proxy/server.js';
import type { Logger } from '../telemetry/logger.js';

/**
 * SIGHUP (in one process; the primary's reload message in a worker): the configuration is
 * resolved again as at start (defaults < file < env < flags, secret files re-read); a valid one
 * is taken over where it can change while running. Then the TLS files are re-read (new
 * connections get them, open ones keep theirs). Returns the trigger; one reload runs at a time.
 */
export function createReloader(proxy: ProxyServer, argv: string[], log: Logger): () => void {
  let reloading: Promise<void> = Promise.resolve();
  const reload = async (): Promise<void> => {
    if (proxy.draining) {
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
  return () => {
    reloading = reloading.then(reload).catch((error: unknown) => {
      log.error({ err: (error as Error).message }, 'configuration reload failed; the running configuration is kept');
    });
  };
}
