// A throwaway Redis Cluster on this machine, for the demo, the integration tests and the
// benchmarks. Every node is a plain `redis-server` child process; the cluster is formed with
// `redis-cli --cluster create`, and we only return once every node agrees it is healthy, so a
// caller never races the gossip that follows `create`.
//
// Nodes are queried with redis-cli rather than a client library: redis-cli is needed anyway for
// `--cluster create`, and this file ships in dist/src where devDependencies (ioredis) are absent.

import { spawn, execFile, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LocalClusterOptions {
  /** Number of masters: 3 or more (redis-cli's minimum), or 1 without replicas (one node owning every slot). Default 3. */
  masters?: number;
  /** Replicas per master. Default 1. */
  replicasPerMaster?: number;
  /** Nodes listen on basePort, basePort+1, … */
  basePort: number;
  /** Working directory: DIR/pids.json and one data/log folder DIR/PORT per node. */
  dir: string;
  /** Address the nodes bind to and announce. Default 127.0.0.1. */
  host?: string;
  /** cluster-node-timeout; low so failover tests are quick. Default 2000. */
  nodeTimeoutMs?: number;
  /** Appended to every redis-server command line. */
  extraArgs?: string[];
  /** Protects every node with this password (requirepass + masterauth); this module's own redis-cli calls use it. */
  password?: string;
  /**
   * TLS only: every node listens with TLS on its port (plain port off), and speaks TLS on the
   * cluster bus and to its master. PEM files; the certificate must suit both a server and a
   * client (nodes connect to each other with it), and clients must show one the CA signed.
   */
  tls?: LocalClusterTls;
  /** Let the nodes outlive this process (own process group, unref'd), as the CLI needs. */
  detached?: boolean;
  /** Bound on the whole start, from spawn to an agreed healthy cluster. Default 30000. */
  startTimeoutMs?: number;
}

export interface LocalClusterTls {
  certFile: string;
  keyFile: string;
  caFile: string;
}

export interface LocalClusterNode {
  host: string;
  port: number;
  pid: number;
}

export interface LocalCluster {
  nodes: LocalClusterNode[];
  /** host:port of every node. */
  seeds: string[];
  dir: string;
  /** SIGTERM every node, SIGKILL what is left after 5 s; resolves when all are gone. */
  stop(): Promise<void>;
}

export interface NodeStatus {
  host: string;
  port: number;
  pid: number;
  alive: boolean;
  /** Undefined when the node does not answer. */
  role?: 'master' | 'replica';
  clusterState?: string;
  /** Slots this node owns, as it sees itself. */
  slots?: number;
}

interface PidFile {
  host: string;
  nodes: LocalClusterNode[];
}

const PID_FILE = 'pids.json';
const STOP_GRACE_MS = 5_000;

export async function startLocalCluster(opts: LocalClusterOptions): Promise<LocalCluster> {
  const masters = opts.masters ?? 3;
  const replicas = opts.replicasPerMaster ?? 1;
  const host = opts.host ?? '127.0.0.1';
  const dir = path.resolve(opts.dir);
  const detached = opts.detached ?? false;
  const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);

  if (!Number.isInteger(replicas) || replicas < 0) throw new Error(`replicasPerMaster must be an integer >= 0, got ${replicas}`);
  const single = masters === 1 && replicas === 0;
  if (!Number.isInteger(masters) || (masters < 3 && !single)) {
    throw new Error(`masters must be an integer >= 3, or 1 without replicas; got ${masters} with ${replicas} replica(s) each`);
  }
  const count = masters * (1 + replicas);
  // The cluster bus listens on port + 10000, so that has to be a valid port too.
  if (!Number.isInteger(opts.basePort) || opts.basePort < 1 || opts.basePort + count - 1 + 10_000 > 65_535) {
    throw new Error(`basePort ${opts.basePort} leaves no room for ${count} nodes and their bus ports (port + 10000)`);
  }
  const ports = Array.from({ length: count }, (_, i) => opts.basePort + i);
  const seeds = ports.map((port) => `${host}:${port}`);
  if (opts.password !== undefined) for (const seed of seeds) passwords.set(seed, opts.password);
  if (opts.tls !== undefined) for (const seed of seeds) cliTlsArgs.set(seed, tlsCliArgs(opts.tls));

  // A previous run in this dir may still be running (a crashed test, a forgotten CLI start) and
  // its nodes.conf files would make `--cluster create` refuse the nodes as "not empty".
  await fsp.mkdir(dir, { recursive: true });
  await stopLocalCluster(dir);
  await wipeNodeDirs(dir);

  const children: ChildProcess[] = [];
  const nodes: LocalClusterNode[] = [];
  const stopOnExit = () => {
    // Last resort if the owner never calls stop(): 'exit' handlers must be synchronous.
    for (const child of children) child.kill('SIGKILL');
  };
  if (!detached) process.on('exit', stopOnExit);

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await terminate(nodes);
    // Our own children are only reaped once Node sees them exit; wait for that so a caller
    // checking the pids afterwards does not find zombies.
    await Promise.race([Promise.all(children.map(exited)), sleep(2_000)]);
    process.off('exit', stopOnExit);
    for (const seed of seeds) passwords.delete(seed);
    for (const seed of seeds) cliTlsArgs.delete(seed);
    await fsp.rm(path.join(dir, PID_FILE), { force: true });
  };

  try {
    for (const port of ports) {
      const child = await spawnNode(dir, host, port, opts, detached);
      children.push(child);
      nodes.push({ host, port, pid: child.pid! });
      // Written after each spawn so that even a start that dies halfway can be cleaned up.
      await writePidFile(dir, { host, nodes });
    }

    await Promise.all(nodes.map((node, i) => waitForPing(node, children[i], dir, deadline)));

    // redis-cli --cluster create needs 3 masters; a single node just takes every slot.
    const created = await run(
      'redis-cli',
      single
        ? [...cliTlsArgs.get(seeds[0]!) ?? [], '-h', host, '-p', String(ports[0]), 'CLUSTER', 'ADDSLOTSRANGE', '0', '16383']
        : [...cliTlsArgs.get(seeds[0]!) ?? [], '--cluster', 'create', ...seeds, '--cluster-replicas', String(replicas), '--cluster-yes'],
      Math.max(deadline - Date.now(), 1_000),
      opts.password,
    );
    if (created.error) {
      throw new Error(`redis-cli --cluster create failed: ${created.error}\n${created.output.trim()}`);
    }

    await waitForClusterOk(seeds, Math.max(deadline - Date.now(), 0));
  } catch (err) {
    await stop();
    throw err;
  }

  return { nodes, seeds, dir, stop };
}

