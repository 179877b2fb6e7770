import { randomBytes } from 'node:crypto';
import { PushReply, encodeCommand, encodeReply, errorReply, type Protocol, type ReplyValue } from '../../resp/encode.js';
import { decodeReply } from '../../resp/reply-reader.js';
import type { PrivateLink } from '../../upstream/private-links.js';
import { CROSS_SLOT, findSlot } from '../commands/key-finder.js';
import { Request } from '../request.js';
import type { ConnectionState, Session } from '../session.js';
import { slotOf } from '../../cluster/key-slot.js';
import { copyRawRequest, type RawRequest } from '../raw-request.js';
import type { PrivateContext } from './private-context.js';
import { PUBSUB_SLOT } from '../commands/table.js';

const CROSSSLOT = errorReply("CROSSSLOT Keys in request don't hash to the same slot");
const NO_BYTES = Buffer.alloc(0);
/** Sent after the last unsubscribe: its echo marks the end of what the link still owed the client. */
const MARKER = `slotgate-left-${randomBytes(6).toString('hex')}`;
const MARKER_PING = encodeCommand(['PING', MARKER]);
const MARKER_TAIL = Buffer.from(`${MARKER}\r\n`);
const RETRY_BASE_MS = 50;
const RETRY_MAX_MS = 1000;
/** Tries at subscribing a name again (about two minutes at RETRY_MAX_MS). */
const MAX_ATTEMPTS = 120;

/** Confirmation kinds: what they do to the link's subscriptions. */
const CONFIRMATIONS: Record<string, { add: boolean; set: 'channels' | 'patterns' }> = {
  subscribe: { add: true, set: 'channels' },
  unsubscribe: { add: false, set: 'channels' },
  psubscribe: { add: true, set: 'patterns' },
  punsubscribe: { add: false, set: 'patterns' },
  ssubscribe: { add: true, set: 'channels' },
  sunsubscribe: { add: false, set: 'channels' },
};

/** A point the client's later requests wait at until every subscription link has delivered what it owed before it. */
interface Sync {
  links: number;
  then: () => void;
}

/**
 * One dedicated link carrying some of a client's subscriptions: the main one (SUBSCRIBE,
 * PSUBSCRIBE, on any master: Redis Cluster delivers PUBLISH on every node) or one per shard
 * (SSUBSCRIBE, on the master of the channel's slot). Every frame the node sends on it goes to the
 * client as it is (messages and confirmations answer no queued request); confirmations are read
 * to know the subscriptions, so they can be made again on a new link when this one is lost.
 */
class SubscriptionLink {
  readonly channels = new Set<string>();
  readonly patterns = new Set<string>();
  /** Names subscribed again after a loss, whose confirmations (or errors) the client must not see, oldest first. */
  readonly renewing: string[] = [];
  /** Shard channels the client asked to leave, whose `sunsubscribe` it waits for. */
  readonly leavingByClient = new Map<string, number>();
  /** Syncs whose marker was sent on this link and has not come back yet, oldest first. */
  readonly syncs: Sync[] = [];

  constructor(
    readonly owner: Subscription,
    readonly link: PrivateLink,
    readonly shard: boolean,
  ) {
    link.link.frameFilter = (buf, start, end) => {
      owner.onFrame(this, buf, start, end);
      return true;
    };
  }

  get count(): number {
    return this.channels.size + this.patterns.size;
  }

  send(buf: Buffer, start: number, end: number): void {
    this.owner.noteSent();
    this.link.link.sendRaw(buf, start, end);
  }

  onLost(): void {
    this.owner.onLinkLost(this);
  }
}

/**
 * A client's subscriptions (RESP2 subscribed mode): while it has any, its requests are
 * (P|S)(UN)SUBSCRIBE, PING, QUIT and RESET, as Redis allows; they go on its subscription links
 * and every frame of those links goes back to it. Subscriptions survive the loss of a link
 * (failover, node restart): slotgate subscribes again on a new link after a topology refresh;
 * messages published in the gap are lost, as they are for any Redis subscriber that reconnects.
 * After the last unsubscribe the links go back to the pool, once a marker PING has come back on
 * each (so nothing they still owed the client is lost).
 */
