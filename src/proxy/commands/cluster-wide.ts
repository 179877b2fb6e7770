import { encodeCommand, errorReply } from '../../resp/encode.js';
import { SLOT_COUNT, slotOf } from '../../cluster/key-slot.js';
import type { ClientContext } from '../client-context.js';
import type { ClusterOps } from '../fanout/cluster-ops.js';
import { merge, type MergeKind } from '../fanout/merge.js';
import { scan } from './scan.js';
import { info } from './info.js';

/**
 * A command slotgate answers by asking the cluster: gets the fan-out helpers, the client and
 * the arguments (args[0] = name); resolves with the reply bytes.
 */
export type ClusterHandler = (ops: ClusterOps, client: ClientContext, args: Buffer[]) => Promise<Buffer>;

/** Sends the command as it is to every master and merges their replies. */
export function onEveryMaster(kind: Exclude<MergeKind, 'ordered-array'>): ClusterHandler {
  return async (ops, client, args) => merge(kind, (await ops.everyMaster(client, args)).replies);
}

/** Sends the command to one master (the client's usual one): its answer stands for all. */
export const onOneMaster: ClusterHandler = async (ops, client, args) => {
  const masters = await ops.masters();
  const replies = await ops.onNodes(client, [{ node: masters[client.id % masters.length], command: encodeCommand(args) }]);
  return replies.bufs[0].subarray(replies.starts[0], replies.ends[0]);
};

/**
 * CLUSTER COUNTKEYSINSLOT / GETKEYSINSLOT: to the master of the slot named by the argument; a
 * bad slot goes to any master, whose error text is Redis' own.
 */
export const onSlotArgument: ClusterHandler = async (ops, client, args) => {
  const text = args[2].toString('latin1');
  const slot = /^\d{1,5}$/.test(text) ? Number(text) : -1;
  if (slot < 0 || slot >= SLOT_COUNT) return onOneMaster(ops, client, args);
  const replies = await ops.onSlot(client, slot, args);
  return replies.bufs[0].subarray(replies.starts[0], replies.ends[0]);
};

/** DEBUG OBJECT key, to the owner of the key (with admin-commands); other DEBUG subcommands never. */
export const debugObject: ClusterHandler = async (ops, client, args) => {
  if (args.length !== 3 || args[1].toString('latin1').toLowerCase() !== 'object') {
    return errorReply('ERR slotgate: only DEBUG OBJECT <key> is allowed through the proxy');
  }
  const replies = await ops.onSlot(client, slotOf(args[2]), args);
  return replies.bufs[0].subarray(replies.starts[0], replies.ends[0]);
};

export { scan, info };
