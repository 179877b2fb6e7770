import type { ClientContext } from '../client-context.js';
import { parseLongLong } from '../../util/redis-integer.js';
import {
  MapReply,
  OK,
  PONG,
  VerbatimReply,
  arrayReply,
  bulkReply,
  encodeReply,
  errorReply,
  integerReply,
  nullReply,
  simpleString,
  type Protocol,
} from '../../resp/encode.js';

/** A command slotgate answers itself: gets the client and the arguments (args[0] = name). */
export type LocalHandler = (client: ClientContext, args: Buffer[]) => Buffer;

const WRONGPASS = errorReply('WRONGPASS invalid username-password pair or user is disabled.');
const NO_PASSWORD_SET = errorReply(
  'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
);
const NOT_INTEGER = errorReply('ERR value is not an integer or out of range');

export const ping: LocalHandler = (_c, args) => {
  if (args.length > 2) return errorReply("ERR wrong number of arguments for 'ping' command");
  return args.length > 1 ? bulkReply(args[1]) : PONG;
};

export const echo: LocalHandler = (_c, args) => bulkReply(args[1]);

export const quit: LocalHandler = (client) => {
  client.closeAfterReply();
  return OK;
};

/** Replies +OK: the command has no effect behind a proxy (READONLY, READWRITE, ASKING). */
export const ok: LocalHandler = () => OK;

export const select: LocalHandler = (_c, args) => {
  // As Redis' string2ll into an int: no leading zeros, no "-0", no sign but '-'.
  const db = args[1].toString();
  if (!/^(0|-?[1-9]\d{0,9})$/.test(db) || Number(db) < -(2 ** 31) || Number(db) >= 2 ** 31) return NOT_INTEGER;
  return Number(db) === 0 ? OK : errorReply('ERR SELECT is not allowed in cluster mode');
};

/** AUTH [user] password: as Redis, `AUTH password` is the default user's. */
export const auth: LocalHandler = (client, args) => {
  if (args.length === 2 && client.server.users.defaultUser.nopass) return NO_PASSWORD_SET;
  const [user, password] = args.length === 2 ? ['default', args[1]] : [args[1].toString(), args[2]];
  return logIn(client, user, password) ?? OK;
};

/** Authenticates the client as `user`; null when the credentials are right, else the error reply. */
function logIn(client: ClientContext, user: string, password: Buffer): Buffer | null {
  const found = client.server.users.authenticate(user, password);
  if (found === null) return WRONGPASS;
  client.user = found;
  client.authenticated = true;
  return null;
}

/**
 * HELLO [protover [AUTH user pass] [SETNAME name]], as Redis 7: switches the client to RESP2 or
 * RESP3 (without a version it stays in its protocol) and describes the server, as a map in the
 * protocol it switched to (a flat array in RESP2).
 */
export const hello: LocalHandler = (client, args) => {
  let protocol = client.protocol;
  if (args.length > 1) {
    const version = parseLongLong(args[1].toString());
    if (version === null) return errorReply('ERR Protocol version is not an integer or out of range');
    if (version !== 2 && version !== 3) return errorReply('NOPROTO unsupported protocol version');
    protocol = version;
  }
  let newName: string | null = null;
  for (let i = 2; i < args.length; i++) {
    const option = args[i].toString().toLowerCase();
    const more = args.length - i - 1;
    if (option === 'auth' && more >= 2) {
      const failure = logIn(client, args[i + 1].toString(), args[i + 2]);
      if (failure) return failure;
      i += 2;
    } else if (option === 'setname' && more >= 1) {
      newName = args[i + 1].toString();
      if (!validClientName(newName)) return BAD_NAME;
      i += 1;
    } else {
      return errorReply(`ERR Syntax error in HELLO option '${args[i].toString()}'`);
    }
  }
  if (!client.authenticated) {
    return errorReply(
      // Redis 7.0's text (7.2 says `HELLO <proto> AUTH`).
      'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time',
    );
  }
  if (newName !== null) client.name = newName === '' ? null : newName;
  client.switchProtocol(protocol);
  return helloReply(client, protocol);
};

