import type { UserConfig } from '../auth/users.js';

/** The resolved configuration slotgate runs with (defaults < YAML file < SLOTGATE_* env < CLI flags). */
export interface SlotgateConfig {
  /** Seed nodes as host:port (DNS names allowed); re-resolved on every topology refresh. */
  seeds: string[];
  /** Address the RESP listener binds to. */
  bind: string;
  /** RESP listener port (0 = pick a free port; used by tests). */
  port: number;
  /** Worker processes sharing the RESP port (node:cluster); 1: slotgate runs in one process, no workers. */
  threads: number;
  /** Credentials slotgate uses towards the Redis nodes (never the clients' ones). */
  backendUser?: string;
  backendPassword?: string;
  /** Password clients must give with AUTH / HELLO AUTH before anything else. */
  requirepass?: string;
  /** Users clients can authenticate as (besides `default`, whose password is `requirepass`). */
  users: UserConfig[];
  /** End-to-end microseconds from which a request is logged in slotgate's SLOWLOG (0: every request). */
  slowlogLogSlowerThanUs: number;
  /** Entries SLOWLOG keeps (0: none). */
  slowlogMaxLen: number;
  /** Shared pipelined connections per master node. */
  connectionsPerNode: number;
  /** Most dedicated node connections lent to clients at once (transactions, blocking, pub/sub). */
  privateLinksMax: number;
  /** Idle dedicated connections kept open per master, ready to lend. */
  privateLinksIdle: number;
  /** Periodic topology refresh interval, milliseconds. */
  refreshIntervalMs: number;
  /** Deadline of one request at the nodes (including redirect and TRYAGAIN retries), milliseconds. */
  requestTimeoutMs: number;
  /** TCP connect timeout towards a node, milliseconds. */
  connectTimeoutMs: number;
  /** MOVED/ASK hops allowed for one request before the client gets an error. */
  maxRedirects: number;
  /** pino level: fatal, error, warn, info, debug, trace, silent. */
  logLevel: string;
  /** Largest bulk string a client may send, bytes (Redis' proto-max-bulk-len). */
  protoMaxBulkLen: number;
  /** Most arguments in one multibulk request. */
  maxArgs: number;
  /** Most bytes of one client's unparsed input (Redis' client-query-buffer-limit). */
  clientQueryBufferLimit: number;
  /** Most requests one client may have in flight before slotgate stops reading from it. */
  clientMaxPending: number;
  /** Reply bytes a slow reader may have waiting, per client class (Redis' client-output-buffer-limit syntax). */
  clientOutputBufferLimit: string;
  /** A client idle this long is closed, milliseconds (0: never). */
  clientIdleTimeoutMs: number;
  /** Requests in flight on one node connection before the clients sending to it stop being read. */
  nodeMaxPending: number;
  /** TCP keepalive idle time on every connection, milliseconds (0: off). */
  tcpKeepaliveMs: number;
  /** Most client connections at once (then `-ERR max number of clients reached`). */
  maxClients: number;
  /** Multi-key commands (MGET, MSET, DEL, ...) across slots: `split` per slot and merge, or `reject` with CROSSSLOT. */
  crossSlot: 'split' | 'reject';
  /** Lets administrative commands (CONFIG SET, ACL SETUSER, BGSAVE, ...) through, broadcast to every master. */
  adminCommands: boolean;
  /** Address slotgate reports to cluster-aware clients (CLUSTER SLOTS/SHARDS/NODES); default: the address the client connected to. */
  announceHost?: string;
  announcePort?: number;
  /** TLS listener port, in addition to `port` (0 = any free port); unset: no TLS listener. */
  tlsPort?: number;
  /** No plain listener: clients connect on `tls-port` only. */
  tlsOnly: boolean;
  /** TLS versions the listener accepts, Redis' syntax: `TLSv1.2 TLSv1.3`. */
  tlsProtocols: string;
  /** PEM files of the TLS listener: its certificate (chain), key, and the CA that signs client certificates. */
  tlsCertFile?: string;
  tlsKeyFile?: string;
  tlsCaCertFile?: string;
  /** Client certificates on the TLS port: `yes` required, `optional` checked when given, `no` not asked for (Redis' tls-auth-clients). */
  tlsAuthClients: 'no' | 'optional' | 'yes';
  /** TLS on every connection to the nodes. */
  backendTls: boolean;
  /** PEM files towards the nodes: the CA their certificates are checked against, and slotgate's client certificate and key. */
  backendTlsCaCertFile?: string;
  backendTlsCertFile?: string;
  backendTlsKeyFile?: string;
  /** SNI name sent to the nodes and the name their certificates must carry (default: the node's host). */
  backendTlsServername?: string;
  /** Check that a node's certificate names the host (or `backend-tls-servername`); the chain is always checked. */
  backendTlsVerifyHostname: 'yes' | 'no';
  /** SIGTERM/SIGINT: milliseconds /readyz fails while clients are still served, before the listeners close. */
  drainDelayMs: number;
  /** SIGTERM/SIGINT: milliseconds from the signal to the exit at most; clients still open then are cut. */
  drainTimeoutMs: number;
  /** Whether the admin HTTP listener (/metrics, /livez, /readyz) runs. */
  adminEnabled: boolean;
  /** Admin HTTP port; 0 = any free port (tests). */
  adminPort: number;
  /** Address the admin HTTP listener binds to. */
  adminBind: string;
}
