import { describe, expect, it } from 'vitest';
import { FakeNode } from '../helpers/fake-node.js';
import { proxyClient, startTestProxy } from '../helpers/proxy.js';
import { cleanupAfterEach } from '../helpers/cleanup.js';

// A master that hangs (packets dropped: no answer, no RST) and whose replica takes over, as in
// the pod-churn simulation's scenario e. A request unanswered for 1 s makes slotgate read the
// map again (refresh trigger `stalled`), so new requests go to the new master as soon as the
// cluster says so, without waiting for request-timeout or the periodic refresh; the requests
// stuck on the hung node are given up on then too: reads sent again to the new master, writes
// answered with the connection-lost error (they may have run).
const cleanup = cleanupAfterEach();

describe('a hung master replaced by its replica', () => {
  it('is left for the new master about 1 s after its requests stopped being answered, not at request-timeout', async () => {
    let hung = false;
    const a = await new FakeNode((args, self) => {
      if (hung) return null;
      if (args[0] === 'CLUSTER' && args[1]?.toUpperCase() === 'SHARDS') return self.shardsReply();
      if (args[0] === 'GET') return '$1\r\na\r\n';
      if (args[0] === 'SET') return '+OK\r\n';
      return undefined;
    }).listen();
    cleanup(() => a.close());
    const b = await new FakeNode((args) => {
      if (args[0] === 'GET') return '$1\r\nb\r\n';
      if (args[0] === 'SET') return '+OK\r\n';
      return undefined; // CLUSTER SHARDS: b owns every slot
    }).listen();
    cleanup(() => b.close());
    const proxy = await startTestProxy([`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`], { requestTimeoutMs: 10_000, refreshIntervalMs: 60_000 });
    cleanup(() => proxy.close());
    const reader = proxyClient(proxy);
    const writer = proxyClient(proxy);
    cleanup(() => (reader.disconnect(), writer.disconnect()));
    expect(await reader.get('k')).toBe('a');
    expect(await writer.set('k', 'v')).toBe('OK');

    hung = true;
    const t = Date.now();
    const read = reader.get('k').then((v) => ({ v, ms: Date.now() - t }));
    const write = writer.set('k', 'w').then(
      () => ({ err: '', ms: Date.now() - t }),
      (e: Error) => ({ err: e.message, ms: Date.now() - t }),
    );
    const r = await read;
    const w = await write;
    expect(r.v).toBe('b');
    expect(r.ms).toBeGreaterThanOrEqual(900);
    expect(r.ms).toBeLessThan(3000);
    expect(w.err).toMatch(/^ERR slotgate: connection to 127\.0\.0\.1:\d+ lost \(no longer master and not answering\)/);
    expect(w.ms).toBeLessThan(3000);
    // New requests go to the new master at once.
    const t2 = Date.now();
    expect(await writer.set('k', 'x')).toBe('OK');
    expect(Date.now() - t2).toBeLessThan(200);
    expect(b.commands.some((c) => c[0] === 'SET' && c[2] === 'x')).toBe(true);
  });
});
