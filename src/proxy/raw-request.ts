import type { CommandSpec } from './commands/table.js';

/** A request as the scanner hands it over: its bytes are valid during the call only. */
export interface RawRequest {
  spec: CommandSpec;
  buf: Buffer;
  start: number;
  end: number;
  argc: number;
  args: Int32Array;
}

/**
 * The request's bytes and argument offsets in buffers of its own, for dispatching it later (the
 * read buffer it came in is reused by the next read).
 */
export function copyRawRequest(r: RawRequest): RawRequest {
  const args = new Int32Array(r.argc * 2);
  for (let i = 0; i < r.argc * 2; i++) args[i] = r.args[i] - r.start;
  return { spec: r.spec, buf: Buffer.from(r.buf.subarray(r.start, r.end)), start: 0, end: r.end - r.start, argc: r.argc, args };
}
