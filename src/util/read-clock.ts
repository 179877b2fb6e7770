/**
 * The time of the latest socket read (client or node), in performance.now() milliseconds: read
 * once per read callback, not per request, so timing every request costs a property read. A
 * request read in a chunk starts at that chunk's read; it ends at the read that brought the
 * reply that completed it (or a later one). The slow log measures with it.
 */
export const readClock = { now: 0 };

/** Stamps the clock; call at the start of each socket read callback. */
export function tickReadClock(): void {
  readClock.now = performance.now();
}
