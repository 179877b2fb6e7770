import { OK, encodeCommand, errorReply, simpleString } from '../../resp/encode.js';
import type { PendingReply } from '../../upstream/pending.js';
import type { PrivateLink, PrivateOwner } from '../../upstream/private-links.js';
import { CROSS_SLOT, findSlot } from '../commands/key-finder.js';
import type { RawRequest } from '../raw-request.js';
import { Request } from '../request.js';
import type { ConnectionState, Session } from '../session.js';
import { IGNORED_REPLY, ThenReply, isSlotRedirect, lendFor, type PrivateContext } from './private-context.js';

const MULTI = encodeCommand(['MULTI']);
const DISCARD = encodeCommand(['DISCARD']);
const QUEUED = simpleString('QUEUED');
const CROSSSLOT = errorReply("CROSSSLOT Keys in request don't hash to the same slot");
const EXECABORT = errorReply('EXECABORT Transaction discarded because of previous errors.');


/**
 * One client's MULTI ... EXEC (and WATCH) on a dedicated link to the master of the
 * transaction's slot. The slot is the first keyed command's (or WATCH's); every queued command
 * must hash to it, else it gets CROSSSLOT and EXEC aborts with EXECABORT, as Redis does for a
 * command refused while queuing. MULTI is answered by slotgate and sent to the node only once
 * the node is known (with any keyless commands queued before, whose +QUEUED slotgate gave).
 * The link goes back to the pool after EXEC, DISCARD or UNWATCH, which leave the connection clean
 * on the node; a client that goes away mid-transaction gets its link closed.
 */
export class Transaction implements PrivateOwner, ConnectionState {
  inMulti = false;
  private link: PrivateLink | null = null;
  private slot = -1;
  private multiSent = false;
  private dirty = false;
  /** Why the link was lost (the node forgot the transaction and the watches). */
  private lost: string | null = null;
  /** Keyless commands queued before the node is known (copied). */
  private held: Buffer[] = [];

  private constructor(
    private readonly ctx: PrivateContext,
    private readonly session: Session,
  ) {}

  /** MULTI, EXEC, DISCARD, WATCH or UNWATCH from `session`. */
  static step(ctx: PrivateContext, session: Session, r: RawRequest): void {
    const current = session.transaction;
    const tx = current ?? new Transaction(ctx, session);
    switch (r.spec.transaction) {
      case 'multi':
        return tx.multi(r);
      case 'watch':
        return tx.watch(r);
      case 'unwatch':
        if (tx.inMulti) return tx.queue(r);
        return tx.unwatch(r);
      case 'exec':
        return tx.exec(r);
      case 'discard':
        return tx.discard(r);
      default:
        return tx.answer(errorReply('ERR slotgate: unknown transaction command'));
    }
  }

  private multi(r: RawRequest): void {
    if (this.inMulti) return this.answer(errorReply('ERR MULTI calls can not be nested'));
    this.session.transaction = this;
    this.inMulti = true;
    this.dirty = false;
    if (this.link === null) {
      this.multiSent = false;
      return this.answer(OK);
    }
    this.multiSent = true;
    this.send(this.request(r, -1));
  }

  private watch(r: RawRequest): void {
    if (this.inMulti) return this.answer(errorReply('ERR WATCH inside MULTI is not allowed'));
    const slot = findSlot(r.spec, r.buf, r.argc, r.args);
    if (slot === CROSS_SLOT || (this.link !== null && slot !== this.slot)) return this.answer(CROSSSLOT);
    if (this.link === null) {
      const link = lendFor(this.ctx, slot, this.session, this);
      if (Buffer.isBuffer(link)) return this.answer(link);
      this.link = link;
      this.slot = slot;
      this.lost = null;
    }
    this.session.transaction = this;
    this.send(this.request(r, slot));
  }

  private unwatch(r: RawRequest): void {
    if (this.link === null) {
      this.finish();
      return this.answer(OK);
    }
    const request = this.request(r, this.slot);
    this.send(request, new ThenReply(request, () => this.finish()), true);
  }

  private exec(r: RawRequest): void {
    if (!this.inMulti) return this.answer(errorReply('ERR EXEC without MULTI'));
    if (this.lost !== null) {
      this.finish();
      return this.answer(errorReply(`EXECABORT Transaction discarded: slotgate lost its connection to the node (${this.lost})`));
    }
    if (this.dirty) {
      if (this.link !== null) this.link.link.send(IGNORED_REPLY, DISCARD, 0, DISCARD.length);
      this.finish();
      return this.answer(EXECABORT);
    }
    if (this.link === null) {
      // Nothing keyed was queued: any master runs it.
      const link = lendFor(this.ctx, -1, this.session, this);
      if (Buffer.isBuffer(link)) {
        this.finish();
        return this.answer(link);
      }
      this.link = link;
    }
    const request = this.request(r, this.slot);
    this.send(request, new ThenReply(request, () => this.finish()), true);
  }

