/** Client-side byte and error counts of one proxy, shared by its sessions (plain fields: the hot path adds to them). */
export interface ClientTraffic {
  /** Bytes read from clients. */
  bytesIn: number;
  /** Bytes written to clients. */
  bytesOut: number;
  /** Clients closed for malformed input. */
  protocolErrors: number;
}

export function newClientTraffic(): ClientTraffic {
  return { bytesIn: 0, bytesOut: 0, protocolErrors: 0 };
}
