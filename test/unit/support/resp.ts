/** Test-side RESP encoding, written independently of the code under test. */

export type Arg = string | Buffer;

export function toBuffer(arg: Arg): Buffer {
  return typeof arg === 'string' ? Buffer.from(arg, 'latin1') : arg;
}

/** A RESP multibulk request (array of bulk strings). */
export function multibulk(...args: Arg[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = toBuffer(arg);
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** The latin1 bytes of a string: each char code 0..255 is one byte. */
export function bytes(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

/** Every byte value 0..255, in order. */
export function allByteValues(): Buffer {
  const out = Buffer.alloc(256);
  for (let i = 0; i < 256; i++) out[i] = i;
  return out;
}

/**
 * A parsed request as the routing code receives it: the buffer, the argument count and the
 * [start, end) offsets of every argument. Junk bytes (braces included) surround the frame so that
 * code reading past its offsets notices.
 */
export interface RequestView {
  buf: Buffer;
  argc: number;
  args: Int32Array;
}

export function requestView(...parts: Arg[]): RequestView {
  const prefix = bytes('junk{x}');
  const frame = multibulk(...parts);
  const buf = Buffer.concat([prefix, frame, bytes('{y}junk')]);
  const args = new Int32Array(parts.length * 2);
  let pos = prefix.length + `*${parts.length}\r\n`.length;
  parts.forEach((part, i) => {
    const len = toBuffer(part).length;
    pos += `$${len}\r\n`.length;
    args[i * 2] = pos;
    args[i * 2 + 1] = pos + len;
    pos += len + 2;
  });
  return { buf, argc: parts.length, args };
}