  private discard(r: RawRequest): void {
    if (!this.inMulti) return this.answer(errorReply('ERR DISCARD without MULTI'));
    if (this.link === null || !this.multiSent) {
      this.finish();
      return this.answer(OK);
    }
    const request = this.request(r, this.slot);
    this.send(request, new ThenReply(request, () => this.finish()), true);
  }

  /** A command refused before it reached the transaction (arity, NOPERM...): EXEC aborts, if inside MULTI. */
  static flagRefused(session: Session): void {
    const tx = session.transaction as Transaction; // the dispatcher checked there is one
    if (tx.inMulti) tx.dirty = true;
  }

  /** A command inside MULTI: queued on the node, or refused (then EXEC aborts). */
  static queue(session: Session, r: RawRequest): void {
    (session.transaction as Transaction).queue(r); // the dispatcher checked there is one
  }

  private queue(r: RawRequest): void {
    const { spec } = r;
    const queueable = spec.policy === 'forward' || spec.policy === 'split' || spec.policy === 'blocking' || spec.nodeToo;
    if (!queueable) {
      const name = spec.name.replace('|', ' ').toUpperCase();
      return this.refuse(errorReply(`ERR slotgate: ${name} cannot be queued in a transaction through the proxy`));
    }
    if (this.lost !== null) return this.refuse(errorReply(`ERR slotgate: the transaction's node connection was lost (${this.lost})`));
    const slot = spec.nodeToo ? -1 : findSlot(spec, r.buf, r.argc, r.args);
    if (slot === CROSS_SLOT || (slot >= 0 && this.slot >= 0 && slot !== this.slot)) return this.refuse(CROSSSLOT);
    if (this.link === null) {
      if (slot < 0) {
        this.held.push(Buffer.from(r.buf.subarray(r.start, r.end)));
        return this.answer(QUEUED);
      }
      const link = lendFor(this.ctx, slot, this.session, this);
      if (Buffer.isBuffer(link)) return this.refuse(link);
      this.link = link;
    }
    if (slot >= 0) this.slot = slot;
    this.send(this.request(r, slot));
  }

  onRedirect(entry: PendingReply, buf: Buffer, start: number, end: number): boolean {
    if (!isSlotRedirect(buf, start)) return false;
    // The node flags the transaction itself (EXEC will answer EXECABORT); the client is told
    // why in words, never with a MOVED it would not know what to do with.
    void this.ctx.router.refresh('moved');
    if (this.inMulti) this.dirty = true;
    const text = buf.toString('latin1', start + 1, end - 2);
    entry.fail(errorReply(`ERR slotgate: the slot moved during the transaction (${text}); retry the transaction`));
    return true;
  }

  onLost(reason: string): void {
    this.link = null;
    this.lost = reason;
    if (!this.inMulti) this.finish();
  }

  /** The client went away or sent RESET: the link may hold MULTI or WATCH state, so it is closed. */
  end(): void {
    const link = this.link;
    this.link = null;
    if (link !== null) this.ctx.pool.discard(link);
  }

  /** The transaction is over and the connection clean (EXEC, DISCARD, UNWATCH): the link goes back. */
  private finish(): void {
    const link = this.link;
    this.link = null;
    this.inMulti = false;
    this.held = [];
    if (this.session.transaction === this) this.session.transaction = null;
    if (this.session.channel === link) this.session.channel = null;
    if (link !== null) this.ctx.pool.giveBack(link);
  }

  private request(r: RawRequest, slot: number): Request {
    return new Request(this.session, r.buf, r.start, r.end, slot);
  }

  /**
   * Sends a request on the transaction's link, after MULTI and the held commands if they have
   * not gone yet. The first request on the link waits for the client's earlier requests (on
   * shared links) to be answered, so it cannot overtake them at the node.
   */
  private send(request: Request, entry: PendingReply = request, exclusive = false): void {
    const link = this.link as PrivateLink;
    const session = this.session;
    const go = (): void => {
      if (this.link !== link) {
        request.fail(errorReply(`ERR slotgate: the transaction's node connection was lost (${this.lost ?? 'closed'})`));
        return;
      }
      if (this.inMulti && !this.multiSent) {
        link.link.send(IGNORED_REPLY, MULTI, 0, MULTI.length);
        for (const held of this.held) link.link.send(IGNORED_REPLY, held, 0, held.length);
        this.held = [];
        this.multiSent = true;
      }
      session.channel = link;
      link.link.send(entry, request.buf, request.start, request.end);
    };
    if (session.channel === link) {
      session.enqueue(request);
      go();
      if (exclusive) session.holdUntilAnswered(request);
    } else {
      session.enqueueWhenHead(request, go, exclusive);
    }
  }

  private answer(reply: Buffer): void {
    this.session.enqueue(Request.answered(this.session, reply));
  }

  /** Refuses a command while queuing: the client gets `reply`, EXEC will abort. */
  private refuse(reply: Buffer): void {
    this.dirty = true;
    this.answer(reply);
  }
}
