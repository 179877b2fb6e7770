import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, it, expect, inject } from 'vitest';
import { mergeInfo, sumKeyspace } from '../../../../src/proxy/commands/info.js';

/**
 * The INFO text (bulk body) of a Redis 7.0.15 master in a cluster, captured from `INFO` on a
 * cluster-enabled redis-server; per-node values are parameters.
 */
function masterInfo({ port = 7001, clients = 5, pid = 4242, keyspace = [] as string[] } = {}): string {
  const lines = [
    '# Server',
    'redis_version:7.0.15',
    'redis_git_sha1:00000000',
    'redis_git_dirty:0',
    'redis_build_id:ae4d7c971a948f0',
    'redis_mode:cluster',
    'os:Linux 6.18.44-fc-v669 x86_64',
    'arch_bits:64',
    'monotonic_clock:POSIX clock_gettime',
    'multiplexing_api:epoll',
    'atomicvar_api:c11-builtin',
    'gcc_version:12.2.0',
    `process_id:${pid}`,
    'process_supervised:no',
    'run_id:efcb92a6a4f11a9b5a23bc258a3e629c4bf18749',
    `tcp_port:${port}`,
    'server_time_usec:1795331215762371',
    'uptime_in_seconds:0',
    'uptime_in_days:0',
    'hz:10',
    'configured_hz:10',
    'lru_clock:169103',
    'executable:/usr/local/bin/redis-server',
    'config_file:/etc/redis/7001.conf',
    'io_threads_active:0',
    '',
    '# Clients',
    `connected_clients:${clients}`,
    'cluster_connections:4',
    'maxclients:10000',
    'client_recent_max_input_buffer:0',
    'client_recent_max_output_buffer:0',
    'blocked_clients:0',
    'tracking_clients:0',
    'clients_in_timeout_table:0',
    '',
    '# Memory',
    'used_memory:1640864',
    'used_memory_human:1.56M',
    'used_memory_rss:12492800',
    'used_memory_rss_human:11.91M',
    'used_memory_peak:1640864',
    'used_memory_peak_human:1.56M',
    'used_memory_peak_perc:101.42%',
    'used_memory_overhead:1600296',
    'used_memory_startup:1600096',
    'used_memory_dataset:40568',
    'used_memory_dataset_perc:99.51%',
    'allocator_allocated:2411744',
    'allocator_active:2555904',
    'allocator_resident:5226496',
    'total_system_memory:25276502016',
    'total_system_memory_human:23.54G',
    'used_memory_lua:32768',
    'used_memory_vm_eval:32768',
    'used_memory_lua_human:32.00K',
    'used_memory_scripts_eval:0',
    'number_of_cached_scripts:0',
    'number_of_functions:0',
    'number_of_libraries:0',
    'used_memory_vm_functions:33792',
    'used_memory_vm_total:66560',
    'used_memory_vm_total_human:65.00K',
    'used_memory_functions:200',
    'used_memory_scripts:200',
    'used_memory_scripts_human:200B',
    'maxmemory:0',
    'maxmemory_human:0B',
    'maxmemory_policy:noeviction',
    'allocator_frag_ratio:1.06',
    'allocator_frag_bytes:144160',
    'allocator_rss_ratio:2.04',
    'allocator_rss_bytes:2670592',
    'rss_overhead_ratio:2.39',
    'rss_overhead_bytes:7266304',
    'mem_fragmentation_ratio:7.81',
    'mem_fragmentation_bytes:10892560',
    'mem_not_counted_for_evict:0',
    'mem_replication_backlog:0',
    'mem_total_replication_buffers:0',
    'mem_clients_slaves:0',
    'mem_clients_normal:0',
    'mem_cluster_links:0',
    'mem_aof_buffer:0',
    'mem_allocator:jemalloc-5.3.0',
    'active_defrag_running:0',
    'lazyfree_pending_objects:0',
    'lazyfreed_objects:0',
    '',
    '# Persistence',
    'loading:0',
    'async_loading:0',
    'current_cow_peak:0',
    'current_cow_size:0',
    'current_cow_size_age:0',
    'current_fork_perc:0.00',
    'current_save_keys_processed:0',
    'current_save_keys_total:0',
    'rdb_changes_since_last_save:0',
    'rdb_bgsave_in_progress:0',
    'rdb_last_save_time:1795331215',
    'rdb_last_bgsave_status:ok',
    'rdb_last_bgsave_time_sec:-1',
    'rdb_current_bgsave_time_sec:-1',
    'rdb_saves:0',
    'rdb_last_cow_size:0',
    'rdb_last_load_keys_expired:0',
    'rdb_last_load_keys_loaded:0',
    'aof_enabled:0',
    'aof_rewrite_in_progress:0',
    'aof_rewrite_scheduled:0',
    'aof_last_rewrite_time_sec:-1',
    'aof_current_rewrite_time_sec:-1',
    'aof_last_bgrewrite_status:ok',
    'aof_rewrites:0',
    'aof_rewrites_consecutive_failures:0',
    'aof_last_write_status:ok',
    'aof_last_cow_size:0',
    'module_fork_in_progress:0',
    'module_fork_last_cow_size:0',
    '',
    '# Stats',
    'total_connections_received:1',
    'total_commands_processed:0',
    'instantaneous_ops_per_sec:0',
    'total_net_input_bytes:14',
    'total_net_output_bytes:0',
    'total_net_repl_input_bytes:0',
    'total_net_repl_output_bytes:0',
    'instantaneous_input_kbps:0.00',
    'instantaneous_output_kbps:0.00',
    'instantaneous_input_repl_kbps:0.00',
    'instantaneous_output_repl_kbps:0.00',
    'rejected_connections:0',
    'sync_full:0',
    'sync_partial_ok:0',
    'sync_partial_err:0',
    'expired_keys:0',
    'expired_stale_perc:0.00',
    'expired_time_cap_reached_count:0',
    'expire_cycle_cpu_milliseconds:0',
    'evicted_keys:0',
    'evicted_clients:0',
    'total_eviction_exceeded_time:0',
    'current_eviction_exceeded_time:0',
    'keyspace_hits:0',
    'keyspace_misses:0',
    'pubsub_channels:0',
    'pubsub_patterns:0',
    'pubsubshard_channels:0',
    'latest_fork_usec:0',
    'total_forks:0',
    'migrate_cached_sockets:0',
    'slave_expires_tracked_keys:0',
    'active_defrag_hits:0',
    'active_defrag_misses:0',
    'active_defrag_key_hits:0',
    'active_defrag_key_misses:0',
    'total_active_defrag_time:0',
    'current_active_defrag_time:0',
    'tracking_total_keys:0',
    'tracking_total_items:0',
    'tracking_total_prefixes:0',
    'unexpected_error_replies:0',
    'total_error_replies:0',
    'dump_payload_sanitizations:0',
    'total_reads_processed:1',
    'total_writes_processed:0',
    'io_threaded_reads_processed:0',
    'io_threaded_writes_processed:0',
    'reply_buffer_shrinks:0',
    'reply_buffer_expands:0',
    '',
    '# Replication',
    'role:master',
    'connected_slaves:1',
    `slave0:ip=127.0.0.1,port=${port + 3},state=online,offset=5310,lag=1`,
    'master_failover_state:no-failover',
    'master_replid:b79e735006b03b566c4c571741ecf6c72b8ddded',
    'master_replid2:0000000000000000000000000000000000000000',
    'master_repl_offset:0',
    'second_repl_offset:-1',
    'repl_backlog_active:0',
    'repl_backlog_size:1048576',
    'repl_backlog_first_byte_offset:0',
    'repl_backlog_histlen:0',
    '',
    '# CPU',
    'used_cpu_sys:0.000310',
    'used_cpu_user:0.012294',
    'used_cpu_sys_children:0.000000',
    'used_cpu_user_children:0.000000',
    'used_cpu_sys_main_thread:0.003115',
    'used_cpu_user_main_thread:0.009347',
    '',
    '# Modules',
    '',
    '# Errorstats',
    '',
    '# Cluster',
    'cluster_enabled:1',
    '',
    '# Keyspace',
    ...keyspace,
  ];
  return lines.join('\r\n') + '\r\n';
}