export class Subscription implements ConnectionState {
  private main: SubscriptionLink | null = null;
  private readonly shards = new Map<string, SubscriptionLink>();
  /** Subscription commands went to the links since the last sync (a RESP3 client's next command waits for them). */
  private sentSinceSync = false;
  /** A sync for leaving subscribed mode is out. */
  private leaving = false;
  private ended = false;
  /** Links lost in a row without a resubscription confirmed since (backoff). */
  private lossStreak = 0;

  /**
   * The protocol the client subscribed in: its links speak it, so messages come as RESP3 pushes
   * to a RESP3 client, which may also send any other command meanwhile (they go the usual way).
   */
  private readonly protocol: Protocol;

  private constructor(
    private readonly ctx: PrivateContext,
    private readonly session: Session,
  ) {
    this.protocol = session.protocol;
  }

  /** A (P|S)(UN)SUBSCRIBE from `session`, subscribed or not. */
  static step(ctx: PrivateContext, session: Session, r: RawRequest): void {
    const current = session.subscription;
    if (current !== null && session.pendingRequests === 0) return current.command(r);
    const step = r.spec.pubsub;
    if (current === null && (step === 'unsubscribe' || step === 'punsubscribe' || step === 'sunsubscribe')) {
      // Not subscribed: Redis confirms each channel (or none) with a count of 0.
      return session.enqueue(Request.answered(session, unsubscribedReply(step, r, 0, session.protocol)));
    }
    const placeholder = new Request(session, NO_BYTES, 0, 0, -1);
    const copy = copyRawRequest(r);
    // A subscription command waits for the client's earlier requests (on other links), as Redis
    // would have answered them first.
    session.enqueueWhenHead(
      placeholder,
      () => {
        const sub = session.subscription ?? new Subscription(ctx, session);
        session.subscription = sub;
        placeholder.complete(NO_BYTES, 0, 0);
        sub.command(copy);
      },
      false,
    );
  }

  /**
   * Any other command while subscribed. PING goes to a link. The rest waits until the links have
   * delivered everything sent before it (an UNSUBSCRIBE in flight may end subscribed mode, as it
   * would have on Redis by then); then QUIT and RESET run (`again`), and other commands run
   * normally if the client is no longer subscribed, else get Redis' refusal.
   */
  static whileSubscribed(session: Session, r: RawRequest, again: () => void): void {
    const sub = session.subscription as Subscription; // the dispatcher checked there is one
    if (sub.protocol === 3) {
      // RESP3 allows any command while subscribed; it keeps its order after subscription
      // commands still in flight on the links.
      if (sub.sentSinceSync) return sub.sync(again);
      return again();
    }
    if (r.spec.inSubscription === 'node') return sub.toAnyLink(r);
    const local = r.spec.inSubscription === 'local';
    const refusal = errorReply(
      `ERR Can't execute '${r.spec.name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`,
    );
    sub.sync(() => {
      if (local || session.subscription !== sub || sub.count() === 0) again();
      else session.enqueue(Request.answered(session, refusal));
    });
  }

  private command(r: RawRequest): void {
    const step = r.spec.pubsub;
    if (step === 'ssubscribe' || step === 'sunsubscribe') return this.shardCommand(r);
    if (this.main === null) {
      if (step === 'unsubscribe' || step === 'punsubscribe') return this.answer(unsubscribedReply(step, r, this.count(), this.protocol));
      const link = this.lend(-1, false);
      if (link === null) return;
      this.main = link;
    }
    this.main.send(r.buf, r.start, r.end);
  }

  private shardCommand(r: RawRequest): void {
    const leaving = r.spec.pubsub === 'sunsubscribe';
    if (r.argc === 1) {
      // SUNSUBSCRIBE from everything: every shard link.
      if (this.shards.size === 0) return this.answer(unsubscribedReply('sunsubscribe', r, 0, this.protocol));
      for (const link of this.shards.values()) {
        for (const channel of link.channels) noteLeaving(link, channel);
        link.send(r.buf, r.start, r.end);
      }
      return;
    }
    const slot = findSlot(r.spec, r.buf, r.argc, r.args);
    if (slot === CROSS_SLOT) return this.answer(CROSSSLOT);
    const link = this.shardLink(slot);
    if (link === null) return;
    if (leaving) for (let i = 1; i < r.argc; i++) noteLeaving(link, r.buf.toString('latin1', r.args[i * 2], r.args[i * 2 + 1]));
    link.send(r.buf, r.start, r.end);
  }

