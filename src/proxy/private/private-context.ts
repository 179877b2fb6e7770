import { errorReply, type Protocol } from '../../resp/encode.js';
import type { PendingReply } from '../../upstream/pending.js';
import type { PrivateLink, PrivateLinkPool, PrivateOwner } from '../../upstream/private-links.js';
import type { Router } from '../router.js';

/** What the handlers of connection state (transactions, blocking calls, subscriptions) share. */
export interface PrivateContext {
  readonly router: Router;
  readonly pool: PrivateLinkPool;
}

/** The client a dedicated link is lent for. */
export interface Borrower {
  readonly id: number;
  readonly protocol: Protocol;
}

/** Lends a link to the master of `slot` (-1: the client's usual master), or to `node`; an error reply when it cannot. */
export function lendFor(
  ctx: PrivateContext,
  slot: number,
  client: Borrower,
  owner: PrivateOwner,
  node: { host: string; port: number } | null = slot >= 0 ? ctx.router.ownerOf(slot) : ctx.router.masterForClient(client.id),
): PrivateLink | Buffer {
  if (node === null) return errorReply('CLUSTERDOWN Hash slot not served');
  const link = ctx.pool.lend(node.host, node.port, client.protocol, owner);
  return link ?? noLinkLeft(ctx);
}

/** What a client gets when every dedicated link is lent. */
export function noLinkLeft(ctx: PrivateContext): Buffer {
  return errorReply(`ERR slotgate: all ${ctx.pool.limits.max} dedicated node connections are in use (private-links-max)`);
}

/** A reply nobody waits for (a MULTI slotgate already answered, a DISCARD of an aborted transaction). */
export { discardedReply as IGNORED_REPLY } from '../../upstream/node-link.js';

/** Forwards a reply to the client's request and then runs `after` (give the link back, end the state). */
export class ThenReply implements PendingReply {
  readonly retryable = true;
  /** Dedicated links have no request deadline (a blocked call may wait for ever). */
  readonly deadline = Infinity;

  constructor(
    private readonly request: PendingReply,
    private readonly after: () => void,
  ) {}

  complete(buf: Buffer, start: number, end: number): void {
    this.after();
    this.request.complete(buf, start, end);
  }

  fail(reply: Buffer): void {
    this.after();
    this.request.fail(reply);
  }

  /** The state it ends (a transaction's EXEC, a blocked call) is lost with its link: never sent again. */
  resendAfterLoss(): boolean {
    return false;
  }

  giveUp(): boolean {
    return false;
  }

  sentFrom(buf: Buffer, start: number, end: number, via?: string): void {
    this.request.sentFrom(buf, start, end, via);
  }
}

/** MOVED/ASK on a dedicated link: the slot changed hands under a transaction or blocked call. */
export function isSlotRedirect(buf: Buffer, start: number): boolean {
  const second = buf[start + 1];
  return buf[start] === 0x2d && (second === 0x4d || second === 0x41) && (buf.toString('latin1', start + 1, start + 6) === 'MOVED' || buf.toString('latin1', start + 1, start + 5) === 'ASK ');
}
