import { SLOT_COUNT } from '../cluster/key-slot.js';
import { checkPort, checkSlot, type NodeAddress, type TopologyView } from '../cluster/topology.js';
import { formatHostPort, type TopologySource } from '../cluster/topology-source.js';
import { errorReply, type Protocol } from '../resp/encode.js';
import { clock } from '../util/coarse-clock.js';
import { ClusterNode } from '../upstream/cluster-node.js';
import type { LinkEvents, LinkOptions, NodeLink } from '../upstream/node-link.js';
import type { PendingReply } from '../upstream/pending.js';
import type { Logger } from '../telemetry/logger.js';
import type { Request } from './request.js';
import { NoScriptRecovery } from './scripts/noscript-recovery.js';
import { ScriptStore } from './scripts/script-store.js';

export interface RouterOptions {
  connectionsPerNode: number;
  requestTimeoutMs: number;
  refreshIntervalMs: number;
  maxRedirects: number;
  /** Requests in flight on a node link beyond which the clients sending to it stop being read. */
  nodeMaxPending: number;
  link: LinkOptions;
}

/** Counters shown by PROXY INFO (and, later, metrics). */
export interface RouterStats {
  moved: number;
  ask: number;
  tryagain: number;
  clusterdown: number;
  linkDowns: number;
  timeouts: number;
  refreshes: number;
  refreshFailures: number;
  /** Sub-requests of split multi-key commands and whole-cluster commands. */
  fanoutSubrequests: number;
  /** Refreshes run, by what triggered them (periodic, moved, link-down, ...). */
  refreshesByTrigger: Map<string, { ok: number; failed: number }>;
}

const UPSTREAM_TIMEOUT = errorReply('ERR slotgate: upstream timeout');
const SLOT_NOT_SERVED = errorReply('CLUSTERDOWN Hash slot not served');
const RETRY_BASE_MS = 10;
const RETRY_MAX_MS = 250;
const SWEEP_MS = 100;
/**
 * A request on a shared link unanswered this long: the node may hang (packets dropped, no RST)
 * and Redis may promote its replica long before request-timeout; refresh the map (at most once
 * per STALL_MS while it lasts) so that new requests go to the new master as soon as there is one.
 */
const STALL_MS = 1000;
/**
 * While requests wait for a slot no master serves (its master failed, its replica not yet
 * elected), the map is read again this often: nothing else would, as their clients wait on them.
 */
const PARKED_REFRESH_MS = 100;
/** Redirect hops followed at once; later ones back off like retries. */
const FREE_REDIRECTS = 2;

/**
 * Knows which master serves each slot and sends requests there. Keeps the map true: refreshes
 * it periodically and (single-flight) on MOVED or a lost link; follows MOVED and ASK itself;
 * retries TRYAGAIN and CLUSTERDOWN with backoff inside the request's deadline; holds requests
 * for slots with no reachable master until a refresh finds one or their deadline passes.
 */
export class Router implements LinkEvents {
  private slots: (ClusterNode | null)[] = new Array(SLOT_COUNT).fill(null);
  private readonly nodes = new Map<string, ClusterNode>();
  private masters: ClusterNode[] = [];
  private parked: Request[] = [];
  private refreshing: Promise<void> | null = null;
  private refreshAgain = false;
  private timers: NodeJS.Timeout[] = [];
  private parkedRefresh: NodeJS.Timeout | null = null;
  private lastStallRefresh = 0;
  private stopped = false;
  /** Why the last refresh failed (cleared by a successful one), told to clients that time out for it. */
  private lastRefreshError: string | null = null;
  /** Date.now() of the last successful refresh (0: none yet). */
  lastRefreshAt = 0;
  /** Slots served by some master in the current map. */
  coveredSlots = 0;
  /** Increases on every topology change applied. */
  epoch = 0;
  /** Scripts seen through slotgate, loaded again on a node that answers an EVALSHA with NOSCRIPT. */
  readonly scripts = new NoScriptRecovery(new ScriptStore());
  readonly stats: RouterStats = { moved: 0, ask: 0, tryagain: 0, clusterdown: 0, linkDowns: 0, timeouts: 0, refreshes: 0, refreshFailures: 0, fanoutSubrequests: 0, refreshesByTrigger: new Map() };

