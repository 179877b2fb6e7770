/**
 * A millisecond clock updated by a timer, so stamping every request costs a property read
 * instead of a Date.now() call. Resolution: TICK_MS.
 */
const TICK_MS = 50;

export const clock = { now: Date.now() };

let timer: NodeJS.Timeout | null = null;
let users = 0;

/** Starts the clock (reference counted); the returned function stops this use of it. */
export function useClock(): () => void {
  users++;
  if (timer === null) {
    clock.now = Date.now();
    timer = setInterval(() => {
      clock.now = Date.now();
    }, TICK_MS);
    timer.unref();
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--users === 0 && timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  };
}