/** Stops the cluster recorded in DIR/pids.json, whoever started it. No-op when there is none. */
export async function stopLocalCluster(dir: string): Promise<void> {
  const pidFile = await readPidFile(dir);
  if (!pidFile) return;
  await terminate(pidFile.nodes);
  await fsp.rm(path.join(path.resolve(dir), PID_FILE), { force: true });
}

/** Per node recorded in DIR/pids.json: is it alive, and what does it say about itself. */
export async function clusterStatus(dir: string): Promise<NodeStatus[]> {
  const pidFile = await readPidFile(dir);
  if (!pidFile) return [];
  return Promise.all(
    pidFile.nodes.map(async (node): Promise<NodeStatus> => {
      const status: NodeStatus = { ...node, alive: isAlive(node.pid, node.port) };
      if (!status.alive) return status;
      try {
        const [info, nodesText] = await Promise.all([
          redisCli(node.host, node.port, ['CLUSTER', 'INFO']),
          redisCli(node.host, node.port, ['CLUSTER', 'NODES']),
        ]);
        status.clusterState = parseInfo(info).get('cluster_state');
        const myself = parseClusterNodes(nodesText).find((n) => n.flags.includes('myself'));
        if (myself) {
          status.role = myself.flags.includes('master') ? 'master' : 'replica';
          status.slots = countSlots(myself.slots);
        }
      } catch {
        // Alive but not answering (starting, or hung): report what we know.
      }
      return status;
    }),
  );
}