  private toAnyLink(r: RawRequest): void {
    const link = this.main ?? this.shards.values().next().value ?? null;
    if (link === null) return this.answer(errorReply('ERR slotgate: no subscription link'));
    link.send(r.buf, r.start, r.end);
  }

  /** The shard link to the master of `slot` (lent on first use). */
  private shardLink(slot: number): SubscriptionLink | null {
    const node = this.ctx.router.ownerOf(slot);
    if (node === null) {
      this.answer(errorReply('CLUSTERDOWN Hash slot not served'));
      return null;
    }
    const existing = this.shards.get(node.address);
    if (existing !== undefined) return existing;
    const link = this.lend(slot, true);
    if (link !== null) this.shards.set(node.address, link);
    return link;
  }

  /** A new subscription link to the master of `slot` (-1: the client's usual master), or null after telling the client why not. */
  private lend(slot: number, shard: boolean): SubscriptionLink | null {
    const node = this.ctx.router.ownerOf(slot >= 0 ? slot : PUBSUB_SLOT);
    const link = node === null ? null : this.open(node, shard);
    if (link === null) {
      this.answer(errorReply(node === null ? 'CLUSTERDOWN Hash slot not served' : 'ERR slotgate: all dedicated node connections are in use (private-links-max)'));
    }
    return link;
  }

  private open(node: { host: string; port: number }, shard: boolean): SubscriptionLink | null {
    let sub: SubscriptionLink | null = null;
    const link = this.ctx.pool.lend(node.host, node.port, this.protocol, {
      onRedirect: () => false,
      onLost: () => sub?.onLost(),
    });
    if (link !== null) sub = new SubscriptionLink(this, link, shard);
    return sub;
  }

  /**
   * Runs `then` once the links delivered every frame owed for what was sent to them so far (at
   * once when nothing was sent since the last sync, whose placeholder already keeps the order).
   */
  afterOwed(then: () => void): void {
    if (this.sentSinceSync) this.sync(then);
    else then();
  }

  noteSent(): void {
    this.sentSinceSync = true;
  }

  /** Shard channels over every shard link (what Redis counts for SSUBSCRIBE confirmations). */
  private shardCount(): number {
    let n = 0;
    for (const link of this.shards.values()) n += link.count;
    return n;
  }

  private count(): number {
    return (this.main?.count ?? 0) + this.shardCount();
  }

  onFrame(link: SubscriptionLink, buf: Buffer, start: number, end: number): void {
    if (link.syncs.length > 0 && end - start < MARKER_TAIL.length + 32 && endsWith(buf, end, MARKER_TAIL)) {
      this.markerSeen(link.syncs.shift() as Sync);
      return;
    }
    if (buf[start] === 0x2d && link.renewing.length > 0) {
      // A resubscription refused (the slot moved again, say): try that name once more later.
      const name = link.renewing.shift() as string;
      if (link.shard) this.movedShardChannel(link, name);
      return;
    }
    const kind = frameKind(buf, start);
    const change = kind === null ? undefined : CONFIRMATIONS[kind];
    if (change === undefined) return this.session.pushFrame(buf, start, end);
    const decoded = decodeReply(buf, start) as [Buffer, Buffer | null, number];
    const name = decoded[1] === null ? null : decoded[1].toString('latin1');
    if (name !== null) {
      const set = link[change.set];
      if (change.add) set.add(name);
      else set.delete(name);
    }
    if (change.add && link.renewing.length > 0 && link.renewing[0] === name) {
      link.renewing.shift();
      this.lossStreak = 0;
      return;
    }
    if (link.shard && kind === 'sunsubscribe' && name !== null && !this.askedToLeave(link, name)) {
      this.movedShardChannel(link, name);
      return;
    }
    if (link.shard) {
      // One connection on Redis would count the shard channels of every shard: so does slotgate.
      const reply = encodeReply(new PushReply([decoded[0], decoded[1], this.shardCount()]), this.protocol);
      this.session.pushFrame(reply, 0, reply.length);
    } else {
      this.session.pushFrame(buf, start, end);
    }
    if (!change.add && this.count() === 0) this.checkLeft();
  }

