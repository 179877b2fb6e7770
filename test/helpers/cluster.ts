// Access to the cluster that test/helpers/global-setup.ts starts once per run.

import { inject } from 'vitest';

export { masterPorts, startLocalCluster, waitForClusterOk } from '../../src/tools/local-cluster.js';
export type { LocalCluster } from '../../src/tools/local-cluster.js';

/** host:port of every node (masters and replicas) of the shared cluster. */
export function sharedClusterSeeds(): string[] {
  return inject('clusterSeeds');
}
