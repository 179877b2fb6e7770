import { SLOT_COUNT } from './key-slot.js';

/** A node as the cluster describes it. */
export interface NodeAddress {
  host: string;
  port: number;
}

export interface ShardView {
  master: NodeAddress & { id: string };
  replicas: (NodeAddress & { id: string })[];
  /** Inclusive [start, end] slot ranges. */
  ranges: [number, number][];
}

/** The cluster's layout as one node reported it. */
export interface TopologyView {
  shards: ShardView[];
  /** Slots owned by some master in this view. */
  coveredSlots: number;
}

/**
 * Parses a decoded RESP2 `CLUSTER SHARDS` reply (Redis 7+). Slot numbers may come as integers
 * or strings; each is range-checked, as is every port. Nodes marked failed are not used as
 * masters. Throws when the reply is not shaped like CLUSTER SHARDS.
 */
export function parseClusterShards(reply: unknown): TopologyView {
  if (!Array.isArray(reply)) throw new Error('CLUSTER SHARDS reply is not an array');
  const shards: ShardView[] = [];
  for (const rawShard of reply) {
    const shard = pairs(rawShard, 'shard');
    const slots = shard.slots;
    const nodes = shard.nodes;
    if (!Array.isArray(slots) || !Array.isArray(nodes)) throw new Error('CLUSTER SHARDS entry lacks slots or nodes');
    const ranges: [number, number][] = [];
    for (let i = 0; i + 1 < slots.length; i += 2) ranges.push(slotRange(slots[i], slots[i + 1]));
    let master: ShardView['master'] | null = null;
    const replicas: ShardView['replicas'] = [];
    for (const rawNode of nodes) {
      const node = pairs(rawNode, 'node');
      const address = { ...nodeAddress(node), id: String(node.id ?? '') };
      if (node.role === 'master' && node.health !== 'fail' && node.health !== 'failed') master = address;
      else if (node.role !== 'master') replicas.push(address);
    }
    if (master !== null) shards.push({ master, replicas, ranges });
  }
  return withCoverage(shards);
}

/** Parses a decoded RESP2 `CLUSTER SLOTS` reply (the fallback for clusters without SHARDS). */
export function parseClusterSlots(reply: unknown): TopologyView {
  if (!Array.isArray(reply)) throw new Error('CLUSTER SLOTS reply is not an array');
  const byMaster = new Map<string, ShardView>();
  for (const entry of reply) {
    if (!Array.isArray(entry) || entry.length < 3) throw new Error('CLUSTER SLOTS entry is malformed');
    const range = slotRange(entry[0], entry[1]);
    const [master, ...replicas] = entry.slice(2).map(slotsNode);
    const key = `${master.host}:${master.port}`;
    let shard = byMaster.get(key);
    if (shard === undefined) {
      shard = { master, replicas, ranges: [] };
      byMaster.set(key, shard);
    }
    shard.ranges.push(range);
  }
  return withCoverage([...byMaster.values()]);
}

function slotsNode(raw: unknown): NodeAddress & { id: string } {
  if (!Array.isArray(raw) || raw.length < 2) throw new Error('CLUSTER SLOTS node is malformed');
  const host = String(raw[0]);
  return { host: host === '' ? '' : host, port: checkPort(raw[1]), id: String(raw[2] ?? '') };
}

function nodeAddress(node: Record<string, unknown>): NodeAddress {
  // `endpoint` is what clients should use (announced hostname or IP); `?` means unknown.
  const endpoint = typeof node.endpoint === 'string' && node.endpoint !== '?' && node.endpoint !== '' ? node.endpoint : null;
  const host = endpoint ?? (typeof node.ip === 'string' ? node.ip : '');
  return { host, port: checkPort(node.port ?? node['tls-port']) };
}

function withCoverage(shards: ShardView[]): TopologyView {
  const seen = new Uint8Array(SLOT_COUNT);
  let covered = 0;
  for (const shard of shards) {
    for (const [start, end] of shard.ranges) {
      for (let s = start; s <= end; s++) {
        if (seen[s] === 0) covered++;
        seen[s] = 1;
      }
    }
  }
  return { shards, coveredSlots: covered };
}

function pairs(v: unknown, what: string): Record<string, unknown> {
  if (!Array.isArray(v) || v.length % 2 !== 0) throw new Error(`CLUSTER SHARDS ${what} is not a map`);
  const out: Record<string, unknown> = {};
  for (let i = 0; i < v.length; i += 2) out[String(v[i])] = v[i + 1];
  return out;
}

/** A slot number from the wire: an integer (or its decimal string) in 0..16383. */
export function checkSlot(v: unknown): number {
  const n = typeof v === 'string' && /^\d{1,5}$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n >= SLOT_COUNT) throw new Error(`bad slot number ${String(v)}`);
  return n;
}

/** A port from the wire: an integer (or its decimal string) in 1..65535. */
export function checkPort(v: unknown): number {
  const n = typeof v === 'string' && /^\d{1,5}$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`bad port ${String(v)}`);
  return n;
}

function slotRange(a: unknown, b: unknown): [number, number] {
  const start = checkSlot(a);
  const end = checkSlot(b);
  if (start > end) throw new Error(`bad slot range ${start}-${end}`);
  return [start, end];
}
