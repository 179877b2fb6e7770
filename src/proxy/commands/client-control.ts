import type { ClientContext, ClientView } from '../client-context.js';
import { OK, errorReply, integerReply } from '../../resp/encode.js';
import type { ClusterHandler } from './cluster-wide.js';
import { textReply, type LocalHandler } from './local-handlers.js';

const SYNTAX_ERROR = errorReply('ERR syntax error');
const NO_SUCH_CLIENT = errorReply('ERR No such client');
const BAD_CLIENT_ID = errorReply('ERR client-id should be greater than 0');
/** Redis' client type names (getClientTypeByName); slave and replica are the same type. */
const CLIENT_TYPES = new Map([
  ['normal', 'normal'],
  ['pubsub', 'pubsub'],
  ['master', 'master'],
  ['replica', 'replica'],
  ['slave', 'replica'],
]);

/** Which clients CLIENT KILL closes (unset fields match any client). */
export interface KillFilter {
  id?: number;
  addr?: string;
  laddr?: string;
  type?: string;
  user?: string;
  /** Spares the client that sent the command (SKIPME yes, the default of the filter form). */
  skipMe: boolean;
  /** `CLIENT KILL ip:port`: answered +OK or "No such client" instead of a count. */
  oldForm: boolean;
}

/** Parses CLIENT KILL's arguments (args[0..1] = CLIENT KILL) as Redis 7.0 does: the filter, or the error reply. */
export function parseKillFilter(args: Buffer[]): KillFilter | Buffer {
  if (args.length === 3) return { addr: args[2].toString(), skipMe: false, oldForm: true };
  if (args.length % 2 !== 0) return SYNTAX_ERROR;
  const filter: KillFilter = { skipMe: true, oldForm: false };
  for (let i = 2; i < args.length; i += 2) {
    const option = args[i].toString().toLowerCase();
    const value = args[i + 1].toString();
    if (option === 'id') {
      // Redis: a long in [1, LONG_MAX]; anything else gets the same text.
      if (!/^[1-9]\d{0,18}$/.test(value) || BigInt(value) > 9223372036854775807n) return BAD_CLIENT_ID;
      filter.id = Number(value);
    } else if (option === 'type') {
      const type = CLIENT_TYPES.get(value.toLowerCase());
      if (type === undefined) return errorReply(`ERR Unknown client type '${value}'`);
      filter.type = type;
    } else if (option === 'addr') {
      filter.addr = value;
    } else if (option === 'laddr') {
      filter.laddr = value;
    } else if (option === 'user') {
      filter.user = value;
    } else if (option === 'skipme') {
      const yesNo = value.toLowerCase();
      if (yesNo !== 'yes' && yesNo !== 'no') return SYNTAX_ERROR;
      filter.skipMe = yesNo === 'yes';
    } else {
      return SYNTAX_ERROR;
    }
  }
  return filter;
}

function matches(filter: KillFilter, client: ClientView, selfId: number): boolean {
  if (filter.addr !== undefined && client.peerAddress !== filter.addr) return false;
  if (filter.laddr !== undefined && client.socketAddress !== filter.laddr) return false;
  if (filter.type !== undefined && client.type !== filter.type) return false;
  if (filter.user !== undefined && (client.user?.name ?? 'default') !== filter.user) return false;
  if (filter.id !== undefined && client.id !== filter.id) return false;
  return !(filter.skipMe && client.id === selfId);
}

/**
 * Closes this process' clients that match `filter`: at once, except `caller` (the client that
 * sent CLIENT KILL; null for a kill asked by another worker), closed after its reply. How many.
 */
export function killClients(clients: Iterable<ClientView>, filter: KillFilter, caller: ClientContext | null): number {
  let killed = 0;
  for (const other of [...clients]) {
    if (!matches(filter, other, caller?.id ?? 0)) continue;
    killed++;
    if (caller !== null && other.id === caller.id) caller.closeAfterReply();
    else other.kill();
  }
  return killed;
}

/**
 * CLIENT KILL, on slotgate's own clients (the nodes only know slotgate's shared links; with
 * admin-commands only), every worker's with `threads` > 1 (client ids are unique across them).
 * The killed clients' connections close at once; the caller itself, when it matches, is closed
 * after this reply, as Redis does.
 */
export const clientKill: ClusterHandler = async (_ops, client, args) => {
  const filter = parseKillFilter(args);
  if (Buffer.isBuffer(filter)) return filter;
  if (filter.user !== undefined && !client.server.users.has(filter.user)) return errorReply(`ERR No such user '${filter.user}'`);
  let killed = killClients(client.server.clients(), filter, client);
  if (client.server.peers !== null) killed += await client.server.peers.killClients(filter);
  if (!filter.oldForm) return integerReply(killed);
  return killed === 0 ? NO_SUCH_CLIENT : OK;
};

/** CLIENT LIST: slotgate's clients (the nodes only see slotgate's shared links), every worker's. */
export const clientList: ClusterHandler = async (_ops, client) => {
  const own = client.server.clientList();
  const others = client.server.peers === null ? '' : await client.server.peers.clientList();
  return textReply(client, own + others);
};

/**
 * CLIENT NO-EVICT ON|OFF: accepted and ignored. The node would evict slotgate's shared links,
 * not one client, and slotgate itself evicts no client for memory.
 */
export const clientNoEvict: LocalHandler = (_client, args) => {
  const mode = args[2].toString().toLowerCase();
  return mode === 'on' || mode === 'off' ? OK : SYNTAX_ERROR;
};
