import type { SlowLog } from '../telemetry/slowlog.js';
import type { Logger } from '../telemetry/logger.js';
import type { AclUser, UserDirectory } from '../auth/users.js';
import type { ClientTraffic } from '../telemetry/client-traffic.js';
import type { Protocol } from '../resp/encode.js';
import type { KillFilter } from './commands/client-control.js';

/** What a locally answered command may read or change of the client that sent it. */
export interface ClientContext {
  readonly id: number;
  /** The RESP version the client speaks: replies slotgate builds are encoded in it, and its requests go on links of it. */
  readonly protocol: Protocol;
  /** HELLO 2|3, RESET: the client speaks `protocol` from its next request on. */
  switchProtocol(protocol: Protocol): void;
  /** CLIENT SETNAME / HELLO SETNAME. */
  name: string | null;
  libName: string;
  libVersion: string;
  /** False until AUTH succeeds when a proxy password is configured. */
  authenticated: boolean;
  /** The user it is authenticated as (null before AUTH): its permissions are checked per request unless unrestricted. */
  user: AclUser | null;
  /** The slotgate address this client connected to (what it can reach slotgate by). */
  readonly localAddress: string;
  readonly localPort: number;
  readonly server: ServerContext;
  /** Close this client once the reply being built has been written (QUIT). */
  closeAfterReply(): void;
  /** CLIENT REPLY ON|OFF|SKIP. */
  setReplyMode(mode: 'on' | 'off' | 'skip'): void;
  /** Ends its transaction, subscriptions and blocked call (RESET). */
  endConnectionState(): void;
}

/** A client as CLIENT KILL sees it: what its filters compare, and how to close it. */
export interface ClientView {
  readonly id: number;
  /** ip:port of the client's end (CLIENT LIST's addr). */
  readonly peerAddress: string;
  /** ip:port of slotgate's end (CLIENT LIST's laddr). */
  readonly socketAddress: string;
  /** Redis' client type: `normal` for every client of a session that is not subscribed. */
  readonly type: string;
  /** The user it authenticated as (null before AUTH). */
  readonly user: AclUser | null;
  /** Closes the connection now; replies not yet written are dropped. */
  kill(): void;
}

/** One line of PROXY CONFIG GET: an option's name and its value as text. */
export interface OptionView {
  name: string;
  value: string;
  runtime: boolean;
}

/** Proxy-wide facts and controls local commands need. */
export interface ServerContext {
  readonly slowlog: SlowLog;
  /** Where sessions log what happens to them (a client closed for its output buffer). */
  readonly log: Logger;
  /** The users clients can authenticate as (`default`: requirepass's). */
  readonly users: UserDirectory;
  /** Client bytes and protocol errors, added to by every session (metrics). */
  readonly traffic: ClientTraffic;
  /** Version of the Redis nodes behind slotgate (HELLO reports it). */
  readonly redisVersion: string;
  readonly clientCount: number;
  /** The RESP port slotgate listens on. */
  readonly port: number;
  /** Slots served by a known master. */
  readonly coveredSlots: number;
  readonly announceHost: string | undefined;
  readonly announcePort: number | undefined;
  /** The other workers (`threads` > 1) for CLIENT LIST and CLIENT KILL; null in one process. */
  readonly peers: WorkerPeers | null;
  /** Lines for `PROXY INFO`, in INFO format. */
  proxyInfo(): string;
  /** Every option with its current value (secrets redacted). */
  options(): OptionView[];
  /** Changes a runtime option; returns an error message when it cannot. */
  setOption(name: string, value: string): string | null;
  /** One line per client, in CLIENT LIST format. */
  clientList(): string;
  /** Every client now connected. */
  clients(): Iterable<ClientView>;
  /** The masters, their slots and links, in text. */
  clusterDescription(): string;
  /** Each command with what slotgate does with it: [name, policy, detail]. */
  routingTable(names: string[]): [string, string, string][];
}

/** The clients of the other workers (`threads` > 1), reached through the primary. */
export interface WorkerPeers {
  /** Their CLIENT LIST lines (those that answer in time). */
  clientList(): Promise<string>;
  /** Kills their clients that match `filter`; how many. */
  killClients(filter: KillFilter): Promise<number>;
}
