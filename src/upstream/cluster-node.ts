import type { Protocol } from '../resp/encode.js';
import { NodeLink, type LinkEvents, type LinkOptions } from './node-link.js';

/**
 * A master node and its shared links, per protocol: RESP2 clients' requests go on RESP2 links
 * and RESP3 clients' on RESP3 links, so a node's reply is already in the client's protocol and
 * is forwarded as it is. A client always uses the same link of a node and protocol (chosen by
 * its id), so its requests to one node keep their order there; clients spread over the links.
 * RESP3 links are made on the first RESP3 request (and connect on it): RESP2-only traffic never
 * opens them.
 */
export class ClusterNode {
  private readonly resp2: NodeLink[];
  private resp3: NodeLink[] | null = null;

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly linkCount: number,
    private readonly events: LinkEvents,
    private readonly options: LinkOptions,
  ) {
    this.resp2 = this.makeLinks(2);
  }

  private makeLinks(protocol: Protocol): NodeLink[] {
    const count = Math.max(1, this.linkCount);
    return Array.from({ length: count }, () => new NodeLink(this.host, this.port, protocol, this.events, this.options));
  }

  get address(): string {
    return this.resp2[0].address;
  }

  /** Every link made so far (RESP2 first). */
  get links(): readonly NodeLink[] {
    return this.resp3 === null ? this.resp2 : [...this.resp2, ...this.resp3];
  }

  linkFor(clientId: number, protocol: Protocol): NodeLink {
    const links = protocol === 2 ? this.resp2 : (this.resp3 ??= this.makeLinks(3));
    return links.length === 1 ? links[0] : links[clientId % links.length];
  }

  get inFlight(): number {
    let n = 0;
    for (const link of this.links) n += link.inFlight;
    return n;
  }

  /**
   * False while a link to this node is lost (a dead or unreachable master). Idle links are asked
   * to connect (within their reconnect backoff), so that a node that died without traffic, or
   * came back at its address, is seen at the next check without waiting for a client request.
   */
  checkReachable(): boolean {
    let reachable = true;
    for (const link of this.links) {
      if (link.lost) reachable = false;
      if (link.status === 'idle') link.connectNow();
    }
    return reachable;
  }

  close(): void {
    for (const link of this.links) link.close();
  }
}
