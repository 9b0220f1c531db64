import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs on stdout (pino); the level comes from the configuration. */
export function createLogger(level: string, destination: NodeJS.WritableStream = process.stdout): Logger {
  return pino({ level, base: { service: 'loire' } }, destination);
}

/** A logger that drops everything, for tests and command-line tools that print their own output. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
