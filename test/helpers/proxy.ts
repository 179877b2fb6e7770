import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { pino } from 'pino';
import type { SlotgateConfig } from '../../src/config/config.js';
import { defaultConfig } from '../../src/config/schema.js';
import { startProxy, type ProxyServer } from '../../src/proxy/server.js';

/** Starts slotgate in this process on a free loopback port, in front of `seeds`. */
export async function startTestProxy(seeds: string[], overrides: Partial<SlotgateConfig> = {}): Promise<ProxyServer> {
  const config: SlotgateConfig = { ...defaultConfig(), seeds, bind: '127.0.0.1', port: 0, logLevel: 'silent', ...overrides };
  return startProxy(config, pino({ level: process.env.SLOTGATE_TEST_LOG ?? 'silent' }));
}

/** A plain (non-cluster) ioredis client of the proxy; RESP2 unless told otherwise. */
export function proxyClient(proxy: ProxyServer, options: RedisOptions = {}): Redis {
  return new Redis({ host: '127.0.0.1', port: proxy.port, protocol: 2, maxRetriesPerRequest: 0, ...options });
}

/**
 * A cluster-mode ioredis client given only slotgate's address: slotgate answers CLUSTER SLOTS
 * as one node owning every slot, so everything goes to slotgate. ioredis gives up on the first
 * CLUSTER SLOTS after 1 s by default ("None of startup nodes is available"), which 200 clients
 * starting at once on 2 busy cores (the whole suite runs in parallel) can exceed.
 */
export function proxyClusterClient(proxy: ProxyServer, options: RedisOptions = {}): Cluster {
  return new Cluster([{ host: '127.0.0.1', port: proxy.port }], {
    slotsRefreshTimeout: 10_000,
    redisOptions: { protocol: 2, maxRetriesPerRequest: 0, ...options },
  });
}

/**
 * The ways an application talks to slotgate; integration tests run in each: plain and cluster
 * mode in RESP2, and plain in RESP3 (ioredis sends HELLO 3; replies come back as RESP3 types).
 */
export const CLIENT_MODES = [
  { mode: 'plain', connect: (proxy: ProxyServer): Redis | Cluster => proxyClient(proxy) },
  { mode: 'cluster', connect: (proxy: ProxyServer): Redis | Cluster => proxyClusterClient(proxy) },
  { mode: 'plain-resp3', connect: (proxy: ProxyServer): Redis | Cluster => proxyClient(proxy, { protocol: 3 }) },
] as const;

/** Reads one counter from PROXY INFO. */
export async function proxyCounter(client: Redis | Cluster, name: string): Promise<number> {
  const info = (await client.call('PROXY', 'INFO')) as string;
  const match = new RegExp(`^${name}:(\\d+)`, 'm').exec(info);
  if (match === null) throw new Error(`no ${name} in PROXY INFO`);
  return Number(match[1]);
}

export { seededRandom } from '../../bench/support/seeded-random.js';
