import { describe, it, expect } from 'vitest';
import { checkPort, checkSlot, parseClusterShards, parseClusterSlots } from '../../../src/cluster/topology.js';

// Replies are written as redis-parser decodes RESP2: arrays, strings, numbers; maps are flat
// [key, value, ...] arrays.

interface NodeFields {
  id: string;
  port?: number | string;
  'tls-port'?: number;
  ip?: string;
  endpoint?: string;
  hostname?: string;
  role: 'master' | 'replica';
  health?: string;
}

/** A CLUSTER SHARDS node entry, with the fields Redis 7 sends. */
function node(fields: NodeFields): unknown[] {
  const full: Record<string, unknown> = { ip: '10.0.0.1', endpoint: fields.ip ?? '10.0.0.1', 'replication-offset': 72156, health: 'online', ...fields };
  return Object.entries(full).flat();
}

function shard(slots: (number | string)[], nodes: unknown[][]): unknown[] {
  return ['slots', slots, 'nodes', nodes];
}

/** A healthy three-shard cluster, one replica per master, as CLUSTER SHARDS reports it. */
function threeShards(): unknown[] {
  return [
    shard(
      [0, 5460],
      [
        node({ id: 'm1', port: 30001, ip: '10.0.0.1', role: 'master' }),
        node({ id: 'r1', port: 30004, ip: '10.0.0.4', role: 'replica' }),
      ],
    ),
    shard(
      [5461, 10922],
      [
        node({ id: 'r2', port: 30005, ip: '10.0.0.5', role: 'replica' }),
        node({ id: 'm2', port: 30002, ip: '10.0.0.2', role: 'master' }),
      ],
    ),
    shard(
      [10923, 16383],
      [
        node({ id: 'm3', port: 30003, ip: '10.0.0.3', role: 'master' }),
        node({ id: 'r3', port: 30006, ip: '10.0.0.6', role: 'replica' }),
      ],
    ),
  ];
}

