import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  clusterStatus,
  masterPorts,
  startLocalCluster,
  type LocalCluster,
} from '../../src/tools/local-cluster.js';
import { sharedClusterSeeds } from '../helpers/cluster.js';
import { pidAlive as pidExists } from '../../bench/support/child.js';

// Its own cluster, beside the shared one; ports below 22768 keep the bus ports (+10000) out of the
// kernel's ephemeral range, where a client connection could already hold them.
const BASE_PORT = Number(process.env.SLOTGATE_TEST_BASE_PORT ?? 21001) + 100;


describe('local cluster', () => {
  let dir: string;
  let cluster: LocalCluster | undefined;

  afterAll(async () => {
    await cluster?.stop();
    if (dir) await fsp.rm(dir, { recursive: true, force: true });
  });

  it('starts a healthy 3+3 cluster, reports its status and stops every node', async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'slotgate-local-cluster-test-'));
    cluster = await startLocalCluster({ masters: 3, replicasPerMaster: 1, basePort: BASE_PORT, dir });

    expect(cluster.seeds).toEqual([0, 1, 2, 3, 4, 5].map((i) => `127.0.0.1:${BASE_PORT + i}`));
    expect(cluster.nodes.every((n) => pidExists(n.pid))).toBe(true);

    const status = await clusterStatus(dir);
    expect(status).toHaveLength(6);
    expect(status.every((n) => n.alive && n.clusterState === 'ok')).toBe(true);
    const masters = status.filter((n) => n.role === 'master');
    expect(masters).toHaveLength(3);
    expect(status.filter((n) => n.role === 'replica')).toHaveLength(3);
    expect(masters.reduce((sum, n) => sum + (n.slots ?? 0), 0)).toBe(16384);
    expect(await masterPorts(cluster)).toEqual(masters.map((n) => n.port).sort((a, b) => a - b));

    const pids = cluster.nodes.map((n) => n.pid);
    await cluster.stop();
    cluster = undefined;
    expect(pids.filter(pidExists)).toEqual([]);
    expect(await clusterStatus(dir)).toEqual([]); // pid file gone too
  });

  it('starts a one-node cluster owning every slot (benchmarks against one master), and refuses 2 masters', async () => {
    const oneDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'slotgate-local-cluster-test-'));
    try {
      const start = (masters: number, replicasPerMaster: number) => startLocalCluster({ masters, replicasPerMaster, basePort: BASE_PORT, dir: oneDir });
      await expect(start(2, 0)).rejects.toThrow(/masters must be/);
      await expect(start(1, 1)).rejects.toThrow(/masters must be/);
      cluster = await start(1, 0);
      const status = await clusterStatus(oneDir);
      expect(status.map((n) => [n.alive, n.role, n.slots, n.clusterState])).toEqual([[true, 'master', 16384, 'ok']]);
      const pid = cluster.nodes[0].pid;
      await cluster.stop();
      cluster = undefined;
      expect(pidExists(pid)).toBe(false);
    } finally {
      await fsp.rm(oneDir, { recursive: true, force: true });
    }
  });

  it('shares the global-setup cluster with every test file', async () => {
    const seeds = sharedClusterSeeds();
    expect(seeds).toHaveLength(6);
    expect(await masterPorts(seeds)).toHaveLength(3);
  });
});