  /** True (once) when the client's own SUNSUBSCRIBE named `channel` on this link. */
  private askedToLeave(link: SubscriptionLink, channel: string): boolean {
    const n = link.leavingByClient.get(channel) ?? 0;
    if (n === 0) return false;
    if (n === 1) link.leavingByClient.delete(channel);
    else link.leavingByClient.set(channel, n - 1);
    return true;
  }

  /** No subscription is left: once the links' markers are back, the client is out of subscribed mode. */
  private checkLeft(): void {
    if (this.leaving) return;
    this.leaving = true;
    this.sync(() => {
      this.leaving = false;
    });
  }

  /**
   * Sends a marker PING on every link and holds the client's later requests until all are back,
   * then (no subscription left) gives the links back and ends subscribed mode, and runs `then`.
   */
  private sync(then: () => void): void {
    const placeholder = new Request(this.session, NO_BYTES, 0, 0, -1);
    this.session.enqueue(placeholder);
    this.session.holdUntilAnswered(placeholder);
    const links = this.links();
    const sync: Sync = {
      links: links.length,
      then: () => {
        if (this.count() === 0 && this.session.subscription === this && this.links().every((l) => l.syncs.length === 0)) this.leave();
        // `then` first: what it dispatches must queue before the requests the placeholder held.
        then();
        placeholder.complete(NO_BYTES, 0, 0);
      },
    };
    if (links.length === 0) return sync.then();
    for (const link of links) {
      link.syncs.push(sync);
      link.send(MARKER_PING, 0, MARKER_PING.length);
    }
    this.sentSinceSync = false;
  }

  private markerSeen(sync: Sync): void {
    if (--sync.links === 0) sync.then();
  }

  /** Out of subscribed mode: the links hold no subscription and owe nothing, so they go back. */
  private leave(): void {

    for (const link of this.links()) this.ctx.pool.giveBack(link.link);
    this.main = null;
    this.shards.clear();
    this.session.subscription = null;
  }

