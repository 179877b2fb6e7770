import type { ProxyServer } from '../proxy/server.js';
import type { ClusterNode } from '../upstream/cluster-node.js';
import { decideReadiness, readinessInput, type Readiness } from './readiness.js';

/**
 * One proxy's readiness now: every slot served by a reachable master, not draining. Also asks
 * the masters' idle links to (re)connect (see ClusterNode.checkReachable), so a probe notices a
 * master that died or came back without client traffic.
 */
export function proxyReadiness(proxy: ProxyServer): Readiness {
  const router = proxy.router;
  const masters = router.currentMasters();
  const reachable = new Set<ClusterNode>();
  for (const master of masters) if (master.checkReachable()) reachable.add(master);
  return decideReadiness(readinessInput(proxy.draining, (slot) => router.ownerOf(slot), masters, reachable));
}
