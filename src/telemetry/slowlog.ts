import { decodeReply } from '../resp/reply-reader.js';

/** One slow request, as SLOWLOG GET shows it (with the node that served it added). */
export interface SlowEntry {
  id: number;
  /** Unix time in seconds when it was logged. */
  time: number;
  durationUs: number;
  args: Buffer[];
  clientAddress: string;
  clientName: string;
  node: string;
}

/** Redis' SLOWLOG_ENTRY_MAX_ARGC and SLOWLOG_ENTRY_MAX_STRING. */
const MAX_ARGS = 32;
const MAX_ARG_BYTES = 128;

/**
 * slotgate's own slow log: requests whose end-to-end time through slotgate (read from the
 * client to reply ready for it) reached `slowlog-log-slower-than` microseconds, newest first,
 * at most `slowlog-max-len` of them. Arguments are cut as Redis cuts them.
 */
export class SlowLog {
  private entries: SlowEntry[] = [];
  private nextId = 0;

  constructor(public maxLen: number) {}

  get length(): number {
    return this.entries.length;
  }

  /** Records one request from its original RESP bytes. */
  record(request: Buffer, durationUs: number, clientAddress: string, clientName: string, node: string): void {
    if (this.maxLen <= 0) return;
    this.entries.unshift({
      id: this.nextId++,
      time: Math.floor(Date.now() / 1000),
      durationUs: Math.round(durationUs),
      args: shownArgs(request),
      clientAddress,
      clientName,
      node,
    });
    if (this.entries.length > this.maxLen) this.entries.length = this.maxLen;
  }

  /** The newest `count` entries (all with a negative count). */
  newest(count: number): SlowEntry[] {
    return count < 0 ? [...this.entries] : this.entries.slice(0, count);
  }

  reset(): void {
    this.entries = [];
  }

  /** Applies a new max-len at once (as Redis trims on CONFIG SET). */
  setMaxLen(maxLen: number): void {
    this.maxLen = maxLen;
    if (this.entries.length > maxLen) this.entries.length = Math.max(0, maxLen);
  }
}

/** Arguments as Redis keeps them: at most 32 (the last says how many more), each at most 128 bytes. */
function shownArgs(request: Buffer): Buffer[] {
  let args: Buffer[];
  try {
    const decoded = request[0] === 0x2a ? decodeReply(request, 0) : null;
    args = Array.isArray(decoded)
      ? decoded.map((a) => (Buffer.isBuffer(a) ? a : Buffer.from(String(a))))
      : request.toString('latin1').trim().split(/\s+/).map((w) => Buffer.from(w, 'latin1')); // an inline request
  } catch {
    args = [];
  }
  const shown = args.length > MAX_ARGS ? args.slice(0, MAX_ARGS - 1) : args;
  const out = shown.map((a) => (a.length > MAX_ARG_BYTES ? Buffer.concat([a.subarray(0, MAX_ARG_BYTES), Buffer.from(`... (${a.length - MAX_ARG_BYTES} more bytes)`)]) : a));
  if (args.length > MAX_ARGS) out.push(Buffer.from(`... (${args.length - MAX_ARGS + 1} more arguments)`));
  return out;
}
