import { encodeCommand, type Protocol } from '../../resp/encode.js';
import type { ClusterNode } from '../../upstream/cluster-node.js';
import type { Router } from '../router.js';
import { Gather, type ChildReplies } from './gather.js';

/** Thrown when no master is known; the client gets it as a CLUSTERDOWN error. */
export class ClusterDownError extends Error {
  readonly code = 'CLUSTERDOWN';
}

/**
 * The requesting client, as sub-requests need it: its id picks the link (and keeps its order
 * there), its protocol the links' protocol (the nodes encode replies as for the client).
 */
export interface Requester {
  readonly id: number;
  readonly protocol: Protocol;
}

/**
 * Asynchronous fan-outs for whole-cluster commands (off the hot path): send a command to
 * every master, to chosen nodes, or to the owner of a slot, and get the raw replies back.
 */
export class ClusterOps {
  constructor(readonly router: Router) {}

  /** The masters now, after waiting for a topology if none is known yet. */
  async masters(): Promise<readonly ClusterNode[]> {
    if (!(await this.router.mastersKnown())) throw new ClusterDownError('CLUSTERDOWN The cluster is down (slotgate: no master known)');
    return this.router.currentMasters();
  }

  /** Sends `args` to every master; replies in master order. */
  async everyMaster(client: Requester, args: (string | Buffer)[]): Promise<{ masters: readonly ClusterNode[]; replies: ChildReplies }> {
    const masters = await this.masters();
    const command = encodeCommand(args);
    const replies = await this.onNodes(client, masters.map((node) => ({ node, command })));
    return { masters, replies };
  }

  /** Sends each command to its node, all in the same turn; replies in the order given. */
  onNodes(client: Requester, sends: { node: ClusterNode; command: Buffer }[]): Promise<ChildReplies> {
    return new Promise((resolve) => {
      const gather = new Gather(client.id, client.protocol, 0, sends.length, resolve);
      sends.forEach(({ node, command }, i) => this.router.sendTo(node, gather.child(i, command)));
    });
  }

  /** Sends `args` to the master of `slot`, following redirects as any keyed request does. */
  onSlot(client: Requester, slot: number, args: (string | Buffer)[]): Promise<ChildReplies> {
    return new Promise((resolve) => {
      const gather = new Gather(client.id, client.protocol, 0, 1, resolve);
      this.router.route(gather.child(0, encodeCommand(args), slot));
    });
  }
}
