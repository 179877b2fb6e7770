import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { eventually } from './eventually.js';

/** The built CLI (`npm run build` runs before the tests). */
export const MAIN = fileURLToPath(new URL('../../dist/src/main.js', import.meta.url));

/** One pino JSON log line. */
export type LogLine = Record<string, unknown> & { msg: string; level: number };

/** slotgate's own entry point as a child process, with its JSON log lines and its exit. */
export interface SlotgateProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Every log line so far (stdout), parsed. */
  logs(): LogLine[];
  /** stdout and stderr as text. */
  output(): string;
  /** The first log line whose msg contains `text` (and matches `where`), waiting up to `timeoutMs`. */
  waitForLog(text: string, timeoutMs?: number, where?: (line: LogLine) => boolean): Promise<LogLine>;
  /** Resolves with the exit code (null when killed by a signal) and when it exited (Date.now()). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** Sends `signal` (by PID). */
  signal(signal: NodeJS.Signals): void;
  /** SIGKILL if still running, and waits for the exit (tests' clean-up). */
  kill(): Promise<void>;
}

/**
 * Starts `node dist/src/main.js ...args` and resolves once it has read the cluster's command
 * table (listening, topology known) and, when `adminPort` is given, /readyz answers 200.
 */
export async function spawnSlotgate(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; adminPort?: number } = {},
): Promise<SlotgateProcess> {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let text = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    text += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  const logs = (): LogLine[] =>
    stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as LogLine);
  const proc: SlotgateProcess = {
    child,
    pid: child.pid!,
    logs,
    output: () => text,
    async waitForLog(msg, timeoutMs = 10_000, where = () => true) {
      let found: LogLine | undefined;
      await eventually(() => {
        found = logs().find((l) => l.msg.includes(msg) && where(l));
        return found !== undefined;
      }, timeoutMs).catch(() => {
        throw new Error(`no log line "${msg}" within ${timeoutMs} ms; output:\n${text}`);
      });
      return found!;
    },
    exited,
    signal: (signal) => process.kill(child.pid!, signal),
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      process.kill(child.pid!, 'SIGKILL');
      await exited;
    },
  };
  try {
    await Promise.race([
      proc.waitForLog('command table', 15_000),
      exited.then(({ code }) => {
        throw new Error(`slotgate exited (${code}) at start: ${text}`);
      }),
    ]);
    if (options.adminPort !== undefined) {
      const port = options.adminPort;
      await eventually(async () => (await httpStatus(port, '/readyz')) === 200, 10_000);
    }
  } catch (error) {
    await proc.kill();
    throw error;
  }
  return proc;
}

/** The HTTP status of GET `path` on the admin port, 0 when nothing answers. */
export async function httpStatus(port: number, path: string): Promise<number> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(1000) });
    await res.text();
    return res.status;
  } catch {
    return 0;
  }
}

/** GET `path` on the admin port: status and body. */
export async function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2000) });
  return { status: res.status, body: await res.text() };
}

/**
 * A raw RESP connection that records every byte received and how the connection ended
 * (`end`: the server closed it cleanly; `reset`/`error`: not cleanly), with the time.
 */
export interface RawConnection {
  readonly socket: net.Socket;
  /** Everything received so far, latin1. */
  received(): string;
  send(...commands: string[][]): void;
  /** Waits until the received text matches `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves once the connection is closed: how, and when. */
  readonly closed: Promise<{ how: 'end' | 'error'; at: number; error?: string }>;
}

export function encodeCommand(args: string[]): string {
  return `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');
}

/** Connects to `port` on loopback; rejects when refused. */
export async function rawConnect(port: number): Promise<RawConnection> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let data = '';
  let ended = false;
  socket.on('data', (d: Buffer) => (data += d.toString('latin1')));
  socket.on('end', () => (ended = true));
  const closed = new Promise<{ how: 'end' | 'error'; at: number; error?: string }>((resolve) => {
    let error: string | undefined;
    socket.on('error', (e) => (error = e.message));
    socket.on('close', () => resolve({ how: ended && error === undefined ? 'end' : 'error', at: Date.now(), error }));
  });
  return {
    socket,
    received: () => data,
    send: (...commands) => socket.write(commands.map(encodeCommand).join('')),
    waitFor: (pattern, timeoutMs = 5000) => eventually(() => pattern.test(data), timeoutMs),
    closed,
  };
}

/** True when a connection to `port` is refused. */
export async function refused(port: number): Promise<boolean> {
  try {
    const c = await rawConnect(port);
    c.socket.destroy();
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ECONNREFUSED';
  }
}