  constructor(
    private readonly source: TopologySource,
    private readonly options: RouterOptions,
    private readonly log: Logger,
  ) {}

  /** Starts refreshing (first refresh now) and the timeout sweep. Requests may arrive at once. */
  start(): Promise<void> {
    this.timers.push(setInterval(() => void this.refresh('periodic'), this.options.refreshIntervalMs));
    this.timers.push(setInterval(() => this.sweep(), SWEEP_MS));
    return this.refresh('startup');
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (this.parkedRefresh !== null) clearTimeout(this.parkedRefresh);
    this.parkedRefresh = null;
    for (const node of this.nodes.values()) node.close();
    this.nodes.clear();
    for (const r of this.parked) r.fail(errorReply('ERR slotgate: shutting down'));
    this.parked = [];
  }

  /** MOVED/ASK hops a request may take. */
  get maxRedirects(): number {
    return this.options.maxRedirects;
  }

  /** Addresses of the current masters, as host:port text. */
  masterAddresses(): string[] {
    return this.masters.map((m) => m.address);
  }

  /** The current masters, to ask first for topology or server facts. */
  masterNodes(): NodeAddress[] {
    return this.masters.map((m) => ({ host: m.host, port: m.port }));
  }

  /** The current masters, in topology order (whole-cluster commands go to each). */
  currentMasters(): readonly ClusterNode[] {
    return this.masters;
  }

  /** Resolves once some master is known (refreshing first if none is), or false if none is found. */
  async mastersKnown(): Promise<boolean> {
    if (this.masters.length === 0) await this.refresh('no-masters');
    return this.masters.length > 0;
  }

  /** The master serving `slot` in the current map, if any. */
  ownerOf(slot: number): ClusterNode | null {
    return this.slots[slot];
  }

  /** The open link a client's request for `slot` goes on now, or null (no master known, link closed). */
  linkForSlot(slot: number, clientId: number, protocol: Protocol): NodeLink | null {
    const node = this.slots[slot];
    if (node === null) return null;
    const link = node.linkFor(clientId, protocol);
    return link.open ? link : null;
  }

  /** Gives a request its deadline (from now) if it has none yet. */
  stamp(request: Request): void {
    if (request.deadline === 0) request.deadline = clock.now + this.options.requestTimeoutMs;
  }

  /** Sends a request to one particular node: never redirected or re-routed (its answer is about that node). */
  sendTo(node: ClusterNode, request: Request): void {
    request.retryable = false;
    this.stats.fanoutSubrequests++;
    if (request.deadline === 0) request.deadline = clock.now + this.options.requestTimeoutMs;
    node.linkFor(request.client.id, request.protocol).send(request, request.buf, request.start, request.end);
  }

  /** The slot map in text (PROXY CLUSTER): each master, its slot ranges, its links. */
  describe(): string {
    const ranges = new Map<ClusterNode, string[]>();
    let from = 0;
    for (let s = 1; s <= SLOT_COUNT; s++) {
      if (s < SLOT_COUNT && this.slots[s] === this.slots[from]) continue;
      const node = this.slots[from];
      if (node !== null) {
        const list = ranges.get(node) ?? [];
        list.push(from === s - 1 ? `${from}` : `${from}-${s - 1}`);
        ranges.set(node, list);
      }
      from = s;
    }
    const ago = this.lastRefreshAt === 0 ? -1 : Date.now() - this.lastRefreshAt;
    const lines = [
      `epoch:${this.epoch} covered_slots:${this.coveredSlots} last_refresh_ms_ago:${ago} last_refresh_error:${this.lastRefreshError ?? ''}`,
    ];
    for (const node of this.masters) {
      const links = node.links.map((l) => (l.protocol === 3 ? `${l.status}(resp3)` : l.status)).join(',');
      lines.push(`${node.address} master slots=${(ranges.get(node) ?? []).join(',')} links=${links} in_flight=${node.inFlight}`);
    }
    return lines.join('\n') + '\n';
  }

