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
 */
export function slotOfKey(buf: Uint8Array, start: number, end: number): number {
  let from = start;
  let to = end;
  for (let i = start; i < end; i++) {
    if (buf[i] === 0x7b) {
      for (let j = i + 1; j < end; j++) {
        if (buf[j] === 0x7d) {
          if (j > i + 1) {
            from = i + 1;
            to = j;
          }
          break;
        }
      }
      break;
    }
  }
  let crc = 0;
  for (let i = from; i < to; i++) crc = ((crc << 8) & 0xff00) ^ TABLE[((crc >> 8) ^ buf[i]) & 0xff];
  return crc & (SLOT_COUNT - 1);
}

/** The slot of a key given as a string (UTF-8) or buffer. */
export function slotOf(key: string | Uint8Array): number {
  const bytes = typeof key === 'string' ? Buffer.from(key) : key;
  return slotOfKey(bytes, 0, bytes.length);
}
