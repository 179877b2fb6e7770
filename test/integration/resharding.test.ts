import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { slotOf } from '../../src/cluster/key-slot.js';
import { startLocalCluster, type LocalCluster } from '../../src/tools/local-cluster.js';
import { readMasters, type Master } from '../helpers/cluster.js';
import type { ProxyServer } from '../../src/proxy/server.js';
import { proxyClient, proxyCounter, startTestProxy } from '../helpers/proxy.js';

// Its own cluster: slots move under it, which other tests need not see.
const BASE_PORT = Number(process.env.SLOTGATE_TEST_BASE_PORT ?? 21001) + 200;
const SLOTS_TO_MOVE = 150;
const KEYS_PER_SLOT = 8;
const WRITERS = 4;
const MAX_OPS_PER_WRITER = 50_000;

let cluster: LocalCluster;
let proxy: ProxyServer;
let masters: Master[];

beforeAll(async () => {
  cluster = await startLocalCluster({
    masters: 3,
    replicasPerMaster: 0,
    basePort: BASE_PORT,
    dir: path.join(os.tmpdir(), `slotgate-reshard-${process.pid}`),
  });
  proxy = await startTestProxy(cluster.seeds);
  masters = await readMasters(cluster.nodes[0].port);
});

afterAll(async () => {
  for (const m of masters ?? []) m.client.disconnect();
  await proxy?.close();
  await cluster?.stop();
});


/** Moves one slot from `from` to `to` the way redis-cli --cluster reshard does. `midway` runs after the first key batch moved. */
async function moveSlot(slot: number, from: Master, to: Master, midway?: (movedKeys: string[]) => Promise<void>): Promise<void> {
  await to.client.call('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', from.id);
  await from.client.call('CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', to.id);
  let first = true;
  for (let round = 0; round < 1000; round++) {
    const keys = (await from.client.call('CLUSTER', 'GETKEYSINSLOT', String(slot), '4')) as string[];
    if (keys.length === 0) break;
    await from.client.call('MIGRATE', '127.0.0.1', String(to.port), '', '0', '5000', 'KEYS', ...keys);
    if (first && midway) await midway(keys);
    first = false;
  }
  // Target first, then source, then the rest, as redis-cli --cluster reshard does: the other
  // order lets the source say "MOVED to target" while the target still says "MOVED to source".
  for (const m of [to, from, ...masters.filter((x) => x !== to && x !== from)]) {
    await m.client.call('CLUSTER', 'SETSLOT', String(slot), 'NODE', to.id);
  }
}

describe('live resharding under load', () => {
  it('moves slots between masters while clients read and write: zero errors, every acknowledged write reads back', async () => {
    const [a, b] = masters;
    const moving = a.slots.slice(0, SLOTS_TO_MOVE);
    // Keys that live in the moving slots, found by search (slot maths is unit-tested separately).
    const keysBySlot = new Map<number, string[]>(moving.map((s) => [s, []]));
    for (let n = 0; [...keysBySlot.values()].some((k) => k.length < KEYS_PER_SLOT); n++) {
      const key = `rs:${n}`;
      const list = keysBySlot.get(slotOf(key));
      if (list && list.length < KEYS_PER_SLOT) list.push(key);
    }
    const keys = [...keysBySlot.values()].flat();
    const seeder = proxyClient(proxy);
    const seedPipe = seeder.pipeline();
    for (const k of keys) seedPipe.set(k, 'v0');
    await seedPipe.exec();

    const acked = new Map<string, string>(keys.map((k) => [k, 'v0']));
    const errors: string[] = [];
    let done = false;
    const writers = Array.from({ length: WRITERS }, async (_, w) => {
      const c = proxyClient(proxy);
      const mine = keys.filter((_, i) => i % WRITERS === w);
      try {
        for (let op = 0; !done && op < MAX_OPS_PER_WRITER; op++) {
          const key = mine[op % mine.length];
          const value = `w${w}-${op}`;
          try {
            await c.set(key, value);
            acked.set(key, value);
            const back = await c.get(key);
            if (back !== value) errors.push(`read ${key}: got ${back}, wanted ${value}`);
          } catch (error) {
            errors.push(`${key}: ${(error as Error).message}`);
          }
        }
      } finally {
        c.disconnect();
      }
    });

    let askProbeMisses = 0;
    // There and back again: A -> B, then B -> A.
    for (const [from, to] of [
      [a, b],
      [b, a],
    ] as const) {
      for (const [i, slot] of moving.entries()) {
        await moveSlot(slot, from, to, i === 0 ? async (moved) => {
          // A key already moved while its slot is MIGRATING: the old owner answers ASK.
          const value = await seeder.get(moved[0]);
          if (value === null) askProbeMisses++;
        } : undefined);
      }
    }
    done = true;
    await Promise.all(writers);

    expect(errors).toEqual([]);
    expect(askProbeMisses).toBe(0);
    // Every acknowledged write reads back, through slotgate and directly from the owning master.
    const readPipe = seeder.pipeline();
    for (const k of keys) readPipe.get(k);
    const results = await readPipe.exec();
    keys.forEach((k, i) => expect(results?.[i]).toEqual([null, acked.get(k)]));
    for (const k of keys.slice(0, 50)) expect(await a.client.get(k)).toBe(acked.get(k));

    expect(await proxyCounter(seeder, 'redirects_moved')).toBeGreaterThan(0);
    expect(await proxyCounter(seeder, 'redirects_ask')).toBeGreaterThan(0);
    seeder.disconnect();
  }, 120_000);
});
