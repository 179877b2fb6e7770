/** Something with buffered output to write once the current event-loop turn is done. */
export interface Flushable {
  flushQueued: boolean;
  flush(): void;
}

let dirty: Flushable[] = [];
let spare: Flushable[] = [];
let scheduled = false;

/**
 * Queues `target.flush()` for the check phase of this event-loop turn, once. Every socket read
 * in the same turn (many clients' requests, many nodes' replies) lands in one write per socket.
 */
export function scheduleFlush(target: Flushable): void {
  if (target.flushQueued) return;
  target.flushQueued = true;
  dirty.push(target);
  if (!scheduled) {
    scheduled = true;
    setImmediate(runFlushes);
  }
}

function runFlushes(): void {
  scheduled = false;
  const batch = dirty;
  dirty = spare;
  for (let i = 0; i < batch.length; i++) {
    const target = batch[i];
    target.flushQueued = false;
    target.flush();
  }
  batch.length = 0;
  spare = batch;
}
