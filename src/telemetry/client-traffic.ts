/** Client-side byte and error counts of one proxy, shared by its sessions (plain fields: the hot path adds to them). */
export interface ClientTraffic {
  /** Bytes read from clients. */
  bytesIn: number;
  /** Bytes written to clients. */
  bytesOut: number;
  /** Clients closed for malformed input. */
  protocolErrors: number;
  /** Clients closed for holding more reply bytes than client-output-buffer-limit allows. */
  outputLimitCloses: number;
  /** Clients closed after client-idle-timeout without a request. */
  idleCloses: number;
}

export function newClientTraffic(): ClientTraffic {
  return { bytesIn: 0, bytesOut: 0, protocolErrors: 0, outputLimitCloses: 0, idleCloses: 0 };
}
