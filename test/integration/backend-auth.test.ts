import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/tools/local-cluster.js';
import { startOwnCluster } from '../helpers/cluster.js';
import type { ProxyServer } from '../../src/proxy/server.js';
import { proxyClient, startTestProxy } from '../helpers/proxy.js';
import { rawExchange } from '../helpers/raw-client.js';
import { RawRespClient } from '../helpers/raw-resp-client.js';

// A cluster whose nodes require a password: slotgate authenticates its own links with the
// backend credentials, and its clients with its own (different) password.
const NODE_PASSWORD = 'node-secret';

let cluster: LocalCluster;
const proxies: ProxyServer[] = [];

beforeAll(async () => {
  cluster = await startOwnCluster('auth', 300, { password: NODE_PASSWORD });
});

afterAll(async () => {
  for (const p of proxies) await p.close();
  await cluster?.stop();
});

describe('backend authentication', () => {
  it('authenticates node links with the backend password, separate from the client password', async () => {
    const proxy = await startTestProxy(cluster.seeds, { backendPassword: NODE_PASSWORD, requirepass: 'client-secret' });
    proxies.push(proxy);
    const client = proxyClient(proxy, { password: 'client-secret' });
    try {
      for (let i = 0; i < 30; i++) expect(await client.set(`auth:${i}`, String(i))).toBe('OK');
      expect(await client.mget('{a}1', '{a}2')).toEqual([null, null]);
      expect(await client.get('auth:7')).toBe('7');
      // The node password is not a client password.
      const { data } = await rawExchange(proxy.port, [`AUTH ${NODE_PASSWORD}\r\nGET auth:7\r\n`]);
      expect(data.toString()).toBe('-WRONGPASS invalid username-password pair or user is disabled.\r\n-NOAUTH Authentication required.\r\n');
    } finally {
      client.disconnect();
    }
  });

  it('authenticates RESP3 node links inside their HELLO 3 (HELLO 3 AUTH default <password>)', async () => {
    const proxy = await startTestProxy(cluster.seeds, { backendPassword: NODE_PASSWORD });
    proxies.push(proxy);
    const c = await RawRespClient.connect(proxy.port, 3);
    try {
      for (let i = 0; i < 30; i++) expect((await c.request(['SET', `auth3:${i}`, String(i)])).raw).toBe('+OK\r\n');
      expect((await c.request(['GET', 'auth3:7'])).raw).toBe('$1\r\n7\r\n');
      // Keys of different slots: split over RESP3 links, nulls merged as RESP3's _.
      expect((await c.request(['MGET', 'auth3:7', 'auth3:none', 'auth3:8'])).raw).toBe('*3\r\n$1\r\n7\r\n_\r\n$1\r\n8\r\n');
      const links = String(await c.call('PROXY', 'CLUSTER'));
      expect(links).toContain('ready(resp3)');
      expect(links).not.toMatch(/(idle|connecting)\(resp3\)/);
    } finally {
      c.disconnect();
    }
  });

  it('gives a clear error, not a hang, when the backend password is wrong', async () => {
    const proxy = await startTestProxy(cluster.seeds, { backendPassword: 'wrong', requestTimeoutMs: 1000 });
    proxies.push(proxy);
    const client = proxyClient(proxy, { enableReadyCheck: false });
    try {
      await expect(client.get('auth:1')).rejects.toThrow(/^CLUSTERDOWN Hash slot not served \(slotgate: .*AUTH to 127.0.0.1:\d+ failed: WRONGPASS/);
    } finally {
      client.disconnect();
    }
  });
});
