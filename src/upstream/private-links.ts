import { errorReply, type Protocol } from '../resp/encode.js';
import type { Logger } from '../telemetry/logger.js';
import { NodeLink, type LinkEvents, type LinkOptions } from './node-link.js';
import type { PendingReply } from './pending.js';

/** The client state a lent link carries (a transaction, a blocked command, a subscription). */
export interface PrivateOwner {
  /**
   * An error reply (MOVED, ASK, TRYAGAIN...) to one of the owner's requests: true when the owner
   * took it over, false to give it to the client as it is.
   */
  onRedirect(entry: PendingReply, buf: Buffer, start: number, end: number): boolean;
  /** The connection was lost: whatever state it held on the node is gone. */
  onLost(reason: string): void;
}

/**
 * A node connection of one client's own, for what Redis ties to a connection (MULTI, WATCH,
 * a blocked BLPOP, subscriptions). It is a NodeLink (same pipelining, FIFO replies, zero-copy
 * forwarding) that is never shared, never timed out by the router's sweep (a BLPOP may block
 * for ever) and never reconnected: a lost connection lost its state, so the owner is told.
 */
export class PrivateLink implements LinkEvents {
  readonly link: NodeLink;
  owner: PrivateOwner | null = null;

  constructor(
    host: string,
    port: number,
    protocol: Protocol,
    options: LinkOptions,
    private readonly pool: PrivateLinkPool,
  ) {
    // The client's protocol: its replies (and pushes) pass through untranslated.
    this.link = new NodeLink(host, port, protocol, this, options);
  }

  get address(): string {
    return this.link.address;
  }

  onRedirect(_link: NodeLink, entry: PendingReply, buf: Buffer, start: number, end: number): boolean {
    return this.owner !== null && this.owner.onRedirect(entry, buf, start, end);
  }

  onLinkDown(link: NodeLink, reason: string, unsent: PendingReply[]): void {
    const lost = errorReply(`ERR slotgate: connection to ${link.address} lost (${reason})`);
    for (const entry of unsent) entry.fail(lost);
    link.close();
    const owner = this.owner;
    this.owner = null;
    this.pool.forget(this);
    owner?.onLost(reason);
  }
}

export interface PrivateLinkLimits {
  /** Most links lent at once. */
  max: number;
  /** Idle, connected links kept per node. */
  idlePerNode: number;
}

/**
 * Lends dedicated node connections to clients and takes them back. Bounded (`max` lent at
 * once, then the client gets an error rather than slotgate opening connections without end)
 * and pre-warmed (`idlePerNode` connected links wait per master, so a MULTI or BLPOP needs no
 * connect). A link comes back either clean (its state ended on the node: EXEC, a BLPOP's reply,
 * the last UNSUBSCRIBE) and is kept for the next client, or dirty (its client went away while it
 * was blocked, subscribed or in a transaction) and is closed: closing is the one reset that
 * works even while the node is blocking that connection.
 */
export class PrivateLinkPool {
  private readonly idle = new Map<string, PrivateLink[]>();
  private readonly lent = new Set<PrivateLink>();
  /** Links lent since start, and links closed dirty (PROXY INFO). */
  totalLent = 0;
  closedDirty = 0;

  constructor(
    private readonly options: LinkOptions,
    readonly limits: PrivateLinkLimits,
    private readonly log: Logger,
  ) {}

  get lentCount(): number {
    return this.lent.size;
  }

  get idleCount(): number {
    let n = 0;
    for (const list of this.idle.values()) n += list.length;
    return n;
  }

  /** A link to host:port speaking `protocol`, for `owner`, or null when `max` links are already lent. */
  lend(host: string, port: number, protocol: Protocol, owner: PrivateOwner): PrivateLink | null {
    if (this.lent.size >= this.limits.max) return null;
    const list = this.idle.get(key(host, port, protocol));
    const link = list?.pop() ?? new PrivateLink(host, port, protocol, this.options, this);
    link.owner = owner;
    this.lent.add(link);
    this.totalLent++;
    return link;
  }

  /** Takes a link back whose connection holds no client state any more. */
  giveBack(link: PrivateLink): void {
    if (!this.lent.delete(link)) return;
    link.owner = null;
    link.link.frameFilter = null;
    const k = key(link.link.host, link.link.port, link.link.protocol);
    const list = this.idle.get(k) ?? [];
    if (list.length >= this.limits.idlePerNode || !link.link.open) {
      link.link.close();
      return;
    }
    list.push(link);
    this.idle.set(k, list);
  }

  /** Takes a link back whose connection may still hold state (blocked, subscribed, MULTI): closes it. */
  discard(link: PrivateLink): void {
    if (!this.lent.delete(link)) return;
    this.closedDirty++;
    link.owner = null;
    link.link.frameFilter = null;
    link.link.close();
  }

  /** A link whose connection was lost (it closed itself). */
  forget(link: PrivateLink): void {
    this.lent.delete(link);
    for (const list of this.idle.values()) {
      const i = list.indexOf(link);
      if (i >= 0) list.splice(i, 1);
    }
  }

  /**
   * Keeps `idlePerNode` connected links ready for each of these nodes, in both protocols (RESP3
   * is the default of current clients); drops idle links to other nodes.
   */
  warm(nodes: readonly { host: string; port: number }[]): void {
    const wanted = new Set(nodes.flatMap((n) => PROTOCOLS.map((p) => key(n.host, n.port, p))));
    for (const [k, list] of this.idle) {
      if (wanted.has(k)) continue;
      for (const link of list) link.link.close();
      this.idle.delete(k);
    }
    for (const node of nodes) {
      for (const protocol of PROTOCOLS) {
        const k = key(node.host, node.port, protocol);
        const list = this.idle.get(k) ?? [];
        while (list.length < this.limits.idlePerNode) {
          const link = new PrivateLink(node.host, node.port, protocol, this.options, this);
          link.link.connectNow();
          list.push(link);
        }
        this.idle.set(k, list);
      }
    }
  }

  /** Closes every link, lent or idle (shutdown). */
  close(): void {
    for (const link of this.lent) link.link.close();
    this.lent.clear();
    for (const list of this.idle.values()) for (const link of list) link.link.close();
    this.idle.clear();
    this.log.debug('private links closed');
  }
}

const PROTOCOLS: readonly Protocol[] = [2, 3];

function key(host: string, port: number, protocol: Protocol): string {
  return `${host}:${port}/${protocol}`;
}