  /** Sends a client request to the master of its slot (keyless: a master chosen by client). */
  route(request: Request): void {
    if (request.deadline === 0) request.deadline = clock.now + this.options.requestTimeoutMs;
    const node = request.slot >= 0 ? this.slots[request.slot] : this.masterForClient(request.client.id);
    if (node === null) {
      this.park(request);
      return;
    }
    const link = node.linkFor(request.client.id, request.protocol);
    if (link.lost) {
      // Its node was lost and not reached again yet: queued there, the request would wait for
      // the link's reconnect backoff (up to 2 s) even after the cluster promoted a replica.
      // It waits here instead, for the next refresh or the link's next connect.
      link.connectSoon();
      this.parkUntilRefresh(request);
      return;
    }
    link.send(request, request.buf, request.start, request.end);
    const limit = this.options.nodeMaxPending;
    if (link.inFlight >= limit) request.client.waitForLink?.(link, limit >> 1);
  }

  /** The master keyless requests of this client go to. */
  masterForClient(clientId: number): ClusterNode | null {
    const masters = this.masters;
    return masters.length === 0 ? null : masters[clientId % masters.length];
  }

  private park(request: Request): void {
    if (this.parkUntilRefresh(request)) void this.refresh('slot-not-served');
  }

  /** Holds a request until a refresh (re-read every 100 ms while any waits); false if past its deadline (then failed). */
  private parkUntilRefresh(request: Request): boolean {
    if (clock.now > request.deadline) {
      request.fail(this.deadlineReply(request));
      return false;
    }
    request.keepBytes(); // it may still be a view of the client's reused read buffer
    this.parked.push(request);
    this.refreshWhileParked();
    return true;
  }

  /**
   * The error for a parked request at its deadline: the upstream timeout when its slot has a
   * master (it waited to go again after that master's link was lost or timed out), else the
   * slot is not served.
   */
  private deadlineReply(request: Request): Buffer {
    const owner = request.slot >= 0 ? this.slots[request.slot] : this.masterForClient(request.client.id);
    return owner !== null ? UPSTREAM_TIMEOUT : this.slotNotServed();
  }

  /** The error for a request whose slot found no master before its deadline. */
  private slotNotServed(): Buffer {
    if (this.coveredSlots > 0 || this.lastRefreshError === null) return SLOT_NOT_SERVED;
    return errorReply(`CLUSTERDOWN Hash slot not served (slotgate: ${this.lastRefreshError})`);
  }