const PROXY_SECTION = '# Proxy\r\nslotgate_version:0.1.0\r\nredis_version:7.0.15\r\ntcp_port:7777\r\nconnected_clients:2\r\n';

/** The lines of an INFO text (which ends with CRLF). */
function lines(text: string): string[] {
  expect(text.endsWith('\r\n')).toBe(true);
  return text.slice(0, -2).split('\r\n');
}

/** The `name:value` lines of the sections of an INFO text, by section name. */
function sections(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const line of lines(text)) {
    if (line.startsWith('# ')) {
      current = [];
      out.set(line.slice(2), current);
    } else if (line !== '') {
      if (current === null) throw new Error(`line outside a section: ${line}`);
      current.push(line);
    }
  }
  return out;
}

describe('mergeInfo', () => {
  const m0 = masterInfo({ port: 7001, clients: 5, keyspace: ['db0:keys=10,expires=2,avg_ttl=1000'] });
  const m1 = masterInfo({ port: 7002, clients: 7, keyspace: ['db0:keys=5,expires=6,avg_ttl=3000', 'db3:keys=1,expires=0,avg_ttl=0'] });
  const m2 = masterInfo({ port: 7003, clients: 9, keyspace: [] });

  it('puts the proxy section first, then the first master\'s sections, separated by a blank line', () => {
    const merged = mergeInfo([m0, m1, m2], [], PROXY_SECTION, 3, 7777);
    expect(merged.startsWith(PROXY_SECTION + '\r\n# Server\r\nredis_version:7.0.15\r\n')).toBe(true);
    expect([...sections(merged).keys()]).toEqual([
      'Proxy', 'Server', 'Clients', 'Memory', 'Persistence', 'Stats', 'Replication', 'CPU', 'Modules', 'Errorstats', 'Cluster', 'Keyspace',
    ]);
  });

  it('presents one standalone server: clients and port of the proxy, standalone mode, no cluster', () => {
    const merged = sections(mergeInfo([m0, m1, m2], [], PROXY_SECTION, 3, 7777));
    expect(merged.get('Server')).toContain('redis_mode:standalone');
    expect(merged.get('Server')).toContain('tcp_port:7777');
    expect(merged.get('Server')).not.toContain('redis_mode:cluster');
    expect(merged.get('Clients')?.[0]).toBe('connected_clients:3');
    expect(merged.get('Cluster')).toEqual(['cluster_enabled:0']);
  });

  it('changes nothing else of the first master\'s text (look-alike lines included)', () => {
    const merged = lines(mergeInfo([m0, m1, m2], [], PROXY_SECTION, 3, 7777));
    const original = lines(m0);
    const body = merged.slice(lines(PROXY_SECTION + '\r\n').length);
    const changed = new Map([
      ['redis_mode:cluster', 'redis_mode:standalone'],
      ['tcp_port:7001', 'tcp_port:7777'],
      ['connected_clients:5', 'connected_clients:3'],
      ['cluster_enabled:1', 'cluster_enabled:0'],
    ]);
    const keyspaceAt = original.indexOf('# Keyspace');
    expect(body.slice(0, keyspaceAt + 1)).toEqual(original.slice(0, keyspaceAt + 1).map((line) => changed.get(line) ?? line));
    // Look-alikes stay as they are.
    expect(body).toContain('cluster_connections:4');
    expect(body).toContain('connected_slaves:1');
    expect(body).toContain('slave0:ip=127.0.0.1,port=7004,state=online,offset=5310,lag=1');
    expect(body).toContain('process_id:4242');
  });

  it('sums the keyspace over every master: keys and expires added, avg_ttl weighted by expires', () => {
    const merged = mergeInfo([m0, m1, m2], [], PROXY_SECTION, 3, 7777);
    // db0: keys 10+5, expires 2+6, avg_ttl (2*1000 + 6*3000) / 8 = 2500; db3 only on the second master.
    expect(merged.endsWith('# Keyspace\r\ndb0:keys=15,expires=8,avg_ttl=2500\r\ndb3:keys=1,expires=0,avg_ttl=0\r\n')).toBe(true);
    expect(sections(merged).get('Keyspace')).toEqual(['db0:keys=15,expires=8,avg_ttl=2500', 'db3:keys=1,expires=0,avg_ttl=0']);
  });

  it('fills the keyspace when the first master has no keys at all', () => {
    const merged = mergeInfo([m2, m0], [], PROXY_SECTION, 1, 7777);
    expect(sections(merged).get('Keyspace')).toEqual(['db0:keys=10,expires=2,avg_ttl=1000']);
  });

  it('leaves an empty keyspace empty', () => {
    const merged = mergeInfo([m2, masterInfo({ port: 7002 })], [], PROXY_SECTION, 1, 7777);
    expect(merged.endsWith('# Cluster\r\ncluster_enabled:0\r\n\r\n# Keyspace\r\n')).toBe(true);
  });

  it('adds nothing when the reply has no keyspace section (INFO server)', () => {
    const server = '# Server\r\nredis_version:7.0.15\r\nredis_mode:cluster\r\ntcp_port:7001\r\nuptime_in_days:0\r\n';
    expect(mergeInfo([server, server], ['server'], PROXY_SECTION, 1, 7777)).toBe(
      '# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\ntcp_port:7777\r\nuptime_in_days:0\r\n',
    );
  });

  it('gives the keyspace section alone for INFO keyspace, summed', () => {
    const texts = ['# Keyspace\r\ndb0:keys=3,expires=1,avg_ttl=5000\r\n', '# Keyspace\r\ndb0:keys=4,expires=1,avg_ttl=7000\r\ndb1:keys=2,expires=0,avg_ttl=0\r\n'];
    expect(mergeInfo(texts, ['keyspace'], PROXY_SECTION, 1, 7777)).toBe(
      '# Keyspace\r\ndb0:keys=7,expires=2,avg_ttl=6000\r\ndb1:keys=2,expires=0,avg_ttl=0\r\n',
    );
  });

  it.each([
    [[], true],
    [['default'], true],
    [['all'], true],
    [['everything'], true],
    [['proxy'], true],
    [['server', 'proxy'], true],
    [['server'], false],
    [['keyspace'], false],
    [['clients', 'memory'], false],
  ])('sections %j: proxy section %s', (requested, withProxy) => {
    const merged = mergeInfo([m0], requested, PROXY_SECTION, 1, 7777);
    expect(merged.startsWith('# Proxy\r\n')).toBe(withProxy);
    expect(merged.includes('slotgate_version:')).toBe(withProxy);
  });
});

