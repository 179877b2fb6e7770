/**
 * Idle client connections for the memory benchmarks (bench:idle, bench:scale): open many plain
 * TCP connections that send nothing, check they still answer, and the open-files limit they need.
 */
import fs from 'node:fs';
import net from 'node:net';

/** This process' soft limit of open files (Node cannot raise it: the npm script's shell does). */
export function openFilesLimit(): number {
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
  return m === null || m[1] === 'unlimited' ? Infinity : Number(m[1]);
}

/** Opens `count` connections, `batch` at a time; within `maxMs` in all. */
export async function openIdle(port: number, count: number, maxMs: number): Promise<{ sockets: net.Socket[]; ms: number }> {
  const sockets: net.Socket[] = [];
  const started = Date.now();
  const batch = 250;
  while (sockets.length < count) {
    if (Date.now() - started > maxMs) throw new Error(`only ${sockets.length} of ${count} idle connections within ${maxMs} ms`);
    const n = Math.min(batch, count - sockets.length);
    const opened = await Promise.all(
      Array.from(
        { length: n },
        () =>
          new Promise<net.Socket>((resolve, reject) => {
            const s = net.connect({ port, host: '127.0.0.1' });
            s.once('connect', () => resolve(s));
            s.once('error', reject);
          }),
      ),
    );
    for (const s of opened) {
      s.on('error', () => {});
      sockets.push(s);
    }
  }
  return { sockets, ms: Date.now() - started };
}

/** Sends PING on every connection, `batch` at a time; the number that answered +PONG (and stayed open). */
export async function pingAll(sockets: net.Socket[], timeoutMs: number): Promise<number> {
  let ok = 0;
  const batch = 500;
  for (let i = 0; i < sockets.length; i += batch) {
    const part = sockets.slice(i, i + batch);
    const answers = await Promise.all(
      part.map(
        (s) =>
          new Promise<boolean>((resolve) => {
            if (s.destroyed) return resolve(false);
            let got = '';
            const timer = setTimeout(() => done(false), timeoutMs);
            const onData = (d: Buffer): void => {
              got += d.toString('latin1');
              if (got.length >= 7) done(got === '+PONG\r\n');
            };
            function done(v: boolean): void {
              clearTimeout(timer);
              s.off('data', onData);
              resolve(v);
            }
            s.on('data', onData);
            s.write('*1\r\n$4\r\nPING\r\n');
          }),
      ),
    );
    ok += answers.filter(Boolean).length;
  }
  return ok;
}

/** Closes them all. */
export function closeAll(sockets: net.Socket[]): void {
  for (const s of sockets) s.destroy();
}
