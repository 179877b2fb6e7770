import { encodeCommand } from '../../resp/encode.js';
import { RequestScanner } from '../../resp/request-scanner.js';
import type { NodeLink } from '../../upstream/node-link.js';
import type { Request } from '../request.js';
import type { ScriptStore } from './script-store.js';

const NOSCRIPT = Buffer.from('-NOSCRIPT');
const SHA_LENGTH = 40;
/** Enough for any EVALSHA slotgate forwarded (it was scanned with the client's limits before). */
const SCAN_LIMITS = { maxBulkLen: Number.MAX_SAFE_INTEGER, maxArgs: Number.MAX_SAFE_INTEGER, maxBuffered: Number.MAX_SAFE_INTEGER };

/**
 * Heals `-NOSCRIPT` replies to EVALSHA / EVALSHA_RO: when slotgate knows the script (its body
 * came through SCRIPT LOAD or EVAL from any client), it sends `SCRIPT LOAD <body>` to the node
 * that answered and the same request again right behind it, on the same link, and the client
 * gets the script's result. Once per request: a second NOSCRIPT (the load failed) goes to the
 * client as it is, as does NOSCRIPT for a script slotgate never saw.
 *
 * Only error replies of client requests get here (the link hands them to the router), so the
 * cost for every other command is nothing.
 */
export class NoScriptRecovery {
  /** SCRIPT LOADs sent to heal a NOSCRIPT (PROXY INFO). */
  reloads = 0;
  /** Requests already sent again once (a WeakSet: nothing to clean up, nothing added to Request). */
  private readonly retried = new WeakSet<Request>();

  constructor(readonly store: ScriptStore) {}

  /**
   * The node behind `link` answered `buf[start, end)`, an error starting with `-N`, to
   * `request`. Returns true when the request was sent again (its reply is yet to come).
   */
  recover(link: NodeLink, request: Request, buf: Buffer, start: number, end: number): boolean {
    if (end - start < NOSCRIPT.length || buf.compare(NOSCRIPT, 0, NOSCRIPT.length, start, start + NOSCRIPT.length) !== 0) return false;
    if (this.retried.has(request)) return false;
    const sha = shaArgument(request.buf, request.start, request.end);
    const body = sha === null ? undefined : this.store.get(sha);
    if (body === undefined) return false;
    this.retried.add(request);
    this.reloads++;
    // Later requests of the client that were already sent to this node may run before the
    // retried script, as they may after a MOVED; its reply still goes out in request order.
    link.sendAfter(encodeCommand(['SCRIPT', 'LOAD', body]), request, request.buf, request.start, request.end);
    return true;
  }
}

/**
 * The lower-case sha argument (the second) of the EVALSHA request whose original bytes, RESP or
 * inline, are `buf[start, end)`; null when it has none of 40 characters (Redis' NOSCRIPT for it).
 */
export function shaArgument(buf: Buffer, start: number, end: number): string | null {
  let sha: string | null = null;
  const scanner = new RequestScanner(
    {
      onRequest(b, _s, _e, argc, args) {
        if (argc >= 2 && args[3] - args[2] === SHA_LENGTH) sha = b.toString('latin1', args[2], args[3]).toLowerCase();
      },
      onProtocolError() {},
      acceptsRequests: () => true,
    },
    SCAN_LIMITS,
  );
  scanner.feed(buf.subarray(start, end));
  return sha;
}
