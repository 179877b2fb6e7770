#!/usr/bin/env node
// Start, stop or inspect a local Redis Cluster for trying slotgate by hand:
//   node dist/src/tools/local-cluster-cli.js start|stop|status
//        [--masters 3] [--replicas 1] [--base-port 7001] [--dir .slotgate/cluster] [--host 127.0.0.1]
// `start` leaves the nodes running in the background and exits; `stop` finds them again through
// DIR/pids.json, so the two can be separate invocations (or separate shells).

import { parseArgs } from 'node:util';
import { clusterStatus, startLocalCluster, stopLocalCluster } from './local-cluster.js';

const USAGE = `usage: local-cluster-cli start|stop|status [options]

  --masters N      masters (default 3, at least 3; or 1 with --replicas 0)
  --replicas N     replicas per master (default 1)
  --base-port P    first node port; nodes use P, P+1, ... (default 7001)
  --dir DIR        pid file, data and logs (default .slotgate/cluster)
  --host ADDR      address to bind and announce (default 127.0.0.1)
`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      masters: { type: 'string', default: '3' },
      replicas: { type: 'string', default: '1' },
      'base-port': { type: 'string', default: '7001' },
      dir: { type: 'string', default: '.slotgate/cluster' },
      host: { type: 'string', default: '127.0.0.1' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const command = positionals[0];
  if (values.help || positionals.length !== 1 || !['start', 'stop', 'status'].includes(command)) {
    process.stderr.write(USAGE);
    return values.help ? 0 : 2;
  }
  const dir = values.dir;

  if (command === 'stop') {
    await stopLocalCluster(dir);
    console.log(`stopped the cluster in ${dir} (if any was running)`);
    return 0;
  }

  if (command === 'status') {
    const nodes = await clusterStatus(dir);
    if (nodes.length === 0) {
      console.log(`no cluster recorded in ${dir}`);
      return 1;
    }
    const rows = [
      ['NODE', 'PID', 'ALIVE', 'ROLE', 'SLOTS', 'CLUSTER_STATE'],
      ...nodes.map((n) => [
        `${n.host}:${n.port}`,
        String(n.pid),
        n.alive ? 'yes' : 'no',
        n.role ?? '-',
        n.slots === undefined ? '-' : String(n.slots),
        n.clusterState ?? '-',
      ]),
    ];
    const widths = rows[0].map((_, col) => Math.max(...rows.map((r) => r[col].length)));
    for (const r of rows) console.log(r.map((cell, col) => cell.padEnd(widths[col])).join('  ').trimEnd());
    // Non-zero unless everything is up, so scripts can use `status` as a health check.
    return nodes.every((n) => n.alive && n.clusterState === 'ok') ? 0 : 1;
  }

  const masters = intOption('masters', values.masters);
  const replicas = intOption('replicas', values.replicas);
  const cluster = await startLocalCluster({
    masters,
    replicasPerMaster: replicas,
    basePort: intOption('base-port', values['base-port']),
    dir,
    host: values.host,
    detached: true, // the nodes must outlive this command
  });
  console.log(`cluster ready: ${masters} masters, ${replicas} replica(s) each, files in ${dir}`);
  console.log(`stop it with: node dist/src/tools/local-cluster-cli.js stop --dir ${dir}`);
  console.log(`seeds: ${cluster.seeds.join(' ')}`);
  return 0;
}

function intOption(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new Error(`--${name} must be an integer, got "${value}"`);
  return n;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`local-cluster: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
