import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

/** JSON logs on stdout; credentials are redacted wherever they appear in a log object. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { name: 'slotgate' },
    redact: { paths: ['password', 'requirepass', 'backendPassword', '*.password', '*.requirepass', '*.backendPassword'], censor: '(redacted)' },
  });
}
