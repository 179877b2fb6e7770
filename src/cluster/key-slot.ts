/** Hash slots of Redis Cluster: CRC16 (XMODEM) of the key, or of its {hash tag}, modulo 16384. */

export const SLOT_COUNT = 16384;

const TABLE = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let crc = i << 8;
  for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  TABLE[i] = crc;
}

/**
 * The slot of the key stored in buf[start, end), read in place (no copy, no string). When the key
 * holds a `{` followed later by a `}` with at least one byte between them, only those bytes count.
 * One pass: the CRC runs while looking for the `{`, and starts over on the tag only if there is
 * one (keys rarely have tags; a separate search pass cost a third of the time).
 */
export function slotOfKey(buf: Uint8Array, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c === 0x7b) {
      let close = i + 1;
      while (close < end && buf[close] !== 0x7d) close++;
      if (close < end && close > i + 1) return crc16From(0, buf, i + 1, close) & (SLOT_COUNT - 1);
      return crc16From(crc, buf, i, end) & (SLOT_COUNT - 1);
    }
    crc = ((crc << 8) & 0xff00) ^ TABLE[((crc >> 8) ^ c) & 0xff];
  }
  return crc & (SLOT_COUNT - 1);
}

/** Continues a CRC16 (XMODEM) over buf[start, end). */
function crc16From(crc: number, buf: Uint8Array, start: number, end: number): number {
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xff00) ^ TABLE[((crc >> 8) ^ buf[i]) & 0xff];
  return crc;
}

/** The slot of a key given as a string (UTF-8) or buffer. */
export function slotOf(key: string | Uint8Array): number {
  const bytes = typeof key === 'string' ? Buffer.from(key) : key;
  return slotOfKey(bytes, 0, bytes.length);
}