  onRedirect(from: NodeLink, entry: PendingReply, buf: Buffer, start: number, end: number): boolean {
    // Already answered (given up at its deadline): nothing more to do for it.
    if ((entry as Request).replyBuf !== null) return true;
    const second = buf[start + 1];
    // N(OSCRIPT): an EVALSHA of a script this node lacks, which slotgate may know and load there.
    if (second === 0x4e) return this.scripts.recover(from, entry as Request, buf, start, end);
    // M(OVED), A(SK), T(RYAGAIN), C(LUSTERDOWN): anything else is the client's error reply.
    if (second !== 0x4d && second !== 0x41 && second !== 0x54 && second !== 0x43) return false;
    const text = buf.toString('latin1', start + 1, end - 2);
    const request = entry as Request;
    const [kind, slotText, target] = text.split(' ');
    if (kind === 'MOVED' || kind === 'ASK') {
      let node: ClusterNode;
      let slot: number;
      try {
        slot = checkSlot(slotText);
        node = this.nodeAt(target ?? '', from.host);
      } catch (error) {
        this.log.warn({ reply: text, err: (error as Error).message }, 'ignoring malformed redirect');
        return false;
      }
      if (++request.redirects > this.options.maxRedirects) {
        request.fail(errorReply(`ERR slotgate: too many redirections (last: ${text})`));
        return true;
      }
      const link = node.linkFor(request.client.id, request.protocol);
      let send: () => void;
      if (kind === 'MOVED') {
        this.stats.moved++;
        this.slots[slot] = node;
        void this.refresh('moved');
        send = () => link.send(request, request.buf, request.start, request.end);
      } else {
        this.stats.ask++;
        send = () => link.sendAsking(request, request.buf, request.start, request.end);
      }
      // Nodes can disagree for a moment while a slot changes hands (each says the other owns
      // it); past the first hops, wait a little so they settle before the limit is reached.
      if (request.redirects <= FREE_REDIRECTS) send();
      else setTimeout(send, Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (request.redirects - FREE_REDIRECTS - 1)));
      return true;
    }
    if (kind === 'TRYAGAIN' || kind === 'CLUSTERDOWN') {
      if (kind === 'TRYAGAIN') this.stats.tryagain++;
      else {
        this.stats.clusterdown++;
        void this.refresh('clusterdown');
      }
      const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** request.retries);
      if (clock.now + delay > request.deadline) return false;
      request.retries++;
      setTimeout(() => this.route(request), delay);
      return true;
    }
    return false;
  }

  onLinkUp(link: NodeLink): void {
    this.log.info({ node: link.address }, 'node link up');
  }

  onLinkDown(link: NodeLink, reason: string, unsent: PendingReply[]): void {
    this.stats.linkDowns++;
    this.log.warn({ node: link.address, reason, requeued: unsent.length }, 'node link down');
    for (const entry of unsent) this.parked.push(entry as Request);
    void this.refresh('link-down');
  }

  /** host:port from a redirect; an empty host means the node that sent it. */
  nodeAt(target: string, replyingHost: string): ClusterNode {
    const colon = target.lastIndexOf(':');
    if (colon < 0) throw new Error('no port');
    let host = target.slice(0, colon);
    if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
    return this.node(host === '' ? replyingHost : host, checkPort(target.slice(colon + 1)));
  }

  private node(host: string, port: number): ClusterNode {
    const address = formatHostPort({ host, port });
    let node = this.nodes.get(address);
    if (node === undefined) {
      node = new ClusterNode(host, port, this.options.connectionsPerNode, this, this.options.link);
      this.nodes.set(address, node);
    }
    return node;
  }

  /**
   * Fetches and applies the topology. Single-flight: calls during a refresh share it, and one
   * more refresh follows if any came in meanwhile (the running one may predate their cause).
   */
  refresh(reason: string): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.refreshing !== null) {
      if (reason !== 'periodic') this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = this.runRefresh(reason).finally(() => {
      this.refreshing = null;
      if (this.refreshAgain && !this.stopped) {
        this.refreshAgain = false;
        void this.refresh('follow-up');
      }
    });
    return this.refreshing;
  }

  private async runRefresh(reason: string): Promise<void> {
    this.stats.refreshes++;
    const outcome = this.refreshOutcome(reason);
    try {
      const { view, from } = await this.source.fetch(this.masterNodes());
      if (this.stopped) return;
      this.apply(view, from, reason);
      this.lastRefreshError = null;
      this.lastRefreshAt = Date.now();
      outcome.ok++;
    } catch (error) {
      this.stats.refreshFailures++;
      outcome.failed++;
      this.lastRefreshError = (error as Error).message;
      this.log.warn({ reason, err: (error as Error).message }, 'topology refresh failed');
    } finally {
      this.releaseParked();
    }
  }

  private refreshOutcome(trigger: string): { ok: number; failed: number } {
    let outcome = this.stats.refreshesByTrigger.get(trigger);
    if (outcome === undefined) {
      outcome = { ok: 0, failed: 0 };
      this.stats.refreshesByTrigger.set(trigger, outcome);
    }
    return outcome;
  }

  private apply(view: TopologyView, from: string, reason: string): void {
    const slots: (ClusterNode | null)[] = new Array(SLOT_COUNT).fill(null);
    const masters: ClusterNode[] = [];
    for (const shard of view.shards) {
      const node = this.node(shard.master.host, shard.master.port);
      masters.push(node);
      for (const [start, end] of shard.ranges) slots.fill(node, start, end + 1);
    }
    const changed = !sameMap(slots, this.slots);
    this.slots = slots;
    this.masters = masters;
    this.coveredSlots = view.coveredSlots;
    if (changed) {
      this.epoch++;
      this.log.info(
        { epoch: this.epoch, from, reason, masters: masters.map((m) => m.address), coveredSlots: view.coveredSlots },
        'topology updated',
      );
    }
    // Links to nodes that are no longer masters close once nothing is in flight on them. One
    // that has not answered for STALL_MS (a hung master whose replica took over) is given up on
    // now rather than at request-timeout: reads go again to the new master, writes get the
    // connection-lost error (they may have run). A demoted node that answers (a manual
    // failover's MOVED) keeps its requests.
    const current = new Set(masters);
    const stalledBefore = clock.now - STALL_MS;
    for (const [address, node] of this.nodes) {
      if (current.has(node)) continue;
      if (node.inFlight > 0) {
        for (const link of node.links) if (link.oldestPendingTime() < stalledBefore) link.abort('no longer master and not answering');
      }
      if (node.inFlight === 0) {
        node.close();
        this.nodes.delete(address);
      }
    }
  }

  private releaseParked(): void {
    const parked = this.parked;
    if (parked.length === 0) return;
    this.parked = [];
    for (const request of parked) {
      const node = request.slot >= 0 ? this.slots[request.slot] : this.masterForClient(request.client.id);
      if (clock.now > request.deadline) request.fail(this.deadlineReply(request));
      else if (node !== null) this.route(request);
      else this.parked.push(request);
    }
    if (this.parked.length > 0) this.refreshWhileParked();
  }

  /** One more refresh soon, for requests still parked after one (their slots had no master yet). */
  private refreshWhileParked(): void {
    if (this.parkedRefresh !== null || this.stopped) return;
    this.parkedRefresh = setTimeout(() => {
      this.parkedRefresh = null;
      if (this.parked.length > 0) void this.refresh('slot-not-served');
    }, PARKED_REFRESH_MS);
  }

  /** Fails links whose oldest request is past the timeout, and parked requests past their deadline. */
  private sweep(): void {
    const now = clock.now;
    const limit = now - this.options.requestTimeoutMs;
    let stalled = false;
    for (const node of this.nodes.values()) {
      for (const link of node.links) {
        const oldest = link.oldestPendingTime();
        if (oldest < limit) {
          this.stats.timeouts++;
          link.abort('request timeout', UPSTREAM_TIMEOUT);
        } else {
          if (oldest < now - STALL_MS) stalled = true;
          this.stats.timeouts += link.failLate(now, UPSTREAM_TIMEOUT);
        }
      }
    }
    if (stalled && now - this.lastStallRefresh >= STALL_MS) {
      this.lastStallRefresh = now;
      void this.refresh('stalled');
    }
    if (this.parked.length > 0 && this.parked.some((r) => now > r.deadline)) {
      const keep: Request[] = [];
      for (const r of this.parked) {
        if (now > r.deadline) r.fail(this.deadlineReply(r));
        else keep.push(r);
      }
      this.parked = keep;
    }
  }
}

function sameMap(a: (ClusterNode | null)[], b: (ClusterNode | null)[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