describe('sumKeyspace', () => {
  it('gives one line per database, in database number order (db10 after db2)', () => {
    const texts = [
      '# Keyspace\r\ndb10:keys=1,expires=0,avg_ttl=0\r\ndb2:keys=2,expires=0,avg_ttl=0\r\n',
      '# Keyspace\r\ndb0:keys=3,expires=1,avg_ttl=5000\r\ndb2:keys=1,expires=0,avg_ttl=0\r\n',
    ];
    expect(sumKeyspace(texts)).toBe(
      'db0:keys=3,expires=1,avg_ttl=5000\r\ndb2:keys=3,expires=0,avg_ttl=0\r\ndb10:keys=1,expires=0,avg_ttl=0\r\n',
    );
  });

  it('weights avg_ttl by the number of keys with an expiry, rounded', () => {
    const texts = ['db0:keys=5,expires=1,avg_ttl=1000\r\n', 'db0:keys=5,expires=2,avg_ttl=2001\r\n'];
    // (1*1000 + 2*2001) / 3 = 1667.33
    expect(sumKeyspace(texts)).toBe('db0:keys=10,expires=3,avg_ttl=1667\r\n');
  });

  it('ignores the avg_ttl of a node without expiring keys', () => {
    const texts = ['db0:keys=5,expires=0,avg_ttl=0\r\n', 'db0:keys=1,expires=4,avg_ttl=800\r\n'];
    expect(sumKeyspace(texts)).toBe('db0:keys=6,expires=4,avg_ttl=800\r\n');
  });

  it('reads the keyspace lines of whole INFO texts and nothing else', () => {
    const texts = [
      masterInfo({ keyspace: ['db0:keys=3,expires=1,avg_ttl=5000'] }),
      masterInfo({ keyspace: ['db0:keys=4,expires=3,avg_ttl=1000', 'db1:keys=2,expires=2,avg_ttl=10'] }),
      masterInfo(),
    ];
    expect(sumKeyspace(texts)).toBe('db0:keys=7,expires=4,avg_ttl=2000\r\ndb1:keys=2,expires=2,avg_ttl=10\r\n');
  });

  it('gives nothing for no databases', () => {
    expect(sumKeyspace([])).toBe('');
    expect(sumKeyspace([masterInfo(), masterInfo()])).toBe('');
  });

  it('sums counts past 32 bits', () => {
    const texts = ['db0:keys=3000000000,expires=3000000000,avg_ttl=10\r\n', 'db0:keys=3000000000,expires=1000000000,avg_ttl=50\r\n'];
    expect(sumKeyspace(texts)).toBe('db0:keys=6000000000,expires=4000000000,avg_ttl=20\r\n');
  });
});

