import { isErrorReply } from '../../resp/reply-reader.js';
import { onEveryMaster, type ClusterHandler } from '../commands/cluster-wide.js';

const onEveryMasterAllOk = onEveryMaster('all-ok');

/** SCRIPT LOAD: to every master, and the body remembered (once loaded) for NOSCRIPT recovery. */
export const scriptLoad: ClusterHandler = async (ops, client, args) => {
  const reply = await onEveryMasterAllOk(ops, client, args);
  if (!isErrorReply(reply, 0)) ops.router.scripts.store.remember(args[2]);
  return reply;
};

/**
 * SCRIPT FLUSH: to every master, and slotgate forgets its scripts too, so that an EVALSHA
 * afterwards gets NOSCRIPT, as it would from one server (rather than being healed).
 */
export const scriptFlush: ClusterHandler = async (ops, client, args) => {
  ops.router.scripts.store.clear();
  return onEveryMasterAllOk(ops, client, args);
};
