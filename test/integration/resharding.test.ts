import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { slotOf } from '../../src/cluster/key-slot.js';
import type { LocalCluster } from '../../src/tools/local-cluster.js';
import { moveSlot, readMasters, type Master, startOwnCluster } from '../helpers/cluster.js';
import type { ProxyServer } from '../../src/proxy/server.js';
import { proxyClient, proxyCounter, startTestProxy } from '../helpers/proxy.js';

// Its own cluster: slots move under it, which other tests need not see.
const SLOTS_TO_MOVE = 150;
const KEYS_PER_SLOT = 8;
const WRITERS = 4;
const MAX_OPS_PER_WRITER = 50_000;

let cluster: LocalCluster;
let proxy: ProxyServer;
let masters: Master[];

beforeAll(async () => {
  cluster = await startOwnCluster('reshard', 200);
  proxy = await startTestProxy(cluster.seeds);
  masters = await readMasters(cluster.nodes[0].port);
});

afterAll(async () => {
  for (const m of masters ?? []) m.client.disconnect();
  await proxy?.close();
  await cluster?.stop();
});


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
            if (op % 5 === 0) {
              // Across slots: split per slot, each part redirected on its own while its slot moves.
              const several = [mine[(op + 7) % mine.length], mine[(op + 13) % mine.length], key];
              await c.mset(...several.flatMap((k) => [k, value]));
              for (const k of several) acked.set(k, value);
              const values = await c.mget(...several);
              if (values.some((v) => v !== value)) errors.push(`mget ${several.join(' ')}: got ${values.join(' ')}, wanted ${value}`);
            }
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
        await moveSlot(masters, slot, from, to, i === 0 ? async (moved) => {
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

describe('SCAN while slots migrate', () => {
  it('returns every key present during the whole scan, while keys come and go, slots move and the map refreshes', async () => {
    const [a, b] = masters;
    const moving = a.slots.slice(400, 400 + 60);
    const movingSet = new Set(moving);
    // Keys present throughout: spread over the keyspace, and 5 in each moving slot.
    const stable = Array.from({ length: 1500 }, (_, i) => `scan:st:${i}`);
    const perSlot = new Map<number, number>(moving.map((s) => [s, 0]));
    for (let n = 0; [...perSlot.values()].some((c) => c < 5); n++) {
      const key = `scan:mv:${n}`;
      const c = perSlot.get(slotOf(key));
      if (c !== undefined && c < 5) {
        perSlot.set(slotOf(key), c + 1);
        stable.push(key);
      }
    }
    const client = proxyClient(proxy);
    const seed = client.pipeline();
    for (const k of stable) seed.set(k, '1');
    await seed.exec();

    let migrating = true;
    const errors: string[] = [];
    // Keys that come and go during the scans (a scan may or may not return them).
    const churn = (async () => {
      const c = proxyClient(proxy);
      try {
        for (let i = 0; migrating && i < 200_000; i++) {
          await c.set(`scan:vol:${i}`, '1');
          if (i >= 50) await c.del(`scan:vol:${i - 50}`);
        }
      } catch (error) {
        errors.push(`churn: ${(error as Error).message}`);
      } finally {
        c.disconnect();
      }
    })();
    const migration = (async () => {
      try {
        for (const [from, to] of [
          [a, b],
          [b, a],
        ] as const) {
          for (const slot of moving) await moveSlot(masters, slot, from, to);
        }
      } finally {
        migrating = false;
      }
    })();

    const deadline = Date.now() + 60_000;
    let scans = 0;
    let scansDuringMigration = 0;
    while ((migrating || scans < 2) && Date.now() < deadline && scans < 100) {
      const startedDuringMigration = migrating;
      const seen = new Set<string>();
      let cursor = '0';
      let calls = 0;
      do {
        const [next, page] = (await client.call('SCAN', cursor, 'MATCH', 'scan:*', 'COUNT', '20')) as [string, string[]];
        for (const k of page) seen.add(k);
        cursor = next;
        // The cursor names a slot: it stays valid across a topology refresh.
        if (++calls % 10 === 0) await client.call('PROXY', 'CLUSTER', 'UPDATE');
      } while (cursor !== '0' && calls < 50_000);
      const missing = stable.filter((k) => !seen.has(k));
      expect(missing, `scan ${scans} missed ${missing.length} keys, e.g. ${missing.slice(0, 5).join(' ')}`).toEqual([]);
      scans++;
      if (startedDuringMigration && migrating) scansDuringMigration++;
    }
    await migration;
    await churn;
    client.disconnect();
    expect(errors).toEqual([]);
    expect(scansDuringMigration).toBeGreaterThanOrEqual(1);
    // The moving slots really moved and came back.
    expect(moving.every((s) => movingSet.has(s))).toBe(true);
  }, 120_000);
});
