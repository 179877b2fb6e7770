// The pod-churn simulation (bench/churn/sim.ts): 6 Redis "pods" in network namespaces running the
// StatefulSet's start.sh, the cluster formed by create-cluster.sh, cluster DNS from dnsmasq,
// slotgate and a client load in a client namespace; what Kubernetes does to Redis pods, each
// with the load running. After each scenario slotgate must serve every slot again within
// node-timeout + 2 s of the fault, or Redis' own convergence + 2 s when Redis took longer, with
// client errors only within that window, and every acknowledged write must read back.
// Needs root (ip netns) and Debian's dnsmasq-base (scripts/setup.sh and .ci/run install it).
// About 70 s; `npm run churn` runs it alone.

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defaultChurnOptions, runChurn } from '../../bench/churn/sim.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
describe('pod churn in network namespaces (needs root)', () => {
  it('slotgate rides out pods deleted, failed over, all moved and hung', { timeout: 240_000 }, async () => {
    // Not skipped without root: it fails and says why (the README's test command runs as root).
    expect(process.getuid?.(), 'the pod-churn simulation needs root (ip netns)').toBe(0);
    const lines: string[] = [];
    const { results, ms } = await runChurn(defaultChurnOptions(root, (l) => {
      lines.push(l);
      console.log(l);
    }));
    expect(results.map((r) => r.id)).toEqual(['a', 'b', 'c', 'd', 'e']);
    for (const r of results) {
      expect(r.failures, `scenario ${r.id}: ${r.title}\n${lines.join('\n')}`).toEqual([]);
      expect(r.lost).toBe(0);
      expect(r.checked).toBe(r.acked);
      expect(r.recoveryMs).toBeLessThanOrEqual(r.boundMs);
    }
    // The manual failover is clean: no error, no stall.
    expect(results.find((r) => r.id === 'c')?.errors).toBe(0);
    expect(ms).toBeLessThan(180_000);
  });
});
