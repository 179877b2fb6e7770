import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { queryNode, NodeReplyError, type NodeCredentials, type QueryOptions } from '../upstream/query-node.js';
import type { BackendTls } from '../net/backend-tls.js';
import { parseSeed } from '../config/seed.js';
import { parseClusterShards, parseClusterSlots, type NodeAddress, type TopologyView } from './topology.js';

export interface FetchedTopology {
  view: TopologyView;
  /** The node that answered. */
  from: string;
}

export function formatHostPort(a: NodeAddress): string {
  return net.isIPv6(a.host) ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/**
 * Asks the cluster for its layout: known nodes first, then the seeds, whose DNS names are
 * resolved anew on every call (pods come back with new IPs). The first node that gives a
 * parsable CLUSTER SHARDS (or, on clusters without it, CLUSTER SLOTS) reply wins.
 */
export class TopologySource {
  constructor(
    private readonly seeds: string[],
    private readonly credentials: NodeCredentials,
    private readonly timeoutMs: number,
    /** TLS towards the nodes, null for plain TCP. */
    private readonly tls: BackendTls | null = null,
  ) {}

  private get queryOptions(): QueryOptions {
    return { ...this.credentials, timeoutMs: this.timeoutMs, tls: this.tls };
  }

  async fetch(known: NodeAddress[]): Promise<FetchedTopology> {
    const errors: string[] = [];
    const tried = new Set<string>();
    for (const candidate of [...known, ...(await this.resolveSeeds(errors))]) {
      const address = formatHostPort(candidate);
      if (tried.has(address)) continue;
      tried.add(address);
      try {
        return { view: await this.ask(candidate), from: address };
      } catch (error) {
        errors.push(`${address}: ${(error as Error).message}`);
      }
    }
    throw new Error(`no node gave the cluster topology (${errors.join('; ') || 'no seeds'})`);
  }

  /** Runs one-off commands on the first reachable node (COMMAND, INFO server). */
  async query(known: NodeAddress[], commands: string[][]): Promise<unknown[]> {
    const errors: string[] = [];
    for (const candidate of [...known, ...(await this.resolveSeeds(errors))]) {
      try {
        return await queryNode(candidate.host, candidate.port, commands, this.queryOptions);
      } catch (error) {
        errors.push(`${formatHostPort(candidate)}: ${(error as Error).message}`);
      }
    }
    throw new Error(`no node answered (${errors.join('; ')})`);
  }

  private async ask(node: NodeAddress): Promise<TopologyView> {
    const options = this.queryOptions;
    const [shards] = await queryNode(node.host, node.port, [['CLUSTER', 'SHARDS']], options);
    let view: TopologyView;
    if (shards instanceof NodeReplyError) {
      const [slots] = await queryNode(node.host, node.port, [['CLUSTER', 'SLOTS']], options);
      if (slots instanceof NodeReplyError) throw slots;
      view = parseClusterSlots(slots);
    } else {
      view = parseClusterShards(shards);
    }
    // A node that lost contact with the cluster may report no slots; ask another.
    if (view.coveredSlots === 0) throw new Error('reports no slots served');
    // Nodes announce '' (or '?') when they do not know their address: use the one we reached.
    for (const shard of view.shards) {
      for (const n of [shard.master, ...shard.replicas]) if (n.host === '' || n.host === '?') n.host = node.host;
    }
    return view;
  }

  private async resolveSeeds(errors: string[]): Promise<NodeAddress[]> {
    const out: NodeAddress[] = [];
    for (const seed of this.seeds) {
      try {
        const parsed = parseSeed(seed);
        if (typeof parsed === 'string') throw new Error(parsed);
        const { host, port } = parsed;
        if (net.isIP(host)) {
          out.push({ host, port });
          continue;
        }
        for (const a of await lookup(host, { all: true })) out.push({ host: a.address, port });
      } catch (error) {
        errors.push(`${seed}: ${(error as Error).message}`);
      }
    }
    return out;
  }
}
