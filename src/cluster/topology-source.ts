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
 * The head start one candidate gets before the next one is asked too (Happy Eyeballs' 250 ms,
 * RFC 8305): a node that answers at all answers in far less, and a dead one (no reply, no RST:
 * a deleted pod's IP) then delays the refresh by this much instead of the whole query timeout.
 */
export const STAGGER_MS = 250;

/**
 * Known nodes and freshly resolved seeds, alternately (known first), each address once. When
 * every pod came back with a new IP, none of the known addresses answers while the seeds
 * already name the new ones: alternating reaches them after one stagger, not after every known
 * address was given up on.
 */
export function interleave(known: NodeAddress[], seeds: NodeAddress[]): NodeAddress[] {
  const out: NodeAddress[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < Math.max(known.length, seeds.length); i++) {
    for (const c of [known[i], seeds[i]]) {
      if (c === undefined) continue;
      const key = formatHostPort(c);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(c);
    }
  }
  return out;
}

/**
 * Asks the candidates in order, starting the next one when the previous failed or after
 * `staggerMs` without an answer, several in flight at once; the first answer wins (in case of a
 * tie, the earlier candidate). Null when every one failed, their errors in `errors` in order.
 * Attempts still running after a win end on their own (their timeouts) and are ignored.
 */
export function firstAnswer<T>(
  candidates: NodeAddress[],
  attempt: (c: NodeAddress) => Promise<T>,
  staggerMs: number,
  errors: string[],
): Promise<{ value: T; from: NodeAddress } | null> {
  return new Promise((resolve) => {
    const failures: (string | undefined)[] = new Array(candidates.length);
    let started = 0;
    let failed = 0;
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (result: { value: T; from: NodeAddress } | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      for (const f of failures) if (f !== undefined) errors.push(f);
      resolve(result);
    };
    const next = () => {
      clearTimeout(timer);
      if (done) return;
      if (started >= candidates.length) {
        if (failed === candidates.length) finish(null);
        return;
      }
      const i = started++;
      const c = candidates[i];
      attempt(c).then(
        (value) => finish({ value, from: c }),
        (error: Error) => {
          failures[i] = `${formatHostPort(c)}: ${error.message}`;
          failed++;
          if (failed === candidates.length) finish(null);
          else if (i === started - 1) next();
        },
      );
      if (started < candidates.length) timer = setTimeout(next, staggerMs);
    };
    if (candidates.length === 0) finish(null);
    else next();
  });
}

/**
 * Asks the cluster for its layout: known nodes and the seeds, whose DNS names are resolved
 * anew on every call (pods come back with new IPs), alternately and staggered (firstAnswer).
 * The first node that gives a parsable CLUSTER SHARDS (or, on clusters without it, CLUSTER
 * SLOTS) reply wins.
 */
export class TopologySource {
  constructor(
    private readonly seeds: string[],
    private readonly credentials: NodeCredentials,
    private readonly timeoutMs: number,
    /** TLS towards the nodes, null for plain TCP. */
    private readonly tls: BackendTls | null = null,
    /** How long one candidate may keep the next one waiting (see firstAnswer). */
    private readonly staggerMs = STAGGER_MS,
  ) {}

  private get queryOptions(): QueryOptions {
    return { ...this.credentials, timeoutMs: this.timeoutMs, tls: this.tls };
  }

  async fetch(known: NodeAddress[]): Promise<FetchedTopology> {
    const won = await this.firstNode(known, (c) => this.ask(c), 'no node gave the cluster topology');
    return { view: won.value, from: formatHostPort(won.from) };
  }

  /** Runs one-off commands on the first reachable node (COMMAND, INFO server). */
  async query(known: NodeAddress[], commands: string[][]): Promise<unknown[]> {
    return (await this.firstNode(known, (c) => queryNode(c.host, c.port, commands, this.queryOptions), 'no node answered')).value;
  }

  /** The first answer of `attempt` over the known nodes and the re-resolved seeds (see firstAnswer); throws `failure` with every error when none answers. */
  private async firstNode<T>(known: NodeAddress[], attempt: (c: NodeAddress) => Promise<T>, failure: string): Promise<{ value: T; from: NodeAddress }> {
    const errors: string[] = [];
    const candidates = interleave(known, await this.resolveSeeds(errors));
    const won = await firstAnswer(candidates, attempt, this.staggerMs, errors);
    if (won !== null) return won;
    throw new Error(`${failure} (${errors.join('; ') || 'no seeds'})`);
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
