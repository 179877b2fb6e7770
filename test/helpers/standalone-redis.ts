// One plain (non-cluster) redis-server for differential tests: the reference slotgate's replies
// are compared with. Started on a given port with no persistence, stopped by PID.

import { spawn } from 'node:child_process';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface StandaloneRedis {
  port: number;
  pid: number;
  /** SIGTERM (SIGKILL after 5 s), resolves once the process has exited; removes its directory. */
  stop(): Promise<void>;
}

/** Starts `redis-server --port P --save '' --appendonly no` on 127.0.0.1; resolves once it answers PING. */
export async function startStandaloneRedis(port: number, timeoutMs = 10_000): Promise<StandaloneRedis> {
  // Never talk to somebody else's server by mistake: the port must be free.
  if (await answersPing(port)) throw new Error(`port ${port} is already in use by a server answering PING`);
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'slotgate-standalone-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--logfile', ''];
  const child = spawn('redis-server', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  child.once('error', (err) => (output += `\nspawn error: ${err.message}`));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(child.pid, 'SIGTERM');
      const timer = setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      }, 5_000);
      await exited;
      clearTimeout(timer);
    }
    await fsp.rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
      await stop();
      throw new Error(`redis-server on port ${port} did not start (${child.exitCode ?? child.signalCode}):\n${output.slice(-2000)}`);
    }
    if ((await answersPing(port)) && child.exitCode === null && child.signalCode === null) break;
    if (Date.now() >= deadline) {
      await stop();
      throw new Error(`redis-server on port ${port} did not answer PING in ${timeoutMs} ms:\n${output.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, pid: child.pid, stop };
}

/** True when something on 127.0.0.1:port answers an inline PING with +PONG. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let data = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d: Buffer) => {
      data += d.toString('latin1');
      if (data.includes('\r\n')) done(data.startsWith('+PONG'));
    });
  });
}
