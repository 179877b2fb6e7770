import { describe, expect, it } from 'vitest';
import { PendingQueue, type PendingReply } from '../../../src/upstream/pending.js';

/** A pending reply that records what it was given. */
function entry(deadline: number): PendingReply & { answers: string[] } {
  const answers: string[] = [];
  return {
    answers,
    deadline,
    retryable: true,
    complete: (buf, start, end) => void answers.push(buf.toString('latin1', start, end)),
    fail: (reply) => void answers.push(reply.toString()),
    sentFrom() {},
    resendAfterLoss: () => false,
    giveUp(reply) {
      if (answers.length > 0) return false;
      answers.push(reply.toString());
      return true;
    },
  };
}

const TIMEOUT = Buffer.from('-ERR slotgate: upstream timeout\r\n');

describe('PendingQueue', () => {
  it('keeps FIFO order across growth, with the queue time of the head', () => {
    const q = new PendingQueue();
    const items = Array.from({ length: 200 }, (_, i) => entry(1000 + i));
    items.forEach((item, i) => q.push(item, i));
    expect(q.oldestTime()).toBe(0);
    for (let i = 0; i < 150; i++) expect(q.shift()).toBe(items[i]);
    expect(q.oldestTime()).toBe(150);
    expect(q.length).toBe(50);
    expect(q.unordered).toBe(false);
  });

  it('marks a queue whose deadlines are out of order and fails only the late entries, once', () => {
    const q = new PendingQueue();
    const fresh = entry(5000);
    const resent = entry(1000); // sent again after a lost connection: its deadline is older
    const asking = entry(Infinity); // what comes before a request carries no deadline of its own
    q.push(fresh, 0);
    q.push(asking, 0);
    q.push(resent, 0);
    expect(q.unordered).toBe(true);
    expect(q.failLate(500, TIMEOUT)).toBe(0);
    expect(q.failLate(1500, TIMEOUT)).toBe(1);
    expect(resent.answers).toEqual([TIMEOUT.toString()]);
    expect(fresh.answers).toEqual([]);
    // Failed entries stay queued so later replies still match their requests.
    expect(q.length).toBe(3);
    expect(q.failLate(2000, TIMEOUT)).toBe(0);
    q.shift();
    q.shift();
    q.shift();
    expect(q.unordered).toBe(false);
  });

  it('stays ordered when deadlines only grow, also around entries without one', () => {
    const q = new PendingQueue();
    q.push(entry(10), 0);
    q.push(entry(Infinity), 0);
    q.push(entry(10), 0);
    q.push(entry(20), 0);
    expect(q.unordered).toBe(false);
  });
});
