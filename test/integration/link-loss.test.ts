import { describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { ProxyServer } from '../../src/proxy/server.js';
import { FakeNode, type FakeHandler } from '../helpers/fake-node.js';
import { arrayReply, type ReplyValue } from '../../src/resp/encode.js';
import { proxyClient, startTestProxy } from '../helpers/proxy.js';
import { cleanupAfterEach } from '../helpers/cleanup.js';
import { eventually } from '../helpers/eventually.js';

// What a client sees when the node connection its request is on is lost before the reply:
// reads are sent again once, writes get an error (they may have run), all within the deadline.
const cleanup = cleanupAfterEach();

async function setup(handler: FakeHandler, overrides = {}): Promise<{ node: FakeNode; proxy: ProxyServer; client: Redis }> {
  const node = await new FakeNode(handler).listen();
  cleanup(() => node.close());
  const proxy = await startTestProxy([`127.0.0.1:${node.port}`], overrides);
  cleanup(() => proxy.close());
  const client = proxyClient(proxy, { maxRetriesPerRequest: 0 });
  cleanup(() => client.disconnect());
  return { node, proxy, client };
}

const sent = (node: FakeNode, name: string): number => node.commands.filter((c) => c[0] === name).length;

describe('a node connection lost with requests in flight', () => {
  it('sends a read-only request again, once, and answers it', async () => {
    let drops = 1;
    const { node, client } = await setup((args, _node, connection) => {
      if (args[0] !== 'GET') return undefined;
      if (drops-- > 0) {
        connection.destroy();
        return null;
      }
      return '$5\r\nvalue\r\n';
    });
    expect(await client.get('k')).toBe('value');
    expect(sent(node, 'GET')).toBe(2);
  });

  it('gives an in-flight write an error and never sends it twice', async () => {
    const { node, client, proxy } = await setup((args, _node, connection) => {
      if (args[0] !== 'SET') return undefined;
      connection.destroy();
      return null;
    });
    await expect(client.set('k', 'v')).rejects.toThrow(/^ERR slotgate: connection to 127\.0\.0\.1:\d+ lost/);
    expect(sent(node, 'SET')).toBe(1);
    // The loss makes slotgate look at the topology again.
    await eventually(() => (proxy.router.stats.refreshesByTrigger.get('link-down')?.ok ?? 0) >= 1);
  });

  it('gives up on a read lost twice, with the error of the second loss', async () => {
    const { node, client } = await setup((args, _node, connection) => {
      if (args[0] !== 'GET') return undefined;
      connection.destroy();
      return null;
    });
    await expect(client.get('k')).rejects.toThrow(/ERR slotgate: connection to .* lost/);
    expect(sent(node, 'GET')).toBe(2);
  });

  it('keeps the client order of a pipeline whose read went again and whose write failed', async () => {
    let drop = true;
    const { client } = await setup((args, _node, connection) => {
      if (args[0] === 'GET' && args[1] === 'a') return '$1\r\nA\r\n';
      if (args[0] === 'GET' && args[1] === 'b') return '$1\r\nB\r\n';
      if (args[0] === 'INCR' && drop) {
        drop = false;
        connection.destroy();
        return null;
      }
      if (args[0] === 'INCR') return ':1\r\n';
      return undefined;
    });
    // GET a is answered before INCR drops the connection; GET b and the second INCR were
    // written behind it on the same link: the read goes again, the write fails.
    const results = await client.pipeline().get('a').incr('n').get('b').incr('n').exec();
    expect(results?.[0]).toEqual([null, 'A']);
    expect(String(results?.[1][0])).toMatch(/connection to .* lost/);
    expect(results?.[2]).toEqual([null, 'B']);
    expect(String(results?.[3][0])).toMatch(/connection to .* lost/);
    expect(await client.incr('n')).toBe(1);
  });

  it('answers a read sent again to a node that then hangs with the upstream timeout, within the request timeout', async () => {
    let drops = 1;
    const { client } = await setup(
      (args, _node, connection) => {
        if (args[0] !== 'GET') return undefined;
        if (drops-- > 0) {
          connection.destroy();
          return null;
        }
        return null; // the node now takes the request and never answers (no reset: a hung process)
      },
      { requestTimeoutMs: 600 },
    );
    const started = Date.now();
    await expect(client.get('k')).rejects.toThrow('ERR slotgate: upstream timeout');
    // Its deadline is counted from when it was read, not from when it went again; the sweep runs every 100 ms.
    expect(Date.now() - started).toBeLessThan(600 + 400);
  });
});

describe('a whole-cluster command with a master that cannot be reached', () => {
  it('answers an error instead of waiting for ever for the sub-request that was never written', async () => {
    // The second master's port is closed: its link never connects, so its DBSIZE is never written.
    const closed = await new FakeNode(() => undefined).listen();
    const closedPort = closed.port;
    await closed.close();
    const node = await new FakeNode((args, self) => {
      if (args[0] === 'DBSIZE') return ':5\r\n';
      if (args.join(' ') !== 'CLUSTER SHARDS') return undefined;
      const shard = (port: number, slots: number[], id: string): unknown[] => [
        'slots', slots,
        'nodes', [['id', id.repeat(40), 'port', port, 'ip', '127.0.0.1', 'endpoint', '127.0.0.1', 'role', 'master', 'replication-offset', 0, 'health', 'online']],
      ];
      return arrayReply([shard(self.port, [0, 8191], 'a'), shard(closedPort, [8192, 16383], 'b')] as ReplyValue[]);
    }).listen();
    cleanup(() => node.close());
    const proxy = await startTestProxy([`127.0.0.1:${node.port}`], { requestTimeoutMs: 1000 });
    cleanup(() => proxy.close());
    // No ready check: its INFO is a whole-cluster command too.
    const client = proxyClient(proxy, { maxRetriesPerRequest: 0, enableReadyCheck: false });
    cleanup(() => client.disconnect());
    await expect(client.dbsize()).rejects.toThrow(/ERR|CLUSTERDOWN/);
    // The client is not stuck behind it.
    expect(await client.ping()).toBe('PONG');
  });
});
