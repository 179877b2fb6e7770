import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

/**
 * JSON logs on stdout; credentials are redacted wherever they appear in a log object. `bindings`
 * go on every line (a worker's `worker` index, so the lines of N workers can be told apart).
 */
export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { name: 'slotgate', ...bindings },
    redact: { paths: ['password', 'requirepass', 'backendPassword', '*.password', '*.requirepass', '*.backendPassword'], censor: '(redacted)' },
  });
}
