import { errorReply } from '../../resp/encode.js';
import type { PendingReply } from '../../upstream/pending.js';
import type { PrivateLink, PrivateOwner } from '../../upstream/private-links.js';
import type { Request } from '../request.js';
import type { ConnectionState, Session } from '../session.js';
import { ThenReply, isSlotRedirect, lendFor, type PrivateContext } from './private-context.js';

/**
 * A blocking command (BLPOP, BRPOPLPUSH, XREAD ... BLOCK, ...) on a dedicated link: it may keep
 * its connection busy for as long as its timeout says (0: for ever), so it never goes on a shared
 * link. The link comes back to the pool with the reply; if the client goes away first, the link
 * is closed (the node would otherwise keep it blocked). MOVED/ASK (the key's slot moved) send it
 * again to the new owner, within max-redirects.
 */
export class BlockedCall implements PrivateOwner, ConnectionState {
  private link: PrivateLink | null = null;
  private redirects = 0;
  private ended = false;

  constructor(
    private readonly ctx: PrivateContext,
    private readonly session: Session,
    private readonly request: Request,
  ) {}

  /** Sends the command to the owner of its slot, or to `target` (a redirect's node; `asking` after ASK). */
  start(target?: { host: string; port: number }, asking = false): void {
    if (this.ended) return;
    // The protocol the request was read in (the client may have switched since).
    const borrower = { id: this.session.id, protocol: this.request.protocol };
    const link = target !== undefined ? lendFor(this.ctx, -1, borrower, this, target) : lendFor(this.ctx, this.request.slot, borrower, this);
    if (Buffer.isBuffer(link)) {
      this.request.fail(link);
      return;
    }
    this.link = link;
    this.session.blocked = this;
    const { buf, start, end } = this.request;
    const entry = new ThenReply(this.request, () => this.giveBack());
    if (asking) link.link.sendAsking(entry, buf, start, end);
    else link.link.send(entry, buf, start, end);
  }

  onRedirect(_entry: PendingReply, buf: Buffer, start: number, end: number): boolean {
    if (!isSlotRedirect(buf, start)) return false;
    const text = buf.toString('latin1', start + 1, end - 2);
    if (++this.redirects > this.ctx.router.maxRedirects) {
      this.giveBack();
      this.request.fail(errorReply(`ERR slotgate: too many redirections (last: ${text})`));
      return true;
    }
    const from = this.link;
    this.giveBack();
    const [kind, , target] = text.split(' ');
    let node: { host: string; port: number };
    try {
      node = this.ctx.router.nodeAt(target ?? '', from?.link.host ?? '');
    } catch {
      this.request.fail(buf.subarray(start, end));
      return true;
    }
    // As the router does for shared links: MOVED goes to the named node now (the map is
    // refreshed meanwhile), ASK with ASKING first.
    if (kind === 'MOVED') void this.ctx.router.refresh('moved');
    this.start(node, kind === 'ASK');
    return true;
  }

  onLost(): void {
    // The link failed the request already (connection lost); nothing is left to give back.
    this.link = null;
  }

  /** The client went away (or RESET) while blocked: the connection may still be blocked on the node. */
  end(): void {
    this.ended = true;
    const link = this.link;
    this.link = null;
    if (link !== null) this.ctx.pool.discard(link);
  }

  private giveBack(): void {
    const link = this.link;
    this.link = null;
    if (this.session.blocked === this) this.session.blocked = null;
    if (link !== null) this.ctx.pool.giveBack(link);
  }
}