/** Ports of the current masters (not marked failed), as the first answering seed sees them. */
export async function masterPorts(cluster: { seeds: string[] } | string[]): Promise<number[]> {
  const seeds = Array.isArray(cluster) ? cluster : cluster.seeds;
  const errors: string[] = [];
  for (const seed of seeds) {
    const { host, port } = parseSeed(seed);
    try {
      const nodes = parseClusterNodes(await redisCli(host, port, ['CLUSTER', 'NODES']));
      return nodes
        .filter((n) => n.flags.includes('master') && !n.flags.includes('fail') && !n.flags.includes('fail?'))
        .map((n) => n.port)
        .sort((a, b) => a - b);
    } catch (err) {
      errors.push(`${seed}: ${(err as Error).message}`);
    }
  }
  throw new Error(`no seed answered CLUSTER NODES:\n${errors.join('\n')}`);
}

export interface WaitForClusterOkOptions {
  /**
   * Skip seeds that do not answer (a node a failover test has killed) instead of waiting for
   * them; nodes the others mark as `fail` are then accepted too. Default false.
   */
  allowUnreachable?: boolean;
}

/**
 * Resolves once every seed reports cluster_state:ok, all of them describe the same nodes, roles
 * and slot owners, and every replica's link to its master is up. Rejects after timeoutMs with
 * the last reason it was not yet healthy.
 */
export async function waitForClusterOk(
  seeds: string[],
  timeoutMs: number,
  opts: WaitForClusterOkOptions = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const addrs = seeds.map(parseSeed);
  for (;;) {
    const reason = await clusterNotOkReason(addrs, opts.allowUnreachable ?? false);
    if (reason === null) return;
    if (Date.now() >= deadline) {
      throw new Error(`cluster not healthy after ${timeoutMs} ms: ${reason}`);
    }
    await sleep(200);
  }
}

export interface ExtraNodeOptions {
  /** The cluster's folder (LocalCluster.dir): the node's files go to DIR/<filesPort>. */
  dir: string;
  port: number;
  /**
   * Folder and nodes.conf to use, named by port; default `port`. The port of a stopped node of
   * the cluster restarts that node (same node ID, same nodes.conf) on `port`, a new address.
   */
  filesPort?: number;
  host?: string;
  nodeTimeoutMs?: number;
  extraArgs?: string[];
  startTimeoutMs?: number;
}

export interface ExtraNode extends LocalClusterNode {
  /** SIGTERM, SIGKILL after 5 s; resolves when it is gone. */
  stop(): Promise<void>;
}

/**
 * One more cluster-mode redis-server like the cluster's own (plain TCP, no password): an empty
 * node to add with `redis-cli --cluster add-node`, or a stopped node started again from its own
 * nodes.conf (`filesPort`), possibly on another port. Resolves once it answers PING. The caller
 * stops it (it is not in DIR/pids.json); it is killed if this process exits first.
 */
export async function startExtraNode(opts: ExtraNodeOptions): Promise<ExtraNode> {
  const host = opts.host ?? '127.0.0.1';
  const dir = path.resolve(opts.dir);
  const child = await spawnNode(dir, host, opts.port, { basePort: opts.port, dir, host, nodeTimeoutMs: opts.nodeTimeoutMs, extraArgs: opts.extraArgs }, false, opts.filesPort ?? opts.port);
  const kill = () => child.kill('SIGKILL');
  process.on('exit', kill);
  const node: LocalClusterNode = { host, port: opts.port, pid: child.pid! };
  const stop = async () => {
    await terminate([node]);
    await Promise.race([exited(child), sleep(2_000)]);
    process.off('exit', kill);
  };
  try {
    await waitForPing(node, child, dir, Date.now() + (opts.startTimeoutMs ?? 10_000), opts.filesPort ?? opts.port);
  } catch (err) {
    await stop();
    throw err;
  }
  return { ...node, stop };
}

// ---------------------------------------------------------------------------------------------
// Health check

