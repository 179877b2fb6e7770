import { describe, expect, it } from 'vitest';
import { PrimaryAdmin } from '../../../src/workers/primary-admin.js';
import type { Primary, WorkerSlot } from '../../../src/workers/primary.js';
import type { Answer, WorkerReadiness } from '../../../src/workers/messages.js';

/** A primary whose workers answer readiness with `answers` (undefined: no answer; null: no worker there). */
function fakePrimary(answers: (WorkerReadiness | undefined | null)[], draining = false): Primary {
  const slots = answers.map(
    (answer, index): WorkerSlot => ({
      index,
      worker: answer === null ? null : ({ process: { pid: 1000 + index } } as WorkerSlot['worker']),
      started: answer !== null,
      forkedAt: 0,
      quickCrashes: 0,
      restartTimer: null,
    }),
  );
  const fake = {
    slots,
    draining,
    restarts: 0,
    get aliveCount() {
      return slots.filter((s) => s.worker !== null).length;
    },
    ask: async (slot: WorkerSlot): Promise<Answer | null> => {
      const readiness = answers[slot.index];
      return readiness === undefined || readiness === null ? null : { type: 'slotgate:readiness-reply', id: 0, readiness };
    },
  };
  return fake as unknown as Primary;
}

const READY = { ready: true, coveredSlots: 16384 };

describe('PrimaryAdmin readiness', () => {
  it('is ready when every worker is, with the lowest covered slots', async () => {
    const admin = new PrimaryAdmin(fakePrimary([READY, { ready: true, coveredSlots: 16384 }]));
    expect(await admin.readiness()).toMatchObject({ ready: true, coveredSlots: 16384, workers: [{ worker: 0, pid: 1000 }, { worker: 1, pid: 1001 }] });
  });

  it('names each worker that is not ready and why: its own reason, no answer, not running', async () => {
    const admin = new PrimaryAdmin(
      fakePrimary([READY, { ready: false, reason: 'master unreachable', coveredSlots: 10923 }, undefined, null]),
    );
    const readiness = await admin.readiness();
    expect(readiness.ready).toBe(false);
    expect(readiness.reason).toBe('worker not ready: 1 (master unreachable), 2 (no answer), 3 (not running)');
    expect(readiness.coveredSlots).toBe(0); // workers 2 and 3 said nothing: nothing is known to be covered
  });

  it('is not ready while draining, whatever the workers say', async () => {
    const readiness = await new PrimaryAdmin(fakePrimary([READY, READY], true)).readiness();
    expect(readiness).toMatchObject({ ready: false, reason: 'draining' });
  });

  it('says slotgate_workers, restarts and slotgate_ready on /metrics with no worker answering', async () => {
    const metrics = await new PrimaryAdmin(fakePrimary([null, null])).metrics();
    expect(metrics).toMatch(/^slotgate_workers 0$/m);
    expect(metrics).toMatch(/^slotgate_worker_restarts_total 0$/m);
    expect(metrics).toMatch(/^slotgate_ready 0$/m);
  });
});
