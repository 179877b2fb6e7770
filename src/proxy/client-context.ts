/** What a locally answered command may read or change of the client that sent it. */
export interface ClientContext {
  readonly id: number;
  /** CLIENT SETNAME / HELLO SETNAME. */
  name: string | null;
  libName: string;
  libVersion: string;
  /** False until AUTH succeeds when a proxy password is configured. */
  authenticated: boolean;
  readonly server: ServerContext;
  /** Close this client once the reply being built has been written (QUIT). */
  closeAfterReply(): void;
}

/** Proxy-wide facts local commands need. */
export interface ServerContext {
  readonly requirepass: string | undefined;
  /** Version of the Redis nodes behind slotgate (HELLO reports it). */
  readonly redisVersion: string;
  /** Lines for `PROXY INFO`, in INFO format. */
  proxyInfo(): string;
}