  /** A link was lost (node killed or restarted): subscribe again on a new one after a topology refresh. */
  onLinkLost(lost: SubscriptionLink): void {
    if (this.ended) return;
    if (lost === this.main) this.main = null;
    for (const [address, link] of this.shards) if (link === lost) this.shards.delete(address);
    for (const sync of lost.syncs.splice(0)) this.markerSeen(sync);
    // Back off while links keep failing (a dead node refuses at once on loopback).
    const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** this.lossStreak++);
    const channels = new Set([...lost.channels, ...lost.renewing]);
    setTimeout(() => {
      void this.ctx.router.refresh('link-down').then(() => {
        if (lost.shard) this.resubscribeShard(channels, null, 0);
        else this.resubscribeMain(channels, lost.patterns, 0);
      });
    }, delay).unref();
  }

  /**
   * A shard channel the node dropped by itself (it sends `sunsubscribe` when the channel's slot
   * leaves it: failover, resharding): subscribed again on the slot's new owner, unseen by the client.
   */
  private movedShardChannel(link: SubscriptionLink, channel: string): void {
    void this.ctx.router.refresh('moved').then(() => this.resubscribeShard(new Set([channel]), link.link.address, 0));
  }

  private resubscribeMain(channels: Set<string>, patterns: Set<string>, attempt: number): void {
    if (this.ended || channels.size + patterns.size === 0) return;
    const node = this.ctx.router.ownerOf(PUBSUB_SLOT);
    const sub = this.main ?? (node === null ? null : this.open(node, false));
    if (sub === null) {
      if (attempt < MAX_ATTEMPTS) setTimeout(() => this.resubscribeMain(channels, patterns, attempt + 1), RETRY_MAX_MS).unref();
      return;
    }
    this.main = sub;
    for (const channel of channels) this.renew(sub, 'SUBSCRIBE', channel);
    for (const pattern of patterns) this.renew(sub, 'PSUBSCRIBE', pattern);
  }

  /** Subscribes to each channel again on the master of its slot (not on `avoid`, the node that dropped it, for a while). */
  private resubscribeShard(channels: Set<string>, avoid: string | null, attempt: number): void {
    if (this.ended) return;
    const left = new Set<string>();
    for (const channel of channels) {
      const node = this.ctx.router.ownerOf(slotOf(Buffer.from(channel, 'latin1')));
      if (node === null || (node.address === avoid && attempt < MAX_ATTEMPTS / 4)) {
        left.add(channel);
        continue;
      }
      let sub = this.shards.get(node.address);
      if (sub === undefined) {
        sub = this.open(node, true) ?? undefined;
        if (sub === undefined) {
          left.add(channel);
          continue;
        }
        this.shards.set(node.address, sub);
      }
      this.renew(sub, 'SSUBSCRIBE', channel);
    }
    if (left.size > 0 && attempt < MAX_ATTEMPTS) {
      setTimeout(() => {
        void this.ctx.router.refresh('pubsub-resubscribe').then(() => this.resubscribeShard(left, avoid, attempt + 1));
      }, RETRY_MAX_MS).unref();
    }
  }

  /** Subscribes `link` to `name` again; its confirmation (or error) is not shown to the client. */
  private renew(link: SubscriptionLink, command: string, name: string): void {
    link.renewing.push(name);
    const bytes = encodeCommand([command, Buffer.from(name, 'latin1')]);
    link.send(bytes, 0, bytes.length);
  }

  private links(): SubscriptionLink[] {
    return this.main === null ? [...this.shards.values()] : [this.main, ...this.shards.values()];
  }

  private answer(reply: Buffer): void {
    this.session.enqueue(Request.answered(this.session, reply));
  }

  /** The client went away or sent RESET: its links are subscribed, so they are closed. */
  end(): void {
    this.ended = true;
    const links = this.links();
    for (const link of links) this.ctx.pool.discard(link.link);
    this.main = null;
    this.shards.clear();
    // Syncs still waiting for their markers on these links would never see them, and their
    // placeholders would hold every later reply for ever (SUBSCRIBE, UNSUBSCRIBE and RESET in one
    // read got no reply at all: found by the fuzzer). They complete on the next tick, after the
    // reply of what ended the subscription (RESET's is enqueued once its handler returns); not
    // for a client that is gone.
    const waiting = links.flatMap((link) => link.syncs.splice(0));
    if (waiting.length > 0 && !this.session.isClosed) {
      process.nextTick(() => {
        for (const sync of waiting) this.markerSeen(sync);
      });
    }
  }
}

/** `unsubscribe ch count` for each channel named (or one with a nil channel), as Redis confirms. */
function unsubscribedReply(kind: string, r: RawRequest, count: number, protocol: Protocol): Buffer {
  const confirm = (channel: ReplyValue): Buffer => encodeReply(new PushReply([kind, channel, count]), protocol);
  if (r.argc === 1) return confirm(null);
  const parts: Buffer[] = [];
  for (let i = 1; i < r.argc; i++) parts.push(confirm(Buffer.from(r.buf.subarray(r.args[i * 2], r.args[i * 2 + 1]))));
  return Buffer.concat(parts);
}

function noteLeaving(link: SubscriptionLink, channel: string): void {
  link.leavingByClient.set(channel, (link.leavingByClient.get(channel) ?? 0) + 1);
}

/** The kind of a pub/sub frame (`message`, `subscribe`...): its first element, or null. */
function frameKind(buf: Buffer, start: number): string | null {
  if (buf[start] !== 0x2a && buf[start] !== 0x3e) return null; // * or > (RESP3 push)
  let i = start + 1;
  while (i < buf.length && buf[i] !== 13) i++;
  i += 2;
  if (buf[i] !== 0x24) return null;
  let length = 0;
  let j = i + 1;
  while (j < buf.length && buf[j] !== 13) length = length * 10 + (buf[j++] - 48);
  if (length > 12) return null;
  return buf.toString('latin1', j + 2, j + 2 + length);
}

function endsWith(buf: Buffer, end: number, tail: Buffer): boolean {
  if (end < tail.length) return false;
  return buf.compare(tail, 0, tail.length, end - tail.length, end) === 0;
}
