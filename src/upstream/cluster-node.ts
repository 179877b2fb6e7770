import { NodeLink, type LinkEvents, type LinkOptions } from './node-link.js';

/**
 * A master node and its shared links. A client always uses the same link of a node (chosen by
 * its id), so its requests to one node keep their order there; clients spread over the links.
 */
export class ClusterNode {
  readonly links: NodeLink[];

  constructor(
    readonly host: string,
    readonly port: number,
    linkCount: number,
    events: LinkEvents,
    options: LinkOptions,
  ) {
    this.links = Array.from({ length: Math.max(1, linkCount) }, () => new NodeLink(host, port, events, options));
  }

  get address(): string {
    return this.links[0].address;
  }

  linkFor(clientId: number): NodeLink {
    const links = this.links;
    return links.length === 1 ? links[0] : links[clientId % links.length];
  }

  get inFlight(): number {
    let n = 0;
    for (const link of this.links) n += link.inFlight;
    return n;
  }

  close(): void {
    for (const link of this.links) link.close();
  }
}