describe('mergeInfo on the INFO of real cluster masters', () => {
  let cluster: Cluster;
  let masters: Redis[] = [];
  const keys = Array.from({ length: 40 }, (_, i) => `slotgate-info-test:${i}`);

  beforeAll(async () => {
    const seeds = inject('clusterSeeds').map((seed) => {
      const [host, port] = seed.split(':');
      return { host, port: Number(port) };
    });
    cluster = new Cluster(seeds, { redisOptions: { maxRetriesPerRequest: 1 } });
    for (let i = 0; i < keys.length; i++) {
      if (i % 4 === 0) await cluster.set(keys[i], 'v', 'EX', 1000 + i);
      else await cluster.set(keys[i], 'v');
    }
    masters = cluster.nodes('master');
    expect(masters.length).toBe(3);
  });

  afterAll(async () => {
    if (cluster !== undefined) {
      for (const key of keys) await cluster.del(key);
      cluster.disconnect();
    }
  });

  it('turns three masters into one standalone server with every key counted', async () => {
    const texts = await Promise.all(masters.map((m) => m.info()));
    const dbsizes = await Promise.all(masters.map((m) => m.dbsize()));
    expect(texts.every((t) => /^redis_mode:cluster\r$/m.test(t))).toBe(true);
    const merged = sections(mergeInfo(texts, [], PROXY_SECTION, 1, 7777));
    expect(merged.get('Server')).toContain('redis_mode:standalone');
    expect(merged.get('Server')).toContain('tcp_port:7777');
    expect(merged.get('Clients')).toContain('connected_clients:1');
    expect(merged.get('Cluster')).toEqual(['cluster_enabled:0']);
    const db0 = merged.get('Keyspace')?.find((line) => line.startsWith('db0:'));
    const total = dbsizes.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(keys.length);
    expect(db0).toMatch(new RegExp(`^db0:keys=${total},expires=\\d+,avg_ttl=\\d+$`));
    const expires = Number(/expires=(\d+)/.exec(db0 ?? '')?.[1]);
    expect(expires).toBeGreaterThanOrEqual(keys.length / 4);
  });
});
