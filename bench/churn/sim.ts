/**
 * Pod-churn simulation: what Kubernetes does to Redis pods, reproduced with network namespaces,
 * with the StatefulSet's own scripts (k8s/base/redis/scripts/start.sh and create-cluster.sh).
 *
 * Network (all of 10.77.0.0/24 lives inside namespaces this run creates; the root namespace only
 * gets `ip route add blackhole 10.77.0.0/24` as a safety net, removed at the end if it added it):
 *   sgchurn-<run>-node     the "node": a bridge (10.77.0.1/24) and dnsmasq on it as cluster DNS,
 *                          answering from a hosts file (SIGHUP after each change) for the headless
 *                          Service names redis-cluster-<i>.redis-cluster-headless and
 *                          redis-cluster-headless (every pod), TTL 0;
 *   sgchurn-<run>-p<i>     one per Redis "pod" (6), a veth to the bridge, its own IP; deleting
 *                          the pod deletes the namespace, the new pod gets a new one and a new IP;
 *   sgchurn-<run>-client   slotgate (seed: redis-cluster-headless:6379) and the agent (load, probes).
 * Each namespace's resolver is /etc/netns/<ns>/resolv.conf (ip netns exec mounts it).
 *
 * Every process is started by this module and stopped by PID (pods by their process group),
 * namespaces, /etc/netns entries, dnsmasq and the blackhole route are removed also on failure.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentConfig, LoadResult, PodView, ProbeRound, Request } from './agent.js';
import { pidAlive as alive } from '../support/child.js';

export const SUBNET = '10.77.0.0/24';
const GATEWAY = '10.77.0.1';
const CLIENT_IP = '10.77.0.100';
const REDIS_PORT = 6379;
const PROXY_PORT = 7777;
const STATEFULSET = 'redis-cluster';
const HEADLESS = 'redis-cluster-headless';
const PODS = 6;

export interface ChurnOptions {
  /** The repository (k8s/base/redis/scripts, dist/). */
  root: string;
  nodeTimeoutMs: number;
  writers: number;
  readers: number;
  pauseMs: number;
  /** A request slower than this counts as an outage (as in bench/chaos). */
  slowMs: number;
  /** Load before and after each fault (ms). */
  phaseMs: number;
  /** Scenario letters to run (default all: a b c d e). */
  only?: string[];
  log: (line: string) => void;
}

export interface ScenarioResult {
  id: string;
  title: string;
  ops: number;
  errors: number;
  errorSample: string[];
  /** First and last failed request, ms after the fault began. */
  errorWindow: [number, number] | null;
  /** The longest single request (ms). */
  longestStallMs: number;
  /** Slotgate serves every slot again (probe through it, and the last failed load request), ms after the fault. */
  recoveryMs: number;
  /** Redis itself serves every slot again (probe straight to the nodes), ms after the fault. */
  redisMs: number;
  boundMs: number;
  acked: number;
  checked: number;
  lost: number;
  notes: string[];
  failures: string[];
}

type Body<R> = R extends unknown ? Omit<R, 'id'> : never;
type RequestBody = Body<Request>;

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function quiet(f: () => unknown): void {
  try {
    f();
  } catch {
    // already gone
  }
}


async function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  return Promise.race([
    new Promise<boolean>((resolve) => child.once('exit', () => resolve(true))),
    sleep(ms).then(() => false),
  ]);
}

interface Pod {
  i: number;
  ns: string;
  ip: string;
  dir: string;
  proc: ChildProcess | null;
}

export class ChurnSim {
  readonly run = Date.now().toString(36).slice(-5);
  readonly dir: string;
  private readonly nodeNs: string;
  private readonly clientNs: string;
  private readonly namespaces = new Set<string>();
  private blackholeAdded = false;
  private dnsmasq: ChildProcess | null = null;
  private slotgate: ChildProcess | null = null;
  private agentProc: ChildProcess | null = null;
  private readonly pods: Pod[] = [];
  private nextIp = 11;
  private nextRequest = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly others: ChildProcess[] = [];
  /** What the last waitHealthy waited for last (empty: healthy at once). */
  private lastProblem = '';