function helloReply(client: ClientContext, protocol: Protocol): Buffer {
  const description = new MapReply([
    'server', 'redis',
    'version', client.server.redisVersion,
    'proto', protocol,
    'id', client.id,
    'mode', 'standalone',
    'role', 'master',
    'modules', [],
  ]);
  return encodeReply(description, protocol);
}

const BAD_NAME = errorReply('ERR Client names cannot contain spaces, newlines or special characters.');

function validClientName(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 33 || c > 126) return false;
  }
  return true;
}

export const clientSetName: LocalHandler = (client, args) => {
  const name = args[2].toString();
  if (!validClientName(name)) return BAD_NAME;
  client.name = name === '' ? null : name;
  return OK;
};

export const clientGetName: LocalHandler = (client) => (client.name === null ? nullReply(client.protocol) : bulkReply(client.name));

export const clientId: LocalHandler = (client) => integerReply(client.id);

export const clientSetInfo: LocalHandler = (client, args) => {
  const attribute = args[2].toString().toLowerCase();
  const value = args[3].toString();
  if (!validClientName(value) && value !== '') {
    return errorReply(`ERR ${attribute} cannot contain spaces, newlines or special characters.`);
  }
  if (attribute === 'lib-name') client.libName = value;
  else if (attribute === 'lib-ver') client.libVersion = value;
  else return errorReply(`ERR Unrecognized option '${args[2].toString()}'`);
  return OK;
};

/** SLOWLOG GET [count]: newest first, Redis' six fields and the node that served the request. */
export const slowlogGet: LocalHandler = (client, args) => {
  let count = 10;
  if (args.length > 2) {
    const n = parseLongLong(args[2].toString());
    if (n === null || n < -1) return errorReply('ERR count should be greater than or equal to -1');
    count = n;
  }
  return arrayReply(
    client.server.slowlog.newest(count).map((e) => [e.id, e.time, e.durationUs, e.args, e.clientAddress, e.clientName, e.node]),
  );
};

export const slowlogLen: LocalHandler = (client) => integerReply(client.server.slowlog.length);

export const slowlogReset: LocalHandler = (client) => {
  client.server.slowlog.reset();
  return OK;
};

/** ACL WHOAMI: the slotgate user this client authenticated as (the nodes only know slotgate's backend user). */
export const aclWhoAmI: LocalHandler = (client) => bulkReply(client.user?.name ?? 'default');

/** CLIENT REPLY ON|OFF|SKIP, honoured by slotgate (the nodes' replies to this client are dropped or not). */
export const clientReply: LocalHandler = (client, args) => {
  const mode = args[2].toString('latin1').toLowerCase();
  if (mode !== 'on' && mode !== 'off' && mode !== 'skip') return errorReply('ERR syntax error');
  client.setReplyMode(mode);
  return OK;
};

/** RESET: back to a fresh connection's state (no transaction or subscription, name cleared, RESP2, re-authentication required). */
export const reset: LocalHandler = (client) => {
  client.endConnectionState();
  client.setReplyMode('on');
  client.name = null;
  client.switchProtocol(2);
  client.user = client.server.users.initialUser;
  client.authenticated = client.user !== null;
  return simpleString('RESET');
};

/** Text Redis sends as a verbatim string in RESP3 (INFO, CLIENT LIST, CLUSTER NODES...): a bulk string in RESP2. */
export function textReply(client: ClientContext, text: string): Buffer {
  return encodeReply(new VerbatimReply(text), client.protocol);
}


/** CLIENT INFO: this client's CLIENT LIST line. */
export const clientInfo: LocalHandler = (client) => {
  const line = client.server.clientList().split('\n').find((l) => l.startsWith(`id=${client.id} `));
  return textReply(client, line === undefined ? '' : `${line}\n`);
};