describe('parseClusterShards', () => {
  it('reads masters, replicas and ranges of a healthy cluster', () => {
    const view = parseClusterShards(threeShards());
    expect(view.coveredSlots).toBe(16384);
    expect(view.shards).toEqual([
      { master: { host: '10.0.0.1', port: 30001, id: 'm1' }, replicas: [{ host: '10.0.0.4', port: 30004, id: 'r1' }], ranges: [[0, 5460]] },
      { master: { host: '10.0.0.2', port: 30002, id: 'm2' }, replicas: [{ host: '10.0.0.5', port: 30005, id: 'r2' }], ranges: [[5461, 10922]] },
      { master: { host: '10.0.0.3', port: 30003, id: 'm3' }, replicas: [{ host: '10.0.0.6', port: 30006, id: 'r3' }], ranges: [[10923, 16383]] },
    ]);
  });

  it('accepts slot numbers and ports sent as strings', () => {
    const view = parseClusterShards([shard(['0', '99', '200', '16383'], [node({ id: 'm', port: '7000', role: 'master' })])]);
    expect(view.shards[0].ranges).toEqual([
      [0, 99],
      [200, 16383],
    ]);
    expect(view.shards[0].master.port).toBe(7000);
    expect(view.coveredSlots).toBe(100 + 16184);
  });

  it('reads several ranges per shard and counts each covered slot once', () => {
    const view = parseClusterShards([
      shard([0, 100, 200, 300], [node({ id: 'a', port: 7000, role: 'master' })]),
      shard([50, 150], [node({ id: 'b', port: 7001, role: 'master' })]),
    ]);
    expect(view.shards.map((s) => s.ranges)).toEqual([
      [
        [0, 100],
        [200, 300],
      ],
      [[50, 150]],
    ]);
    // 0..150 and 200..300
    expect(view.coveredSlots).toBe(151 + 101);
  });

  it('skips a shard whose master is marked failed, replicas included', () => {
    const reply = threeShards();
    reply[1] = shard(
      [5461, 10922],
      [
        node({ id: 'r2', port: 30005, role: 'replica' }),
        node({ id: 'm2', port: 30002, role: 'master', health: 'fail' }),
      ],
    );
    const view = parseClusterShards(reply);
    expect(view.shards.map((s) => s.master.id)).toEqual(['m1', 'm3']);
    expect(view.coveredSlots).toBe(16384 - (10922 - 5461 + 1));
  });

  it('uses the promoted master of a shard whose old master failed, in either order', () => {
    const failed = node({ id: 'old', port: 7000, role: 'master', health: 'fail' });
    const promoted = node({ id: 'new', port: 7001, role: 'master' });
    const replica = node({ id: 'r', port: 7002, role: 'replica' });
    for (const nodes of [
      [failed, promoted, replica],
      [promoted, replica, failed],
    ]) {
      const view = parseClusterShards([shard([0, 16383], nodes)]);
      expect(view.shards).toHaveLength(1);
      expect(view.shards[0].master.id).toBe('new');
      expect(view.shards[0].replicas.map((r) => r.id)).toEqual(['r']);
    }
  });

  it('keeps a master that is loading or online, and a shard with no slots', () => {
    const view = parseClusterShards([
      shard([0, 16383], [node({ id: 'm', port: 7000, role: 'master', health: 'loading' })]),
      shard([], [node({ id: 'spare', port: 7001, role: 'master' })]),
    ]);
    expect(view.shards.map((s) => [s.master.id, s.ranges])).toEqual([
      ['m', [[0, 16383]]],
      ['spare', []],
    ]);
    expect(view.coveredSlots).toBe(16384);
  });

  it('prefers the endpoint (an announced hostname) over the IP', () => {
    const view = parseClusterShards([
      shard([0, 16383], [node({ id: 'm', port: 6379, ip: '10.1.2.3', endpoint: 'redis-0.redis-headless.db.svc', hostname: 'redis-0', role: 'master' })]),
    ]);
    expect(view.shards[0].master.host).toBe('redis-0.redis-headless.db.svc');
  });

  it("falls back to the IP when the endpoint is '?' (unknown) or empty", () => {
    for (const endpoint of ['?', '']) {
      const view = parseClusterShards([shard([0, 16383], [node({ id: 'm', port: 6379, ip: '10.1.2.3', endpoint, role: 'master' })])]);
      expect(view.shards[0].master.host, endpoint).toBe('10.1.2.3');
    }
  });

  it('uses tls-port when a TLS-only node sends no port', () => {
    const view = parseClusterShards([shard([0, 16383], [node({ id: 'm', 'tls-port': 6380, role: 'master' })])]);
    expect(view.shards[0].master.port).toBe(6380);
  });

  it.each([16384, -1, 'x', '16384', '-1', 1.5, null, '12a'])('rejects the slot number %j', (bad) => {
    expect(() => parseClusterShards([shard([0, bad as number], [node({ id: 'm', port: 7000, role: 'master' })])])).toThrow(/bad slot/);
    expect(() => parseClusterShards([shard([bad as number, 10], [node({ id: 'm', port: 7000, role: 'master' })])])).toThrow(/bad slot/);
  });

  it.each([0, 70000, 65536, -1, '0', 'http', 1.5])('rejects the port %j', (bad) => {
    expect(() => parseClusterShards([shard([0, 10], [node({ id: 'm', port: bad as number, role: 'master' })])])).toThrow(/bad port/);
  });

  it('rejects a node without any port', () => {
    expect(() => parseClusterShards([shard([0, 10], [node({ id: 'm', role: 'master' })])])).toThrow(/bad port/);
  });

  it('rejects a reversed slot range', () => {
    expect(() => parseClusterShards([shard([100, 50], [node({ id: 'm', port: 7000, role: 'master' })])])).toThrow(/bad slot range/);
  });

  it('rejects replies not shaped like CLUSTER SHARDS', () => {
    expect(() => parseClusterShards('ERR unknown subcommand')).toThrow(/not an array/);
    expect(() => parseClusterShards([['slots', [0, 10]]])).toThrow(/lacks slots or nodes/);
    expect(() => parseClusterShards([['slots', [0, 10], 'nodes']])).toThrow(/not a map/);
    expect(() => parseClusterShards([shard([0, 10], [['id', 'm', 'port']])])).toThrow(/not a map/);
  });

  it('gives an empty view for an empty reply', () => {
    expect(parseClusterShards([])).toEqual({ shards: [], coveredSlots: 0 });
  });
});

