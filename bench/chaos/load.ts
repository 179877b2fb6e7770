// Steady load for the chaos run: writers of unique keys and readers of keys already
// acknowledged, each client with one request in flight (pipeline of 1). Every failure is kept
// with its time and message; every acknowledged write is remembered so it can be read back.

import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster, Redis } from 'ioredis';

export type Client = Redis | Cluster;

export interface LoadError {
  /** Date.now() when the failed request ended. */
  t: number;
  op: 'SET' | 'GET';
  key: string;
  message: string;
}

/** A request that failed or took longer than `slowMs`: the service was not there for it. */
export interface BadOp {
  start: number;
  end: number;
}

export interface LoadOptions {
  /** Key prefix of this load, e.g. chaos:<run>:<scenario>. */
  prefix: string;
  writers: Client[];
  readers: Client[];
  /** Pause after each request of each client (ms), so that the key count stays moderate. */
  pauseMs: number;
  /** A request slower than this counts as an outage for the time to recovery. */
  slowMs: number;
}

/** One writer's keys: every n below `next` is decided; `failed` ones were not acknowledged. */
interface WriterState {
  next: number;
  failed: Set<number>;
}

export function keyOf(prefix: string, writer: number, n: number): string {
  return `${prefix}:${writer}:${n}`;
}

/** The value written under a key: names the key and n, so a value under the wrong key shows. */
export function valueOf(key: string, n: number): string {
  return `${key}=${n}`;
}

export class Load {
  ops = 0;
  /** The longest single request (ms). */
  maxMs = 0;
  readonly errors: LoadError[] = [];
  readonly bad: BadOp[] = [];
  private readonly state: WriterState[];
  private running = false;
  private loops: Promise<void>[] = [];

  constructor(private readonly o: LoadOptions) {
    this.state = o.writers.map(() => ({ next: 0, failed: new Set<number>() }));
  }

  start(): void {
    this.running = true;
    this.loops = [
      ...this.o.writers.map((c, i) => this.writer(c, i)),
      ...this.o.readers.map((c) => this.reader(c)),
    ];
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** Writes acknowledged so far. */
  get acked(): number {
    let n = 0;
    for (const s of this.state) n += s.next - s.failed.size;
    return n;
  }

  /** Every acknowledged key with its value. */
  *ackedKeys(): Generator<[string, string]> {
    for (const [w, s] of this.state.entries()) {
      for (let n = 0; n < s.next; n++) {
        if (s.failed.has(n)) continue;
        const key = keyOf(this.o.prefix, w, n);
        yield [key, valueOf(key, n)];
      }
    }
  }

  private record(op: 'SET' | 'GET', key: string, start: number, message: string | null): void {
    const end = Date.now();
    this.ops++;
    if (end - start > this.maxMs) this.maxMs = end - start;
    if (message !== null) this.errors.push({ t: end, op, key, message });
    if (message !== null || end - start >= this.o.slowMs) this.bad.push({ start, end });
  }

  private async writer(client: Client, w: number): Promise<void> {
    const s = this.state[w];
    while (this.running) {
      const n = s.next;
      const key = keyOf(this.o.prefix, w, n);
      const start = Date.now();
      let message: string | null = null;
      try {
        const reply = await client.set(key, valueOf(key, n));
        if (reply !== 'OK') message = `unexpected reply ${JSON.stringify(reply)}`;
      } catch (err) {
        message = (err as Error).message;
      }
      // A failed write may or may not have happened: it is not acknowledged, and never read.
      if (message !== null) s.failed.add(n);
      s.next = n + 1;
      this.record('SET', key, start, message);
      if (this.o.pauseMs > 0) await sleep(this.o.pauseMs);
    }
  }

  /** An acknowledged key: half the time one of the newest (most at risk in a failover). */
  private pick(): [string, string] | null {
    for (let tries = 0; tries < 10; tries++) {
      const w = Math.floor(Math.random() * this.state.length);
      const s = this.state[w];
      if (s.next === 0) continue;
      const n = Math.random() < 0.5 ? Math.max(0, s.next - 1 - Math.floor(Math.random() * 100)) : Math.floor(Math.random() * s.next);
      if (s.failed.has(n)) continue;
      const key = keyOf(this.o.prefix, w, n);
      return [key, valueOf(key, n)];
    }
    return null;
  }

  private async reader(client: Client): Promise<void> {
    while (this.running) {
      const picked = this.pick();
      if (picked === null) {
        await sleep(5);
        continue;
      }
      const [key, expected] = picked;
      const start = Date.now();
      let message: string | null = null;
      try {
        const value = await client.get(key);
        if (value === null) message = 'acknowledged key missing (GET returned nil)';
        else if (value !== expected) message = `wrong value ${JSON.stringify(value.slice(0, 80))}`;
      } catch (err) {
        message = (err as Error).message;
      }
      this.record('GET', key, start, message);
      if (this.o.pauseMs > 0) await sleep(this.o.pauseMs);
    }
  }
}

/**
 * Reads every acknowledged key back through `client` (a cluster client straight to the nodes),
 * `concurrency` at a time; returns the keys missing or with another value.
 */
export async function verifyAcked(client: Client, keys: Iterable<[string, string]>, concurrency = 256): Promise<{ checked: number; lost: string[] }> {
  const lost: string[] = [];
  let checked = 0;
  const it = keys[Symbol.iterator]();
  const worker = async () => {
    for (let next = it.next(); !next.done; next = it.next()) {
      const [key, expected] = next.value;
      let value: string | null = null;
      for (let attempt = 0; ; attempt++) {
        try {
          value = await client.get(key);
          break;
        } catch (err) {
          // Not a lost write: the check itself failed; try again a little later.
          if (attempt >= 5) throw new Error(`cannot read ${key} back: ${(err as Error).message}`);
          await sleep(200);
        }
      }
      checked++;
      if (value !== expected) lost.push(key);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { checked, lost };
}
