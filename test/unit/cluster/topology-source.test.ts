// TopologySource asks known nodes and seeds alternately and staggered, so that known addresses
// that no longer answer at all (every pod back with a new IP) do not hold a refresh for their
// whole timeout each. Seen in the pod-churn simulation: 6 dead known masters kept slotgate
// from the seeds' new addresses for 8 s after Redis served again.

import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { firstAnswer, interleave, TopologySource } from '../../../src/cluster/topology-source.js';
import { FakeNode } from '../../helpers/fake-node.js';

const a = (port: number) => ({ host: '127.0.0.1', port });
const later = <T>(ms: number, f: () => T) => new Promise<T>((resolve, reject) => setTimeout(() => {
  try {
    resolve(f());
  } catch (e) {
    reject(e as Error);
  }
}, ms));

describe('interleave', () => {
  it('alternates known and seeds, known first, each address once', () => {
    expect(interleave([a(1), a(2), a(3)], [a(9), a(2)]).map((c) => c.port)).toEqual([1, 9, 2, 3]);
    expect(interleave([], [a(5)]).map((c) => c.port)).toEqual([5]);
  });
});

describe('firstAnswer', () => {
  it('a silent candidate delays the next one by the stagger only', async () => {
    const t = Date.now();
    const won = await firstAnswer([a(1), a(2), a(3)], (c) => (c.port === 3 ? later(5, () => 'three') : new Promise<string>(() => {})), 50, []);
    expect(won?.value).toBe('three');
    expect(Date.now() - t).toBeGreaterThanOrEqual(95);
    expect(Date.now() - t).toBeLessThan(400);
  });

  it('a failed candidate starts the next at once; all failed gives null and every error in order', async () => {
    const t = Date.now();
    const errors: string[] = [];
    const won = await firstAnswer([a(1), a(2)], (c) => later(c.port, () => { throw new Error(`no ${c.port}`); }), 10_000, errors);
    expect(won).toBeNull();
    expect(Date.now() - t).toBeLessThan(1000);
    expect(errors).toEqual(['127.0.0.1:1: no 1', '127.0.0.1:2: no 2']);
    expect(await firstAnswer([], () => Promise.resolve(1), 10, [])).toBeNull();
  });

  it('the first candidate wins when it answers within its head start', async () => {
    const asked: number[] = [];
    const won = await firstAnswer([a(1), a(2)], (c) => (asked.push(c.port), later(5, () => c.port)), 100, []);
    expect(won?.value).toBe(1);
    expect(asked).toEqual([1]);
  });
});

describe('TopologySource with known nodes that never answer', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });

  it('gets the map from a seed within a few staggers, not 3 x the query timeout', async () => {
    const silent: net.Server[] = [];
    for (let i = 0; i < 3; i++) {
      const sockets = new Set<net.Socket>();
      const s = net.createServer((socket) => { // accepts, never answers
        sockets.add(socket);
        socket.on('error', () => {});
      });
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
      silent.push(s);
      closers.push(() => new Promise<void>((r) => {
        s.close(() => r());
        for (const socket of sockets) socket.destroy();
      }));
    }
    const node = await new FakeNode(() => undefined).listen();
    closers.push(() => node.close());
    const source = new TopologySource([`localhost:${node.port}`], {}, 2000);
    const known = silent.map((s) => a((s.address() as net.AddressInfo).port));
    const t = Date.now();
    const { view, from } = await source.fetch(known);
    expect(view.coveredSlots).toBe(16384);
    expect(from.endsWith(`:${node.port}`)).toBe(true);
    expect(Date.now() - t).toBeLessThan(1500);
  });
});
