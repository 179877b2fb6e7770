import { afterEach } from 'vitest';

type Step = () => Promise<void> | void;

/**
 * Returns a function that registers clean-up steps (stop a proxy, close a node, destroy a
 * socket); after each test they run newest first. Call once at module level.
 */
export function cleanupAfterEach(): (...steps: Step[]) => void {
  const steps: Step[] = [];
  afterEach(async () => {
    for (const step of steps.splice(0).reverse()) await step();
  });
  return (...more) => void steps.push(...more);
}
