import { SLOT_COUNT } from '../cluster/key-slot.js';

/** What readiness is decided from: each slot's master (or none) and whether that master is reachable. */
export interface ReadinessInput {
  draining: boolean;
  /** Slots whose master in the current map is reachable (its shared links are not lost). */
  reachableSlots: number;
  /** Masters in the map whose shared links are lost and not connected again. */
  unreachableMasters: string[];
}

export type Readiness =
  | { ready: true; coveredSlots: number }
  | { ready: false; reason: string; coveredSlots: number; unreachableMasters?: string[] };

/**
 * Ready when every one of the 16384 slots has a reachable master and the proxy is not
 * draining. A pure decision, so the rules are unit-tested without a cluster.
 */
export function decideReadiness(input: ReadinessInput): Readiness {
  if (input.draining) return { ready: false, reason: 'draining', coveredSlots: input.reachableSlots };
  if (input.reachableSlots < SLOT_COUNT) {
    const reason = input.unreachableMasters.length > 0 ? 'master unreachable' : 'slots not covered';
    const answer: Readiness = { ready: false, reason, coveredSlots: input.reachableSlots };
    if (input.unreachableMasters.length > 0) answer.unreachableMasters = input.unreachableMasters;
    return answer;
  }
  return { ready: true, coveredSlots: input.reachableSlots };
}

/**
 * Counts the slots served by reachable masters: `ownerOf(slot)` for every slot (16384 array
 * reads and set lookups per probe: cheap next to a probe's HTTP exchange).
 */
export function readinessInput<M extends { readonly address: string }>(
  draining: boolean,
  ownerOf: (slot: number) => M | null,
  masters: readonly M[],
  reachable: ReadonlySet<M>,
): ReadinessInput {
  let reachableSlots = 0;
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    const owner = ownerOf(slot);
    if (owner !== null && reachable.has(owner)) reachableSlots++;
  }
  const unreachableMasters = masters.filter((m) => !reachable.has(m)).map((m) => m.address);
  return { draining, reachableSlots, unreachableMasters };
}
