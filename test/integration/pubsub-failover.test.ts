import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { slotOf } from '../../src/cluster/key-slot.js';
import type { LocalCluster } from '../../src/tools/local-cluster.js';
import { readMasters, type Master, startOwnCluster } from '../helpers/cluster.js';
import type { ProxyServer } from '../../src/proxy/server.js';
import { eventually } from '../helpers/eventually.js';
import { proxyClient, startTestProxy } from '../helpers/proxy.js';

// Its own cluster: masters and replicas swap roles, which other tests need not see.

let cluster: LocalCluster;
let proxy: ProxyServer;

beforeAll(async () => {
  cluster = await startOwnCluster('pubsub-failover', 800, { replicasPerMaster: 1 });
  proxy = await startTestProxy(cluster.seeds, { refreshIntervalMs: 500 });
});

afterAll(async () => {
  await proxy?.close();
  await cluster?.stop();
});


/** Fails `master` over to its replica with CLUSTER FAILOVER, and waits until the cluster agrees. */
async function failOver(master: Master): Promise<void> {
  // Right after the cluster formed (or a previous failover) the replica may not be attached yet.
  let nodes: string[] = [];
  await eventually(async () => {
    nodes = ((await master.client.call('CLUSTER', 'REPLICAS', master.id)) as string[]).filter((n) => n.includes(' connected'));
    return nodes.length > 0;
  }, 15_000);
  const port = Number(/:(\d+)@/.exec(nodes[0])?.[1]);
  const replica = new Redis({ port, host: '127.0.0.1', protocol: 2 });
  try {
    // A manual failover needs the replica in sync with its master.
    await eventually(async () => /master_link_status:up/.test((await replica.info('replication')) as string), 15_000);
    expect(await replica.call('CLUSTER', 'FAILOVER')).toBe('OK');
    await eventually(async () => ((await replica.call('ROLE')) as string[])[0] === 'master', 15_000);
    await eventually(async () => ((await master.client.call('ROLE')) as string[])[0] === 'slave', 15_000);
  } finally {
    replica.disconnect();
  }
}

/** The masters once every node agrees again after a failover: three, each with its slots. */
async function settledMasters(): Promise<Master[]> {
  let masters: Master[] = [];
  await eventually(async () => {
    for (const m of masters) m.client.disconnect();
    masters = await readMasters(cluster.nodes.find((n) => n.port !== killedPort)!.port);
    return masters.length === 3 && masters.every((m) => m.slots.length > 0) && masters.reduce((n, m) => n + m.slots.length, 0) === 16384;
  }, 15_000);
  return masters;
}

/** The node the last test killed (not asked again). */
let killedPort = -1;

function channelOwnedBy(master: Master, prefix: string): string {
  const owned = new Set(master.slots);
  for (let i = 0; i < 100_000; i++) if (owned.has(slotOf(Buffer.from(`${prefix}${i}`)))) return `${prefix}${i}`;
  throw new Error('no channel found');
}

describe.each([2, 3] as const)('subscriptions across a failover (ioredis, RESP%s)', (protocol) => {
  it('keep delivering, plain and sharded, after CLUSTER FAILOVER of the node they were on', async () => {
    const masters = await settledMasters();
    // Plain subscriptions are kept on the master of slot 0; the shard channel lives on another master.
    const slot0Master = masters.find((m) => m.slots.includes(0))!;
    const shardMaster = masters.find((m) => m !== slot0Master)!;
    const channel = `fo:news:${protocol}`;
    const shardChannel = channelOwnedBy(shardMaster, `fo:shard${protocol}:`);

    const subscriber = proxyClient(proxy, { protocol });
    const publisher = proxyClient(proxy, { protocol });
    const got: string[] = [];
    const gotShard: string[] = [];
    subscriber.on('message', (_c: string, m: string) => got.push(m));
    subscriber.on('smessage', (_c: string, m: string) => gotShard.push(m));
    const errors: string[] = [];
    subscriber.on('error', (e: Error) => errors.push(e.message));
    try {
      await subscriber.subscribe(channel);
      await subscriber.ssubscribe(shardChannel);
      await publisher.publish(channel, 'before');
      await publisher.spublish(shardChannel, 'before');
      await eventually(() => got.length === 1 && gotShard.length === 1);

      await failOver(slot0Master);
      await failOver(shardMaster);

      // Publish until the messages arrive again (the shard subscription moves to the new
      // master after slotgate's refresh); bounded by count and time.
      for (let i = 0; i < 100 && !(got.includes('after') && gotShard.includes('after')); i++) {
        await publisher.publish(channel, 'after').catch(() => 0);
        await publisher.spublish(shardChannel, 'after').catch(() => 0);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(got).toContain('after');
      expect(gotShard).toContain('after');
      expect(errors).toEqual([]);
      // Still in subscribed mode on the client's side, with both subscriptions.
      expect(await subscriber.ping()).toEqual(protocol === 2 ? ['pong', ''] : 'PONG');
    } finally {
      subscriber.disconnect();
      publisher.disconnect();
      for (const m of masters) m.client.disconnect();
    }
  });
});

describe('subscriptions across the loss of a node', () => {
  it('keep delivering after the master they were on is killed and its replica takes over', async () => {
    const masters = await settledMasters();
    const slot0Master = masters.find((m) => m.slots.includes(0))!;
    const channel = 'fo:killed';
    const subscriber = proxyClient(proxy);
    const publisher = proxyClient(proxy);
    const got: string[] = [];
    subscriber.on('message', (_c: string, m: string) => got.push(m));
    subscriber.on('error', () => {});
    publisher.on('error', () => {});
    try {
      await subscriber.subscribe(channel, 'fo:other');
      await publisher.publish(channel, 'before');
      await eventually(() => got.length === 1);
      const victim = cluster.nodes.find((n) => n.port === slot0Master.port)!;
      killedPort = victim.port;
      slot0Master.client.disconnect();
      process.kill(victim.pid, 'SIGKILL');
      // The replica is promoted after cluster-node-timeout (2 s); slotgate subscribes again on it.
      for (let i = 0; i < 150 && !got.includes('after'); i++) {
        await publisher.publish(channel, 'after').catch(() => 0);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(got).toContain('after');
      // Both channels were subscribed again, without the client seeing new confirmations.
      expect(await publisher.call('PUBSUB', 'NUMSUB', channel, 'fo:other')).toEqual([channel, 1, 'fo:other', 1]);
      expect(await subscriber.ping()).toEqual(['pong', '']);
    } finally {
      subscriber.disconnect();
      publisher.disconnect();
      for (const m of masters) m.client.disconnect();
    }
  });
});
