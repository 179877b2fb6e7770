import { createHash } from 'node:crypto';
import { SLOT_COUNT, slotOf } from '../../cluster/key-slot.js';
import { MapReply, arrayReply, bulkReply, encodeReply, errorReply, integerReply } from '../../resp/encode.js';
import type { ClientContext } from '../client-context.js';
import { textReply, type LocalHandler } from './local-handlers.js';

/**
 * CLUSTER subcommands answered as a one-node cluster that owns all 16384 slots at slotgate's
 * announced address, so cluster-aware clients (ioredis Cluster, redis-cli -c, Lettuce) pointed
 * at slotgate send everything to it. The address is `announce-host`/`announce-port` when set
 * (a NodePort seen from outside Kubernetes), else the address the client connected to: a
 * client is never told a pod IP it cannot reach.
 */

interface Announced {
  host: string;
  port: number;
  id: string;
}

function announced(client: ClientContext): Announced {
  const host = client.server.announceHost ?? client.localAddress;
  const port = client.server.announcePort ?? client.localPort;
  return { host, port, id: nodeId(host, port) };
}

/** A 40-hex node id derived from the announced address, so every slotgate behind one address reports the same node. */
export function nodeId(host: string, port: number): string {
  return createHash('sha1').update(`slotgate ${host}:${port}`).digest('hex');
}

function clusterOk(client: ClientContext): boolean {
  return client.server.coveredSlots === SLOT_COUNT;
}

export const clusterInfo: LocalHandler = (client) => {
  const ok = clusterOk(client);
  const lines = [
    `cluster_state:${ok ? 'ok' : 'fail'}`,
    `cluster_slots_assigned:${SLOT_COUNT}`,
    `cluster_slots_ok:${ok ? SLOT_COUNT : client.server.coveredSlots}`,
    'cluster_slots_pfail:0',
    `cluster_slots_fail:${ok ? 0 : SLOT_COUNT - client.server.coveredSlots}`,
    'cluster_known_nodes:1',
    'cluster_size:1',
    'cluster_current_epoch:1',
    'cluster_my_epoch:1',
    'cluster_stats_messages_sent:0',
    'cluster_stats_messages_received:0',
    'total_cluster_links_buffer_limit_exceeded:0',
  ];
  return textReply(client, lines.join('\r\n') + '\r\n');
};

export const clusterSlots: LocalHandler = (client) => {
  const me = announced(client);
  // The node's last element, its other endpoints, is a map (empty): `%0` in RESP3, as Redis 7 sends.
  return encodeReply([[0, SLOT_COUNT - 1, [me.host, me.port, me.id, new MapReply([])]]], client.protocol);
};

export const clusterShards: LocalHandler = (client) => {
  const me = announced(client);
  // Each shard and each node is a map (Redis 7 sends RESP3 clients maps, RESP2 clients flat arrays).
  const node = new MapReply([
    'id', me.id, 'port', me.port, 'ip', me.host, 'endpoint', me.host, 'role', 'master', 'replication-offset', 0, 'health', 'online',
  ]);
  return encodeReply([new MapReply(['slots', [0, SLOT_COUNT - 1], 'nodes', [node]])], client.protocol);
};

export const clusterNodes: LocalHandler = (client) => {
  const me = announced(client);
  return textReply(client, `${me.id} ${me.host}:${me.port}@${me.port} myself,master - 0 0 1 connected 0-${SLOT_COUNT - 1}\n`);
};

export const clusterMyId: LocalHandler = (client) => bulkReply(announced(client).id);

export const clusterKeySlot: LocalHandler = (_client, args) => integerReply(slotOf(args[2]));

/** CLUSTER REPLICAS / SLAVES: the one node has none. */
export const clusterReplicas: LocalHandler = (client, args) => {
  if (args[2].toString('latin1') !== announced(client).id) return errorReply(`ERR Unknown node ${args[2].toString('latin1')}`);
  return arrayReply([]);
};

export const clusterLinks: LocalHandler = () => arrayReply([]);

export const clusterCountFailureReports: LocalHandler = (client, args) => {
  if (args[2].toString('latin1') !== announced(client).id) return errorReply(`ERR Unknown node ${args[2].toString('latin1')}`);
  return integerReply(0);
};
