/**
 * Finds a value by a name given as bytes in a buffer, ignoring ASCII letter case, without
 * building a string: the per-request command lookup. Names are bucketed by (length, first
 * byte, last byte), which leaves one candidate for nearly every Redis command name.
 */
export class ByteNameIndex<T> {
  private readonly buckets = new Map<number, { name: Uint8Array; value: T }[]>();

  add(name: string, value: T): void {
    const bytes = Buffer.from(name.toLowerCase(), 'latin1');
    if (bytes.length === 0) return;
    const key = bucketKey(bytes, 0, bytes.length);
    const bucket = this.buckets.get(key);
    if (bucket === undefined) this.buckets.set(key, [{ name: bytes, value }]);
    else bucket.push({ name: bytes, value });
  }

  find(buf: Uint8Array, start: number, end: number): T | undefined {
    if (end <= start) return undefined;
    const bucket = this.buckets.get(bucketKey(buf, start, end));
    if (bucket === undefined) return undefined;
    for (let b = 0; b < bucket.length; b++) {
      const name = bucket[b].name;
      let i = 1;
      while (i < name.length && lower(buf[start + i]) === name[i]) i++;
      if (i >= name.length) return bucket[b].value;
    }
    return undefined;
  }
}

function lower(c: number): number {
  return c >= 65 && c <= 90 ? c | 0x20 : c;
}

function bucketKey(buf: Uint8Array, start: number, end: number): number {
  return ((end - start) << 16) | (lower(buf[start]) << 8) | lower(buf[end - 1]);
}