  constructor(private readonly o: ChurnOptions) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sgchurn-'));
    this.nodeNs = `sgchurn-${this.run}-node`;
    this.clientNs = `sgchurn-${this.run}-client`;
  }

  private get scripts(): string {
    return path.join(this.o.root, 'k8s/base/redis/scripts');
  }

  private podName(i: number): string {
    return `${STATEFULSET}-${i}.${HEADLESS}`;
  }

  // ---- network ----

  private addNs(ns: string): void {
    ip('netns', 'add', ns);
    this.namespaces.add(ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    fs.mkdirSync(`/etc/netns/${ns}`, { recursive: true });
    fs.writeFileSync(`/etc/netns/${ns}/resolv.conf`, `nameserver ${GATEWAY}\noptions timeout:1 attempts:2\n`);
  }

  /** A veth from the node's bridge (name `port` there) to `eth0` in `ns`, with `addr`. */
  private attach(ns: string, port: string, addr: string): void {
    ip('-n', this.nodeNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    ip('-n', this.nodeNs, 'link', 'set', port, 'master', 'sgchurn-br0', 'up');
    ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
  }

  /** Kills what is left in the namespace (only our processes run there), then deletes it. */
  private delNs(ns: string): void {
    let pids: string[] = [];
    quiet(() => (pids = ip('netns', 'pids', ns).split('\n').filter((s) => s.trim() !== '')));
    for (const pid of pids) quiet(() => process.kill(Number(pid), 'SIGKILL'));
    quiet(() => ip('netns', 'del', ns));
    fs.rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
    this.namespaces.delete(ns);
  }

  private allocIp(): string {
    if (this.nextIp > 250) throw new Error('test subnet exhausted');
    return `10.77.0.${this.nextIp++}`;
  }

  private writeHosts(): void {
    const lines: string[] = [];
    for (const p of this.pods) if (p.proc !== null || p.ns !== '') lines.push(`${p.ip} ${this.podName(p.i)} ${HEADLESS}`);
    fs.writeFileSync(path.join(this.dir, 'hosts'), lines.join('\n') + '\n');
    if (this.dnsmasq?.pid !== undefined) process.kill(this.dnsmasq.pid, 'SIGHUP');
  }

  private spawnIn(ns: string, cmd: string, args: string[], logName: string, env: NodeJS.ProcessEnv = {}): ChildProcess {
    const fd = fs.openSync(path.join(this.dir, logName), 'a');
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...env },
    });
    fs.closeSync(fd);
    child.on('error', () => {});
    return child;
  }

  async setup(): Promise<void> {
    if (process.getuid?.() !== 0) throw new Error('the pod-churn simulation needs root (ip netns)');
    for (const bin of ['/usr/sbin/dnsmasq', '/usr/bin/redis-server', '/usr/bin/redis-cli']) {
      if (!fs.existsSync(bin)) throw new Error(`${bin} missing (Debian packages dnsmasq-base, redis-server, redis-tools; scripts/setup.sh installs them)`);
    }
    if (ip('-4', 'addr', 'show').includes(' 10.77.0.')) throw new Error('the root namespace has an address in 10.77.0.0/24; refusing to run');
    const routes = ip('route', 'show', SUBNET);
    if (routes.trim() === '') {
      ip('route', 'add', 'blackhole', SUBNET);
      this.blackholeAdded = true;
    } else if (!routes.startsWith('blackhole')) {
      throw new Error(`the root namespace routes ${SUBNET} (${routes.trim()}); refusing to run`);
    }

    this.addNs(this.nodeNs);
    // A fixed MAC: a bridge otherwise takes its ports' lowest one, which changes when every pod
    // is deleted, and the client's ARP entry for the DNS server would point nowhere for ~30 s.
    ip('-n', this.nodeNs, 'link', 'add', 'sgchurn-br0', 'address', '02:77:00:00:00:01', 'type', 'bridge');
    ip('-n', this.nodeNs, 'addr', 'add', `${GATEWAY}/24`, 'dev', 'sgchurn-br0');
    ip('-n', this.nodeNs, 'link', 'set', 'sgchurn-br0', 'up');
    this.addNs(this.clientNs);
    this.attach(this.clientNs, 'client', CLIENT_IP);

    fs.writeFileSync(
      path.join(this.dir, 'redis.conf'),
      [
        '# As k8s/base/redis/redis.conf (the StatefulSet ConfigMap), but for a shorter node timeout',
        '# (5000 there) and nodes.conf relative to the data dir start.sh passes as --dir.',
        'port 6379',
        'protected-mode no',
        'bind * -::*',
        'cluster-enabled yes',
        'cluster-config-file nodes.conf',
        `cluster-node-timeout ${this.o.nodeTimeoutMs}`,
        'cluster-require-full-coverage no',
        'cluster-replica-validity-factor 10',
        'cluster-migration-barrier 1',
        'appendonly yes',
        'appendfsync everysec',
        'save ""',
        'tcp-backlog 511',
        'tcp-keepalive 60',
        'timeout 0',
        'daemonize no',
        'logfile ""',
        '',
      ].join('\n'),
    );
    for (let i = 0; i < PODS; i++) {
      const dir = path.join(this.dir, `data-${i}`);
      fs.mkdirSync(dir);
      this.pods.push({ i, ns: '', ip: '', dir, proc: null });
    }
    fs.writeFileSync(path.join(this.dir, 'hosts'), '');
    this.dnsmasq = this.spawnIn(this.nodeNs, '/usr/sbin/dnsmasq', [
      '--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--no-poll',
      `--addn-hosts=${path.join(this.dir, 'hosts')}`, '--local-ttl=0', '--neg-ttl=0', `--listen-address=${GATEWAY}`,
      // Authoritative for the Service's domain, as CoreDNS is: NXDOMAIN for a pod that has no
      // record (deleted), no data for AAAA; never "REFUSED" for want of an upstream server.
      `--local=/${HEADLESS}/`,
      '--bind-interfaces', '--user=root', '--group=root', '--pid-file=', '--log-facility=-',
      ...(process.env.SGCHURN_DNS_LOG === '1' ? ['--log-queries'] : []),
    ], 'dnsmasq.log');
    await sleep(200);
    if (!alive(this.dnsmasq.pid ?? -1)) throw new Error(`dnsmasq did not start: ${fs.readFileSync(path.join(this.dir, 'dnsmasq.log'), 'utf8')}`);

    for (const p of this.pods) this.createPod(p);
    this.writeHosts();
    for (const p of this.pods) this.startPod(p);

    const create = (label: string) =>
      new Promise<void>((resolve, reject) => {
        const job = this.spawnIn(this.clientNs, 'bash', [path.join(this.scripts, 'create-cluster.sh')], 'create-cluster.log', {
          REDIS_CREATE_TIMEOUT: '60',
        });
        this.others.push(job);
        job.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`create-cluster.sh (${label}) exited ${code}; see ${this.dir}/create-cluster.log`))));
      });
    await create('first run');
    await create('second run, must find the cluster and do nothing');
    if (!fs.readFileSync(path.join(this.dir, 'create-cluster.log'), 'utf8').includes('the cluster exists')) {
      throw new Error('create-cluster.sh run again did not find the existing cluster');
    }

    this.slotgate = this.spawnIn(this.clientNs, process.execPath, [
      path.join(this.o.root, 'dist/src/main.js'), '--threads', '1', '--admin-port', '0', '--port', String(PROXY_PORT), '--log-level', 'info',
      `${HEADLESS}:${REDIS_PORT}`,
    ], 'slotgate.log');
    await this.startAgent();
    await this.waitHealthy(30_000);
  }

  private createPod(p: Pod): void {
    p.ns = `sgchurn-${this.run}-p${p.i}`;
    p.ip = this.allocIp();
    this.addNs(p.ns);
    this.attach(p.ns, `p${p.i}`, p.ip);
  }

  private startPod(p: Pod): void {
    p.proc = this.spawnIn(p.ns, 'bash', [path.join(this.scripts, 'start.sh')], `pod-${p.i}.log`, {
      POD_IP: p.ip,
      REDIS_CONF: path.join(this.dir, 'redis.conf'),
      REDIS_DATA_DIR: p.dir,
      REDIS_PORT: String(REDIS_PORT),
      REDIS_CLUSTER_SIZE: String(PODS),
      REDIS_STATEFULSET: STATEFULSET,
      REDIS_HEADLESS_SERVICE: HEADLESS,
    });
  }

  /** The pod's processes (its process group: redis-server and the meet loop) get `sig`; SIGKILL after `graceMs`. */
  private async stopPod(p: Pod, sig: NodeJS.Signals, graceMs = 10_000): Promise<void> {
    const proc = p.proc;
    if (proc?.pid === undefined) return;
    quiet(() => process.kill(-proc.pid!, sig));
    if (!(await exited(proc, graceMs))) {
      quiet(() => process.kill(-proc.pid!, 'SIGKILL'));
      await exited(proc, 5000);
    }
    quiet(() => process.kill(-proc.pid!, 'SIGKILL')); // the meet loop, if it outlived the server
    p.proc = null;
  }

  /** Pod deleted (SIGTERM, its namespace and DNS record gone) and created again: new namespace, new IP, same volume. */
  private async recreatePods(ps: Pod[]): Promise<string[]> {
    await Promise.all(ps.map((p) => this.stopPod(p, 'SIGTERM')));
    for (const p of ps) {
      this.delNs(p.ns);
      p.ns = '';
    }
    this.writeHosts();
    const moves: string[] = [];
    for (const p of ps) {
      const old = p.ip;
      this.createPod(p);
      moves.push(`pod ${p.i} ${old} -> ${p.ip}`);
    }
    this.writeHosts();
    for (const p of ps) this.startPod(p);
    return moves;
  }

  // ---- agent ----

  private async startAgent(): Promise<void> {
    const config: AgentConfig = {
      proxyPort: PROXY_PORT,
      names: this.pods.map((p) => this.podName(p.i)),
      redisPort: REDIS_PORT,
      writers: this.o.writers,
      readers: this.o.readers,
      pauseMs: this.o.pauseMs,
      slowMs: this.o.slowMs,
    };
    const fd = fs.openSync(path.join(this.dir, 'agent.log'), 'a');
    const child = spawn('ip', ['netns', 'exec', this.clientNs, process.execPath, path.join(this.o.root, 'dist/bench/churn/agent.js'), JSON.stringify(config)], {
      detached: true,
      stdio: ['ignore', fd, fd, 'ipc'],
    });
    fs.closeSync(fd);
    this.agentProc = child;
    const ready = new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`agent exited ${code}; see ${this.dir}/agent.log`)));
      this.pending.set(0, { resolve: () => resolve(), reject });
    });
    child.on('message', (m: { id: number; value?: unknown; error?: string }) => {
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      this.pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m.value);
    });
    child.on('exit', () => {
      for (const p of this.pending.values()) p.reject(new Error('agent exited'));
      this.pending.clear();
    });
    await ready;
  }

  private ask<T>(r: RequestBody, timeoutMs = 60_000): Promise<T> {
    const id = this.nextRequest++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`agent: ${r.type} took over ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v as T)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.agentProc?.send({ ...r, id });
    });
  }

  // ---- cluster state ----

  /** 3 masters + 3 replicas seen alike by every pod, every link connected, cluster_state ok, both probes fine. */
  private async layout(): Promise<{ ok: boolean; text: string; masters: { id: string; ip: string }[]; replicaOf: Map<string, string> }> {
    const views = await this.ask<PodView[]>({ type: 'views' });
    const problems: string[] = [];
    const masters = new Map<string, string>();
    const replicaOf = new Map<string, string>();
    let reference: string | null = null;
    for (const v of views) {
      if (v.error !== undefined || v.state !== 'ok') {
        problems.push(`${v.name} (${v.ip}): ${v.error ?? `cluster_state:${v.state}`}`);
        continue;
      }
      if (!v.synced) problems.push(`${v.name}: replica not in sync with its master yet`);
      const bad = v.nodes.filter((n) => n.link !== 'connected' || n.flags.some((f) => /fail|handshake|noaddr/.test(f)));
      if (v.nodes.length !== PODS || bad.length > 0) problems.push(`${v.name}: ${v.nodes.length} nodes, ${bad.map((n) => `${n.addr} ${n.flags.join(',')} ${n.link}`).join('; ')}`);
      const ms = v.nodes.filter((n) => n.flags.includes('master') && n.slots.length > 0).map((n) => `${n.id}@${n.addr}`).sort().join(' ');
      if (reference === null) {
        reference = ms;
        for (const n of v.nodes) {
          if (n.flags.includes('master') && n.slots.length > 0) masters.set(n.id, n.addr.split(':')[0]);
          if (n.flags.includes('slave')) replicaOf.set(n.master, n.addr.split(':')[0]);
        }
      } else if (ms !== reference) problems.push(`${v.name} sees other masters`);
    }
    if (masters.size !== 3 || replicaOf.size !== 3 || [...replicaOf.keys()].some((m) => !masters.has(m))) {
      problems.push(`layout: ${masters.size} masters with slots, ${replicaOf.size} replicated masters`);
    }
    return {
      ok: problems.length === 0,
      text: problems.join(' | '),
      masters: [...masters].map(([id, ip]) => ({ id, ip })),
      replicaOf,
    };
  }

  private async waitHealthy(timeoutMs: number): Promise<Awaited<ReturnType<ChurnSim['layout']>>> {
    const end = Date.now() + timeoutMs;
    let last = '';
    this.lastProblem = '';
    for (;;) {
      const l = await this.layout();
      if (last !== '') this.lastProblem = last;
      if (l.ok) {
        const since = Date.now() - 600;
        await sleep(700);
        const { proxy, direct } = await this.ask<{ proxy: ProbeRound[]; direct: ProbeRound[] }>({ type: 'probes', since });
        if (proxy.length > 0 && direct.length > 0 && proxy.every((r) => r.ok) && direct.every((r) => r.ok)) return l;
        last = `probes failing: ${[...proxy, ...direct].find((r) => !r.ok)?.error ?? 'none yet'}`;
      } else {
        last = l.text;
      }
      if (Date.now() > end) throw new Error(`cluster not healthy within ${timeoutMs} ms: ${last}`);
      await sleep(250);
    }
  }

  private podOf(ipAddr: string): Pod {
    const p = this.pods.find((x) => x.ip === ipAddr);
    if (p === undefined) throw new Error(`no pod has ${ipAddr}`);
    return p;
  }

  private async waitMaster(ipAddr: string, timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const views = await this.ask<PodView[]>({ type: 'views' });
      const v = views.find((x) => x.ip === ipAddr);
      if (v?.nodes.some((n) => n.flags.includes('myself') && n.flags.includes('master') && n.slots.length > 0)) return;
      if (Date.now() > end) throw new Error(`${ipAddr} not master within ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  // ---- scenarios ----

  private async scenario(id: string, title: string, fault: (notes: string[]) => Promise<void>): Promise<ScenarioResult> {
    const { o } = this;
    await this.waitHealthy(60_000);
    await this.ask({ type: 'load-start', prefix: `churn:${this.run}:${id}` });
    const notes: string[] = [];
    let load: LoadResult;
    let t0 = 0;
    try {
      await sleep(o.phaseMs);
      t0 = Date.now();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        fault(notes),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('fault not done within 90 s')), 90_000))),
      ]).finally(() => clearTimeout(timer));
      await this.waitHealthy(60_000);
      notes.push(`healthy (3 + 3, all connected, both probes fine) ${Date.now() - t0} ms after the fault${this.lastProblem ? `; waited for: ${this.lastProblem.slice(0, 300)}` : ''}`);
      await sleep(o.phaseMs);
    } finally {
      load = await this.ask<LoadResult>({ type: 'load-stop' });
    }
    const { proxy, direct } = await this.ask<{ proxy: ProbeRound[]; direct: ProbeRound[] }>({ type: 'probes', since: t0 });
    const verify = await this.ask<{ checked: number; lost: number; sample: string[] }>({ type: 'verify' }, 120_000);

    const servedAgain = (rounds: ProbeRound[]): number => {
      let lastFail = -1;
      rounds.forEach((r, i) => {
        if (!r.ok) lastFail = i;
      });
      if (lastFail < 0) return 0;
      const next = rounds[lastFail + 1];
      return (next?.end ?? Date.now()) - t0;
    };
    const errors = load.errors.filter((e) => e.t >= t0);
    const lastError = errors.reduce((m, e) => Math.max(m, e.t - t0), 0);
    const probeMs = servedAgain(proxy);
    const redisMs = servedAgain(direct);
    const recoveryMs = Math.max(probeMs, lastError);
    const boundMs = Math.max(o.nodeTimeoutMs + 2000, redisMs + 2000);
    const failures: string[] = [];
    if (recoveryMs > boundMs) failures.push(`served again ${recoveryMs} ms after the fault, bound ${boundMs} ms`);
    if (verify.lost > 0) failures.push(`${verify.lost} acknowledged writes missing (${verify.sample.join(', ')})`);
    if (load.errors.length > errors.length) failures.push(`${load.errors.length - errors.length} errors before the fault`);
    const directFails = direct.filter((r) => !r.ok);
    if (directFails.length > 0) {
      notes.push(`direct probe: ${directFails.length} failed rounds, first at ${directFails[0].start - t0} ms (${directFails[0].error?.slice(0, 120)}), last at ${directFails[directFails.length - 1].start - t0} ms (${directFails[directFails.length - 1].error?.slice(0, 120)})`);
    }
    const firstProxyFail = proxy.find((r) => !r.ok);
    notes.push(`slotgate probe back after ${probeMs} ms${firstProxyFail?.error ? ` (first failure: ${firstProxyFail.error.slice(0, 120)})` : ''}`);
    const counts = new Map<string, number>();
    for (const e of errors) {
      const k = e.message.replace(/\d+\.\d+\.\d+\.\d+:\d+/g, 'ADDR').slice(0, 100);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    const result: ScenarioResult = {
      id,
      title,
      ops: load.ops,
      errors: errors.length,
      errorSample: [...counts].map(([m, n]) => `${n}x ${m}`),
      errorWindow: errors.length > 0 ? [errors[0].t - t0, lastError] : null,
      longestStallMs: load.maxMs,
      recoveryMs,
      redisMs,
      boundMs,
      acked: load.acked,
      checked: verify.checked,
      lost: verify.lost,
      notes,
      failures,
    };
    o.log(formatResult(result));
    return result;
  }

  async runScenarios(): Promise<ScenarioResult[]> {
    const only = new Set(this.o.only ?? ['a', 'b', 'c', 'd', 'e']);
    const results: ScenarioResult[] = [];
    const masterPod = async (k: number) => {
      const l = await this.waitHealthy(60_000);
      const m = l.masters.sort((x, y) => x.ip.localeCompare(y.ip))[k % l.masters.length];
      return { pod: this.podOf(m.ip), replicaIp: l.replicaOf.get(m.id)! };
    };

    if (only.has('a')) {
      const { pod } = await masterPod(0);
      results.push(
        await this.scenario('a', 'master pod deleted, back with a new IP', async (notes) => {
          notes.push(...(await this.recreatePods([pod])));
        }),
      );
      const after = await this.waitHealthy(60_000);
      const r = results[results.length - 1];
      r.notes.push(after.masters.some((m) => m.ip === pod.ip) ? `pod ${pod.i} still master at ${pod.ip}` : `pod ${pod.i} came back as a replica (its replica took over)`);
      this.o.log(`    note: ${r.notes[r.notes.length - 1]}`);
    }
    if (only.has('b')) {
      const { pod, replicaIp } = await masterPod(1);
      results.push(
        await this.scenario('b', 'master down past the node timeout (replica promoted), then back', async (notes) => {
          const t = Date.now();
          await this.stopPod(pod, 'SIGKILL');
          await this.waitMaster(replicaIp, 30_000);
          notes.push(`replica ${replicaIp} master ${Date.now() - t} ms after the kill`);
          await sleep(1000);
          this.startPod(pod);
          notes.push(`pod ${pod.i} started again (same IP) ${Date.now() - t} ms after the kill`);
        }),
      );
    }
    if (only.has('c')) {
      const { replicaIp } = await masterPod(2);
      results.push(
        await this.scenario('c', 'manual CLUSTER FAILOVER', async (notes) => {
          const t = Date.now();
          await this.ask({ type: 'command', ip: replicaIp, args: ['CLUSTER', 'FAILOVER'] });
          await this.waitMaster(replicaIp, 30_000);
          notes.push(`replica ${replicaIp} master after ${Date.now() - t} ms`);
        }),
      );
    }
    if (only.has('d')) {
      await this.waitHealthy(60_000);
      results.push(
        await this.scenario('d', 'every pod deleted at once, back with new IPs', async (notes) => {
          const t = Date.now();
          const moves = await this.recreatePods(this.pods);
          notes.push(`all ${PODS} pods back ${Date.now() - t} ms after the deletion: ${moves.join(', ')}`);
        }),
      );
    }
    if (only.has('e')) {
      const { pod, replicaIp } = await masterPod(0);
      results.push(
        await this.scenario('e', 'hung master pod (its veth down: packets dropped, no RST), replica promoted, then back', async (notes) => {
          const t = Date.now();
          ip('-n', this.nodeNs, 'link', 'set', `p${pod.i}`, 'down');
          try {
            await this.waitMaster(replicaIp, 30_000);
            notes.push(`replica ${replicaIp} master ${Date.now() - t} ms after the hang`);
            await sleep(1000);
          } finally {
            ip('-n', this.nodeNs, 'link', 'set', `p${pod.i}`, 'up');
          }
          notes.push(`pod ${pod.i} reachable again ${Date.now() - t} ms after the hang`);
        }),
      );
    }
    return results;
  }

  async teardown(): Promise<void> {
    if (this.agentProc !== null) {
      await this.ask({ type: 'exit' }, 3000).catch(() => {});
      const a = this.agentProc;
      if (!(await exited(a, 2000))) quiet(() => process.kill(a.pid!, 'SIGKILL'));
    }
    if (this.slotgate?.pid !== undefined) {
      const s = this.slotgate;
      quiet(() => process.kill(s.pid!, 'SIGKILL'));
      await exited(s, 3000);
    }
    for (const c of this.others) if (c.pid !== undefined && alive(c.pid)) quiet(() => process.kill(-c.pid!, 'SIGKILL'));
    await Promise.all(this.pods.map((p) => this.stopPod(p, 'SIGKILL', 3000)));
    if (this.dnsmasq?.pid !== undefined) {
      const d = this.dnsmasq;
      quiet(() => process.kill(d.pid!, 'SIGTERM'));
      if (!(await exited(d, 2000))) quiet(() => process.kill(d.pid!, 'SIGKILL'));
    }
    for (const ns of [...this.namespaces]) this.delNs(ns);
    if (this.blackholeAdded) {
      // Another run of this simulation may still rely on it.
      const others = ip('netns', 'list').split('\n').some((l) => l.startsWith('sgchurn-'));
      if (!others) quiet(() => ip('route', 'del', 'blackhole', SUBNET));
      this.blackholeAdded = false;
    }
  }
}