describe('parseClusterSlots', () => {
  /** A CLUSTER SLOTS reply of Redis 7: [start, end, master, ...replicas], nodes [ip, port, id, metadata]. */
  const slotsReply = (): unknown[] => [
    [0, 5460, ['10.0.0.1', 30001, 'm1', []], ['10.0.0.4', 30004, 'r1', []]],
    [5461, 10922, ['10.0.0.2', 30002, 'm2', ['hostname', 'host-2']], ['10.0.0.5', 30005, 'r2', []]],
    [10923, 16383, ['10.0.0.3', 30003, 'm3', []]],
  ];

  it('reads one shard per master with its replicas', () => {
    const view = parseClusterSlots(slotsReply());
    expect(view.coveredSlots).toBe(16384);
    expect(view.shards).toEqual([
      { master: { host: '10.0.0.1', port: 30001, id: 'm1' }, replicas: [{ host: '10.0.0.4', port: 30004, id: 'r1' }], ranges: [[0, 5460]] },
      { master: { host: '10.0.0.2', port: 30002, id: 'm2' }, replicas: [{ host: '10.0.0.5', port: 30005, id: 'r2' }], ranges: [[5461, 10922]] },
      { master: { host: '10.0.0.3', port: 30003, id: 'm3' }, replicas: [], ranges: [[10923, 16383]] },
    ]);
  });

  it('merges the ranges of one master listed several times', () => {
    const view = parseClusterSlots([
      [0, 99, ['10.0.0.1', 7000, 'a']],
      [100, 199, ['10.0.0.2', 7001, 'b']],
      [200, 299, ['10.0.0.1', 7000, 'a']],
    ]);
    expect(view.shards.map((s) => [s.master.id, s.ranges])).toEqual([
      [
        'a',
        [
          [0, 99],
          [200, 299],
        ],
      ],
      ['b', [[100, 199]]],
    ]);
    expect(view.coveredSlots).toBe(300);
  });

  it('accepts slot numbers and ports sent as strings, and old replies without node ids', () => {
    const view = parseClusterSlots([['0', '16383', ['127.0.0.1', '7000']]]);
    expect(view.shards).toEqual([{ master: { host: '127.0.0.1', port: 7000, id: '' }, replicas: [], ranges: [[0, 16383]] }]);
  });

  it.each([16384, -1, 'x'])('rejects the slot number %j', (bad) => {
    expect(() => parseClusterSlots([[0, bad, ['127.0.0.1', 7000, 'a']]])).toThrow(/bad slot/);
  });

  it.each([0, 70000])('rejects the port %j', (bad) => {
    expect(() => parseClusterSlots([[0, 10, ['127.0.0.1', bad, 'a']]])).toThrow(/bad port/);
    expect(() => parseClusterSlots([[0, 10, ['127.0.0.1', 7000, 'a'], ['127.0.0.1', bad, 'b']]])).toThrow(/bad port/);
  });

  it('rejects a reversed range and malformed entries', () => {
    expect(() => parseClusterSlots([[10, 5, ['127.0.0.1', 7000, 'a']]])).toThrow(/bad slot range/);
    expect(() => parseClusterSlots({})).toThrow(/not an array/);
    expect(() => parseClusterSlots([[0, 10]])).toThrow(/malformed/);
    expect(() => parseClusterSlots([[0, 10, ['127.0.0.1']]])).toThrow(/malformed/);
  });
});

describe('checkSlot / checkPort', () => {
  it('accept the bounds and decimal strings', () => {
    expect([checkSlot(0), checkSlot(16383), checkSlot('16383'), checkSlot('0')]).toEqual([0, 16383, 16383, 0]);
    expect([checkPort(1), checkPort(65535), checkPort('6379')]).toEqual([1, 65535, 6379]);
  });

  it('reject what is out of range or not an integer', () => {
    for (const bad of [16384, -1, 0.5, '', ' 1', '1e3', '0x10', NaN, Infinity, true, undefined]) expect(() => checkSlot(bad), String(bad)).toThrow();
    for (const bad of [0, 65536, '', '-1', 80.5, null]) expect(() => checkPort(bad), String(bad)).toThrow();
  });
});