interface NodeView {
  name: string;
  info: Map<string, string>;
  nodes: ClusterNodeLine[];
  /** master_link_status, for a replica only. */
  linkStatus?: string;
}

/** Null when healthy, otherwise why not (for the timeout message). */
async function clusterNotOkReason(
  addrs: { host: string; port: number }[],
  allowUnreachable: boolean,
): Promise<string | null> {
  const views = await Promise.all(
    addrs.map(async ({ host, port }): Promise<NodeView | { name: string; error: string }> => {
      const name = `${host}:${port}`;
      try {
        const info = parseInfo(await redisCli(host, port, ['CLUSTER', 'INFO']));
        const nodes = parseClusterNodes(await redisCli(host, port, ['CLUSTER', 'NODES']));
        const myself = nodes.find((n) => n.flags.includes('myself'));
        if (!myself?.flags.includes('slave')) return { name, info, nodes };
        const replication = parseInfo(await redisCli(host, port, ['INFO', 'replication']));
        return { name, info, nodes, linkStatus: replication.get('master_link_status') ?? '?' };
      } catch (err) {
        return { name, error: (err as Error).message.split('\n')[0] };
      }
    }),
  );

  const answered: NodeView[] = [];
  for (const v of views) {
    if (!('error' in v)) answered.push(v);
    else if (!allowUnreachable) return `${v.name} unreachable (${v.error})`;
  }
  if (answered.length === 0) return 'no node reachable';

  // Transient states that mean gossip has not settled yet; a `fail` node is only acceptable
  // when the caller expects some nodes to be down.
  const unsettled = allowUnreachable ? ['fail?', 'handshake', 'noaddr'] : ['fail?', 'fail', 'handshake', 'noaddr'];
  let reference: string | undefined;
  for (const v of answered) {
    const state = v.info.get('cluster_state');
    if (state !== 'ok') return `${v.name} cluster_state:${state ?? '?'}`;
    if (v.linkStatus !== undefined && v.linkStatus !== 'up') return `${v.name} master_link_status:${v.linkStatus}`;
    const bad = v.nodes.find((n) => n.flags.some((f) => unsettled.includes(f)));
    if (bad) return `${v.name} sees ${bad.host}:${bad.port} as ${bad.flags.join(',')}`;
    const view = normalizedView(v.nodes);
    if (reference === undefined) reference = view;
    else if (view !== reference) return `${v.name} disagrees with ${answered[0].name} on the topology`;
  }
  return null;
}

/** CLUSTER NODES without what legitimately differs between nodes (myself, ping times, epochs). */
function normalizedView(nodes: ClusterNodeLine[]): string {
  return nodes
    .map((n) => {
      const flags = n.flags.filter((f) => f !== 'myself').sort().join(',');
      return `${n.id} ${n.host}:${n.port} ${flags} ${n.masterId} ${n.linkState} ${n.slots.join(',')}`;
    })
    .sort()
    .join('\n');
}

// ---------------------------------------------------------------------------------------------
// Parsing redis-cli output

interface ClusterNodeLine {
  id: string;
  host: string;
  port: number;
  flags: string[];
  masterId: string;
  linkState: string;
  slots: string[];
}

function parseClusterNodes(text: string): ClusterNodeLine[] {
  const result: ClusterNodeLine[] = [];
  for (const line of text.split(/\r?\n/)) {
    const f = line.trim().split(' ');
    if (f.length < 8) continue;
    // ip:port@cport[,hostname]; the ip may be empty before the node learns it.
    const hostPort = f[1].split(',')[0].split('@')[0];
    const colon = hostPort.lastIndexOf(':');
    result.push({
      id: f[0],
      host: hostPort.slice(0, colon),
      port: Number(hostPort.slice(colon + 1)),
      flags: f[2].split(','),
      masterId: f[3],
      linkState: f[7],
      slots: f.slice(8),
    });
  }
  return result;
}

function countSlots(ranges: string[]): number {
  let n = 0;
  for (const r of ranges) {
    if (r.startsWith('[')) continue; // migrating/importing marker, not an owned slot
    const [from, to] = r.split('-').map(Number);
    n += to === undefined ? 1 : to - from + 1;
  }
  return n;
}

