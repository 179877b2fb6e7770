import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { ProxyServer } from '../../src/proxy/server.js';
import { readMasters, startOwnCluster, type LocalCluster, type Master } from '../helpers/cluster.js';
import { proxyClient, startTestProxy } from '../helpers/proxy.js';
import { eventually } from '../helpers/eventually.js';

// A master that stops answering without closing anything (SIGSTOP: the kernel still accepts and
// acknowledges, the process never replies, no RST) is found within request-timeout, not after the
// kernel's TCP timeouts. Its own cluster (+1200) with a long node timeout, so nothing fails over.
let cluster: LocalCluster;
let proxy: ProxyServer;
let client: Redis;
let masters: Master[];
const REQUEST_TIMEOUT_MS = 1000;

beforeAll(async () => {
  cluster = await startOwnCluster('hung-node', 1200, { nodeTimeoutMs: 60_000 });
  masters = await readMasters(cluster.nodes[0].port);
  proxy = await startTestProxy(cluster.seeds, { requestTimeoutMs: REQUEST_TIMEOUT_MS, connectTimeoutMs: 500 });
  client = proxyClient(proxy);
}, 60_000);

afterAll(async () => {
  for (const node of cluster?.nodes ?? []) {
    try {
      process.kill(node.pid, 'SIGCONT');
    } catch {
      /* already gone */
    }
  }
  client?.disconnect();
  for (const m of masters ?? []) m.client.disconnect();
  await proxy?.close();
  await cluster?.stop();
});

/** A key whose slot the master owns. */
async function keyOn(master: Master, tag: string): Promise<string> {
  for (let i = 0; i < 100_000; i++) {
    const key = `${tag}:${i}`;
    if (master.slots.includes(Number(await master.client.cluster('KEYSLOT', key)))) return key;
  }
  throw new Error('no key found');
}

describe('a master that hangs', () => {
  it('answers its requests with the upstream timeout within request-timeout, serves the other masters meanwhile, and recovers', async () => {
    const [hung, healthy] = masters;
    const hungKey = await keyOn(hung, 'hung');
    const healthyKey = await keyOn(healthy, 'ok');
    await client.set(hungKey, 'before');
    await client.set(healthyKey, 'fine');
    const pid = cluster.nodes.find((n) => n.port === hung.port)!.pid;
    const refreshesBefore = proxy.router.stats.refreshes;
    process.kill(pid, 'SIGSTOP');
    try {
      const started = Date.now();
      const read = client.get(hungKey).then(
        () => 'answered',
        (error: Error) => error.message,
      );
      // The other masters keep serving while that one hangs.
      expect(await client.get(healthyKey)).toBe('fine');
      expect(await read).toBe('ERR slotgate: upstream timeout');
      const took = Date.now() - started;
      expect(took).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
      expect(took).toBeLessThan(REQUEST_TIMEOUT_MS + 1500);
      // The timeout made slotgate look at the topology again.
      await eventually(() => proxy.router.stats.refreshes > refreshesBefore);
      expect(proxy.router.stats.timeouts).toBeGreaterThanOrEqual(1);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await eventually(async () => (await client.get(hungKey).catch(() => null)) === 'before', 10_000);
  });
});