export function formatResult(r: ScenarioResult): string {
  return [
    `(${r.id}) ${r.title}: ${r.failures.length === 0 ? 'pass' : 'FAIL'}`,
    `    ${r.ops} ops, ${r.errors} client errors${r.errorWindow ? ` (${r.errorWindow[0]}..${r.errorWindow[1]} ms after the fault)` : ''}, longest stall ${r.longestStallMs} ms,`,
    `    slotgate serves every slot again after ${r.recoveryMs} ms (Redis itself after ${r.redisMs} ms; bound ${r.boundMs} ms),`,
    `    ${r.acked} acknowledged writes, ${r.checked} read back, ${r.lost} lost`,
    ...r.errorSample.map((s) => `    error: ${s}`),
    ...r.notes.map((n) => `    note: ${n}`),
    ...r.failures.map((f) => `    FAILED: ${f}`),
  ].join('\n');
}

export async function runChurn(o: ChurnOptions): Promise<{ results: ScenarioResult[]; dir: string; ms: number }> {
  const started = Date.now();
  const sim = new ChurnSim(o);
  let ok = false;
  try {
    await sim.setup();
    o.log(`pod-churn simulation ${sim.run}: 6 pods, cluster formed by create-cluster.sh, slotgate up (${Date.now() - started} ms); logs in ${sim.dir}`);
    const results = await sim.runScenarios();
    ok = results.every((r) => r.failures.length === 0);
    return { results, dir: sim.dir, ms: Date.now() - started };
  } finally {
    await sim.teardown();
    if (ok && process.env.SGCHURN_KEEP !== '1') fs.rmSync(sim.dir, { recursive: true, force: true });
    else o.log(`logs kept in ${sim.dir}`);
  }
}

export const defaultChurnOptions = (root: string, log: (l: string) => void): ChurnOptions => ({
  root,
  nodeTimeoutMs: 2000,
  writers: 4,
  readers: 4,
  pauseMs: 5,
  slowMs: 1000,
  phaseMs: 1500,
  log,
});