function parseInfo(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) map.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return map;
}

function parseSeed(seed: string): { host: string; port: number } {
  const colon = seed.lastIndexOf(':');
  const port = Number(seed.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new Error(`bad seed "${seed}", expected host:port`);
  }
  return { host: seed.slice(0, colon), port };
}

// ---------------------------------------------------------------------------------------------
// Processes

async function spawnNode(
  dir: string,
  host: string,
  port: number,
  opts: LocalClusterOptions,
  detached: boolean,
  /** Port the node's folder (DIR/N) and nodes-N.conf are named after: another port restarts that node on `port`. */
  filesPort = port,
): Promise<ChildProcess> {
  const nodeDir = path.join(dir, String(filesPort));
  await fsp.mkdir(nodeDir, { recursive: true });
  const { tls } = opts;
  const args = [
    // With TLS the bus follows the TLS port (port + 10000) and the plain port is closed.
    ...(tls === undefined
      ? ['--port', String(port)]
      : ['--port', '0', '--tls-port', String(port), '--tls-cluster', 'yes', '--tls-replication', 'yes',
         '--tls-cert-file', tls.certFile, '--tls-key-file', tls.keyFile, '--tls-ca-cert-file', tls.caFile]),
    '--bind', host,
    '--cluster-enabled', 'yes',
    '--cluster-config-file', `nodes-${filesPort}.conf`,
    '--cluster-node-timeout', String(opts.nodeTimeoutMs ?? 2000),
    '--dir', nodeDir,
    '--save', '',
    '--appendonly', 'no',
    '--protected-mode', 'no',
    '--logfile', path.join(nodeDir, 'redis.log'),
    // Redis 7 waits 5 s by default before a diskless full sync, hoping more replicas will join;
    // each master here has its replicas from the start, so that would only slow every start.
    '--repl-diskless-sync-delay', '0',
    // On 127.0.0.1 the node's own guess is right; on another address it must announce that one.
    ...(host !== '127.0.0.1' ? ['--cluster-announce-ip', host] : []),
    ...(opts.password !== undefined ? ['--requirepass', opts.password, '--masterauth', opts.password] : []),
    ...(opts.extraArgs ?? []),
  ];
  // Anything redis-server prints before it opens its logfile (bad argument…) lands here.
  const out = fs.openSync(path.join(nodeDir, 'stdout.log'), 'a');
  try {
    const child = spawn('redis-server', args, { cwd: nodeDir, detached, stdio: ['ignore', out, out] });
    // Never keep the owner alive just for the nodes: detached ones are meant to outlive it, and
    // attached ones are killed by the owner's 'exit' hook if it forgets stop().
    child.unref();
    if (child.pid === undefined) {
      const err = await new Promise<Error>((resolve) => child.once('error', resolve));
      throw new Error(`cannot start redis-server (${err.message}); is it installed?`);
    }
    child.on('error', () => {}); // a later error is seen as the process being gone
    return child;
  } finally {
    fs.closeSync(out);
  }
}

async function waitForPing(node: LocalClusterNode, child: ChildProcess, dir: string, deadline: number, filesPort = node.port): Promise<void> {
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const log = await tail(path.join(dir, String(filesPort), 'redis.log'));
      const out = await tail(path.join(dir, String(filesPort), 'stdout.log'));
      throw new Error(
        `redis-server on port ${node.port} exited (${child.exitCode ?? child.signalCode}) during start:\n${log}${out}`,
      );
    }
    try {
      if ((await redisCli(node.host, node.port, ['PING'])).trim() === 'PONG') return;
    } catch {
      // not listening yet
    }
    if (Date.now() >= deadline) throw new Error(`redis-server on port ${node.port} did not answer PING in time`);
    await sleep(50);
  }
}

