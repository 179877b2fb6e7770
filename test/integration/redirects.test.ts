import { describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { ProxyServer } from '../../src/proxy/server.js';
import { FakeNode } from '../helpers/fake-node.js';
import { proxyClient, proxyCounter, startTestProxy } from '../helpers/proxy.js';
import { cleanupAfterEach } from '../helpers/cleanup.js';
import { RawRespClient } from '../helpers/raw-resp-client.js';

// Behaviour that needs a node misbehaving on demand: a fake node in this process.
const cleanup = cleanupAfterEach();

async function setup(handler: ConstructorParameters<typeof FakeNode>[0], overrides = {}): Promise<{ node: FakeNode; proxy: ProxyServer; client: Redis }> {
  const node = await new FakeNode(handler).listen();
  cleanup(() => node.close());
  const proxy = await startTestProxy([`127.0.0.1:${node.port}`], overrides);
  cleanup(() => proxy.close());
  const client = proxyClient(proxy);
  cleanup(() => client.disconnect());
  return { node, proxy, client };
}

describe('redirects and retries against a misbehaving node', () => {
  it('gives a clear error after the redirect limit instead of looping', async () => {
    const { client, node } = await setup((args, self) => (args[0] === 'GET' ? `-MOVED 866 127.0.0.1:${self.port}\r\n` : undefined), { maxRedirects: 3 });
    await expect(client.get('foo')).rejects.toThrow(/^ERR slotgate: too many redirections \(last: MOVED 866 127\.0\.0\.1:\d+\)/);
    expect(node.commands.filter((c) => c[0] === 'GET').length).toBe(4);
  });

  it('rides out nodes that disagree for a moment about a slot (a redirect loop that ends)', async () => {
    const loopUntil = Date.now() + 40;
    const { client } = await setup((args, self) => {
      if (args[0] !== 'GET') return undefined;
      return Date.now() < loopUntil ? `-MOVED 12182 127.0.0.1:${self.port}\r\n` : '$7\r\nsettled\r\n';
    });
    expect(await client.get('foo')).toBe('settled');
  });

  it('sends ASKING before the command on an ASK redirect', async () => {
    let asked = false;
    const { client, node } = await setup((args, self) => {
      if (args[0] === 'ASKING') {
        asked = true;
        return '+OK\r\n';
      }
      if (args[0] === 'GET') return asked ? '$5\r\nmoved\r\n' : `-ASK 12182 127.0.0.1:${self.port}\r\n`;
      return undefined;
    });
    expect(await client.get('foo')).toBe('moved');
    const sequence = node.commands.filter((c) => c[0] === 'GET' || c[0] === 'ASKING').map((c) => c[0]);
    expect(sequence).toEqual(['GET', 'ASKING', 'GET']);
    expect(await proxyCounter(client, 'redirects_ask')).toBe(1);
  });

  it('retries TRYAGAIN with backoff and returns the eventual answer', async () => {
    let tries = 0;
    const { client } = await setup((args) => {
      if (args[0] !== 'MGET') return undefined;
      return ++tries < 3 ? '-TRYAGAIN Multiple keys request during rehashing of slot\r\n' : '*2\r\n$1\r\na\r\n$1\r\nb\r\n';
    });
    expect(await client.mget('{t}1', '{t}2')).toEqual(['a', 'b']);
    expect(tries).toBe(3);
    expect(await proxyCounter(client, 'retries_tryagain')).toBe(2);
  });

  it('passes a redirect with an out-of-range slot or port to the client instead of following it', async () => {
    const { client } = await setup((args) => (args[0] === 'GET' ? '-MOVED 99999 127.0.0.1:6379\r\n' : args[0] === 'SET' ? '-MOVED 1 127.0.0.1:70000\r\n' : undefined));
    await expect(client.get('foo')).rejects.toThrow('MOVED 99999 127.0.0.1:6379');
    await expect(client.set('foo', 'x')).rejects.toThrow('MOVED 1 127.0.0.1:70000');
  });

  it('answers -ERR slotgate: upstream timeout when a node stops answering, and serves again after', async () => {
    let silent = true;
    const { client } = await setup((args) => (args[0] === 'GET' ? (silent ? null : '$2\r\nok\r\n') : undefined), { requestTimeoutMs: 300 });
    const started = Date.now();
    await expect(client.get('foo')).rejects.toThrow('ERR slotgate: upstream timeout');
    expect(Date.now() - started).toBeLessThan(2000);
    silent = false;
    expect(await client.get('foo')).toBe('ok');
  });

  it('falls back to CLUSTER SLOTS and accepts slot numbers given as strings', async () => {
    const { client } = await setup((args, self) => {
      const cmd = args.join(' ').toUpperCase();
      if (cmd === 'CLUSTER SHARDS') return "-ERR unknown subcommand 'SHARDS'\r\n";
      if (cmd === 'CLUSTER SLOTS') return `*1\r\n*3\r\n$1\r\n0\r\n$5\r\n16383\r\n*3\r\n$9\r\n127.0.0.1\r\n:${self.port}\r\n$3\r\nabc\r\n`;
      if (args[0] === 'GET') return '$3\r\nold\r\n';
      return undefined;
    });
    expect(await client.get('anything')).toBe('old');
  });

  it('starts with unreachable seeds and serves once a seed answers', async () => {
    const node = await new FakeNode((args) => (args[0] === 'GET' ? '$2\r\nup\r\n' : undefined)).listen();
    cleanup(() => node.close());
    const proxy = await startTestProxy(['127.0.0.1:1', `localhost:${node.port}`]);
    cleanup(() => proxy.close());
    const client = proxyClient(proxy);
    cleanup(() => client.disconnect());
    expect(await client.get('k')).toBe('up');
  });

  it('answers CLUSTERDOWN within the request timeout when no seed answers', async () => {
    const proxy = await startTestProxy(['127.0.0.1:1'], { requestTimeoutMs: 300, refreshIntervalMs: 100 });
    cleanup(() => proxy.close());
    const client = proxyClient(proxy, { enableReadyCheck: false });
    cleanup(() => client.disconnect());
    expect(await client.ping()).toBe('PONG');
    await expect(client.get('k')).rejects.toThrow('CLUSTERDOWN Hash slot not served');
  });

  it('serves a request parked for a slot without master once a later map has one, with no other request to set off a refresh', async () => {
    // A master failed and its replica is not elected yet: for a while the cluster serves only
    // some slots. The one client waits on its request, so nothing but slotgate itself can read
    // the map again before the periodic refresh (a minute here) or the deadline.
    const servedFrom = Date.now() + 400;
    const { client, node } = await setup((args, self) => {
      if (args.join(' ').toUpperCase() === 'CLUSTER SHARDS') return Date.now() < servedFrom ? self.shardsReply([0, 100]) : self.shardsReply();
      if (args[0] === 'GET') return '$6\r\nserved\r\n';
      return undefined;
    }, { requestTimeoutMs: 3000, refreshIntervalMs: 60_000 });
    const started = Date.now();
    expect(await client.get('foo')).toBe('served'); // slot 12182, not in [0, 100]
    expect(Date.now() - started).toBeLessThan(1500);
    expect(node.commands.filter((c) => c[0] === 'GET').length).toBe(1);
  });

  it('fails a transaction cleanly when its slot moves while it is queued: a clear error, then EXECABORT', async () => {
    const { client, node } = await setup((args, self) => {
      if (args[0] === 'MULTI') return '+OK\r\n';
      if (args[0] === 'SET' && args[1] === '{here}a') return '+QUEUED\r\n';
      if (args[0] === 'SET') return `-MOVED 12182 127.0.0.1:${self.port}\r\n`;
      if (args[0] === 'EXEC') return '-EXECABORT Transaction discarded because of previous errors.\r\n';
      return undefined;
    });
    expect(await client.call('MULTI')).toBe('OK');
    expect(await client.call('SET', '{here}a', '1')).toBe('QUEUED');
    await expect(client.call('SET', '{here}b', '1')).rejects.toThrow(/^ERR slotgate: the slot moved during the transaction \(MOVED 12182 [^)]+\); retry the transaction/);
    await expect(client.call('EXEC')).rejects.toThrow(/^EXECABORT/);
    // Nothing was re-sent elsewhere: one MULTI, both SETs once, and the aborted transaction discarded.
    expect(node.commands.filter((c) => ['MULTI', 'SET', 'EXEC', 'DISCARD'].includes(c[0])).map((c) => c[0])).toEqual(['MULTI', 'SET', 'SET', 'DISCARD']);
  });

  it('follows MOVED and ASK for a blocking command, on a dedicated link to the named node', async () => {
    const target = await new FakeNode((args) => {
      if (args[0] === 'ASKING') return '+OK\r\n';
      if (args[0] === 'BLPOP') return `*2\r\n$${args[1].length}\r\n${args[1]}\r\n$3\r\njob\r\n`;
      return undefined;
    }).listen();
    cleanup(() => target.close());
    const { client } = await setup((args) => {
      if (args[0] === 'BLPOP' && args[1] === 'moved') return `-MOVED 1 127.0.0.1:${target.port}\r\n`;
      if (args[0] === 'BLPOP' && args[1] === 'asked') return `-ASK 2 127.0.0.1:${target.port}\r\n`;
      return undefined;
    });
    expect(await client.blpop('moved', 0)).toEqual(['moved', 'job']);
    expect(await client.blpop('asked', 0)).toEqual(['asked', 'job']);
    expect(target.commands.map((c) => c[0]).filter((c) => c === 'BLPOP' || c === 'ASKING')).toEqual(['BLPOP', 'ASKING', 'BLPOP']);
  });

  it('opens a RESP3 link (HELLO 3 first) only for a RESP3 client, and skips a stray push frame on it', async () => {
    const { client, node, proxy } = await setup((args) => {
      // A push before the reply: nothing a shared link should get, but it must not shift replies.
      if (args[0] === 'GET') return `>2\r\n$10\r\ninvalidate\r\n*0\r\n$${args[1].length}\r\n${args[1]}\r\n`;
      return undefined;
      // No idle dedicated links: the pool keeps RESP3 ones ready too, and this is about shared links.
    }, { privateLinksIdle: 0 });
    expect(await client.get('two')).toBe('two');
    expect(node.commands.some((c) => c[0] === 'HELLO')).toBe(false);
    const r3 = await RawRespClient.connect(proxy.port, 3);
    cleanup(() => r3.disconnect());
    const replies = await Promise.all([r3.request(['GET', 'a']), r3.request(['GET', 'bb']), r3.request(['GET', 'ccc'])]);
    expect(replies.map((r) => r.raw)).toEqual(['$1\r\na\r\n', '$2\r\nbb\r\n', '$3\r\nccc\r\n']);
    expect(node.commands.filter((c) => c[0] === 'HELLO')).toEqual([['HELLO', '3']]);
  });

  it('re-sends a redirected request on a link of the protocol it was read in, after the client switched', async () => {
    let moved = false;
    const { proxy } = await setup((args, self, connection) => {
      if (args[0] !== 'GET') return undefined;
      if (args[1] === 'first' && !moved) {
        moved = true;
        // Slow, so that the client's HELLO 3 is read while this request waits for its node.
        return new Promise<string>((r) => setTimeout(() => r(`-MOVED 11149 127.0.0.1:${self.port}\r\n`), 50));
      }
      return connection.protocol === 3 ? '_\r\n' : '$-1\r\n';
    });
    const c = await RawRespClient.connect(proxy.port, 2);
    cleanup(() => c.disconnect());
    const replies = await Promise.all([c.request(['GET', 'first']), c.request(['HELLO', '3']), c.request(['GET', 'second'])]);
    expect(moved).toBe(true);
    expect(replies[0].raw).toBe('$-1\r\n');
    expect(replies[1].raw).toMatch(/^%7\r\n/);
    expect(replies[2].raw).toBe('_\r\n');
  });

  it('holds requests read after a protocol switch until the earlier ones (on the other protocol link) are answered', async () => {
    let setAnswered = false;
    let setAnsweredWhenGetCame: boolean | null = null;
    const { proxy } = await setup((args) => {
      if (args[0] === 'SET') return new Promise<string>((r) => setTimeout(() => ((setAnswered = true), r('+OK\r\n')), 80));
      if (args[0] === 'GET') {
        setAnsweredWhenGetCame = setAnswered;
        return '$1\r\nv\r\n';
      }
      return undefined;
    });
    const c = await RawRespClient.connect(proxy.port, 2);
    cleanup(() => c.disconnect());
    // The RESP3 link is already open: without the hold, GET would reach the node at once, on it.
    const warm = await RawRespClient.connect(proxy.port, 3);
    cleanup(() => warm.disconnect());
    expect((await warm.request(['GET', 'k'])).raw).toBe('$1\r\nv\r\n');
    const replies = await Promise.all([c.request(['SET', 'k', 'v']), c.request(['HELLO', '3']), c.request(['GET', 'k'])]);
    expect(replies.map((r) => r.raw.slice(0, 4))).toEqual(['+OK\r', '%7\r\n', '$1\r\n']);
    expect(setAnsweredWhenGetCame).toBe(true);
  });
});

