// Vitest globalSetup: one shared 3-master/3-replica cluster for the whole run, so integration
// tests do not each pay the few seconds a cluster takes to form. Tests get its seeds with
// sharedClusterSeeds() from ./cluster.js. Tests that break the cluster (failover, killing
// nodes) should start their own with startLocalCluster on other ports instead.

import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startLocalCluster } from '../../src/tools/local-cluster.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** host:port of every node of the shared cluster. */
    clusterSeeds: string[];
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Overridable so a developer's run does not collide with another run (or CI) on this machine.
  const basePort = Number(process.env.SLOTGATE_TEST_BASE_PORT ?? 21001);
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'slotgate-test-cluster-'));
  const cluster = await startLocalCluster({ masters: 3, replicasPerMaster: 1, basePort, dir });
  project.provide('clusterSeeds', cluster.seeds);

  return async () => {
    await cluster.stop();
    await fsp.rm(dir, { recursive: true, force: true });
  };
}