/** SIGTERM, up to 5 s grace, then SIGKILL; resolves when none of the nodes is alive. */
async function terminate(nodes: LocalClusterNode[]): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    for (const n of nodes) {
      if (!isAlive(n.pid, n.port)) continue;
      try {
        process.kill(n.pid, sig);
      } catch {
        // exited in between
      }
    }
  };
  const allGone = () => nodes.every((n) => !isAlive(n.pid, n.port));

  signal('SIGTERM');
  for (const end = Date.now() + STOP_GRACE_MS; Date.now() < end && !allGone(); ) await sleep(50);
  if (allGone()) return;
  signal('SIGKILL');
  for (const end = Date.now() + 2_000; Date.now() < end && !allGone(); ) await sleep(50);
  if (!allGone()) {
    const left = nodes.filter((n) => isAlive(n.pid, n.port)).map((n) => n.pid);
    throw new Error(`redis-server pids ${left.join(', ')} survived SIGKILL`);
  }
}

/**
 * Whether pid is still the redis-server we started on this port. The pid file may outlive the
 * processes (reboot, pid reuse), and a zombie whose parent has not reaped it still answers
 * kill(pid, 0); /proc/PID/cmdline tells both apart (it is empty for a zombie).
 */
function isAlive(pid: number, port: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('redis-server') && cmdline.includes(String(port));
  } catch {
    return !fs.existsSync('/proc/self'); // no procfs (macOS): trust kill(pid, 0)
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Passwords of password-protected clusters started by this process, by host:port. */
const passwords = new Map<string, string>();

/** redis-cli's TLS arguments for the nodes of TLS clusters started by this process, by host:port. */
const cliTlsArgs = new Map<string, string[]>();

function tlsCliArgs(tls: LocalClusterTls): string[] {
  return ['--tls', '--cacert', tls.caFile, '--cert', tls.certFile, '--key', tls.keyFile];
}

/** Runs a command; never rejects, so callers can report its output on failure. */
function run(cmd: string, args: string[], timeoutMs: number, password?: string): Promise<{ output: string; error?: string }> {
  // redis-cli takes the password from REDISCLI_AUTH, which keeps it off the command line.
  const env = password === undefined ? process.env : { ...process.env, REDISCLI_AUTH: password };
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 << 20, env }, (err, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      resolve(err ? { output, error: err.killed ? `timed out after ${timeoutMs} ms` : err.message.split('\n')[0] } : { output });
    });
  });
}

/** One command to one node; rejects on connection failure, error reply (-e) or a 2 s hang. */
async function redisCli(host: string, port: number, args: string[]): Promise<string> {
  const seed = `${host}:${port}`;
  const r = await run('redis-cli', [...cliTlsArgs.get(seed) ?? [], '-h', host, '-p', String(port), '-e', ...args], 2_000, passwords.get(seed));
  if (r.error) throw new Error(`${host}:${port} ${args.join(' ')}: ${r.output.trim() || r.error}`);
  return r.output;
}

// ---------------------------------------------------------------------------------------------
// Files

async function readPidFile(dir: string): Promise<PidFile | undefined> {
  const file = path.join(path.resolve(dir), PID_FILE);
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as PidFile;
  } catch {
    throw new Error(`${file} is not valid JSON; remove it and stop any leftover redis-server by hand`);
  }
}

async function writePidFile(dir: string, content: PidFile): Promise<void> {
  // Write then rename, so a concurrent `status` or `stop` never reads half a file.
  const file = path.join(dir, PID_FILE);
  await fsp.writeFile(`${file}.tmp`, JSON.stringify(content, null, 2) + '\n');
  await fsp.rename(`${file}.tmp`, file);
}

/** Removes the per-node folders (DIR/PORT) of earlier runs and nothing else in dir. */
async function wipeNodeDirs(dir: string): Promise<void> {
  for (const entry of await fsp.readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory() && /^\d+$/.test(entry.name)) {
      await fsp.rm(path.join(dir, entry.name), { recursive: true, force: true });
    }
  }
}

async function tail(file: string, lines = 8): Promise<string> {
  try {
    const text = (await fsp.readFile(file, 'utf8')).trimEnd();
    if (text === '') return '';
    return text.split('\n').slice(-lines).map((l) => `  ${l}\n`).join('');
  } catch {
    return '';
  }
}
