/**
 * The client side of the pod-churn simulation (bench/churn/sim.ts), started inside the client
 * network namespace next to slotgate and driven over the IPC channel. It runs
 *  - the load (bench/chaos/load.ts: writers of unique keys, readers of acknowledged keys, ioredis
 *    in plain mode through slotgate, one request in flight each);
 *  - two probes every 100 ms, each a SET of 64 keys, one every 256 slots (so every master's
 *    range is covered whatever the layout): through slotgate, and straight to the nodes (the
 *    nodes found through the headless Service's DNS names, the owner of each slot asked for by
 *    CLUSTER SLOTS, one MOVED followed), i.e. when Redis itself serves every slot again;
 *  - cluster checks (CLUSTER NODES / INFO of every pod) and the read-back of every acknowledged
 *    write straight from the cluster (ioredis in Cluster mode).
 *
 *   node dist/bench/churn/agent.js '{"proxyPort":7777,"names":[...],"redisPort":6379,...}'
 */
import { lookup } from 'node:dns/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import calculateSlot from 'cluster-key-slot';
import { Cluster, Redis } from 'ioredis';
import { Load, verifyAcked, type Client } from '../chaos/load.js';

export interface AgentConfig {
  proxyPort: number;
  /** DNS names of every pod (redis-cluster-<i>.redis-cluster-headless). */
  names: string[];
  redisPort: number;
  writers: number;
  readers: number;
  pauseMs: number;
  slowMs: number;
}

export interface ProbeRound {
  start: number;
  end: number;
  ok: boolean;
  error?: string;
}

export interface NodeLine {
  id: string;
  addr: string;
  flags: string[];
  master: string;
  link: string;
  slots: string[];
}

export interface PodView {
  name: string;
  ip: string | null;
  state: string | null;
  nodes: NodeLine[];
  /** A replica's master_link_status is up (true on masters). */
  synced: boolean;
  error?: string;
}

export type Request =
  | { id: number; type: 'load-start'; prefix: string }
  | { id: number; type: 'load-stop' }
  | { id: number; type: 'verify' }
  | { id: number; type: 'probes'; since: number }
  | { id: number; type: 'views' }
  | { id: number; type: 'command'; ip: string; args: string[] }
  | { id: number; type: 'exit' };

export interface LoadResult {
  ops: number;
  errors: { t: number; op: string; message: string }[];
  bad: { start: number; end: number }[];
  maxMs: number;
  acked: number;
}

const PROBE_KEYS: string[] = (() => {
  const keys: string[] = new Array(64);
  let filled = 0;
  for (let n = 0; filled < 64; n++) {
    const key = `churn:probe:${n}`;
    const bucket = Math.floor(calculateSlot(key) / 256);
    if (keys[bucket] === undefined) {
      keys[bucket] = key;
      filled++;
    }
  }
  return keys;
})();

function plainClient(host: string, port: number, commandTimeout: number): Redis {
  const c = new Redis({
    host,
    port,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    enableOfflineQueue: true,
    connectTimeout: 1000,
    commandTimeout,
    retryStrategy: () => 100,
    lazyConnect: false,
  });
  c.on('error', () => {});
  return c;
}

async function resolve(name: string): Promise<string | null> {
  try {
    return (await lookup(name, { family: 4 })).address;
  } catch {
    return null;
  }
}

function parseNodes(text: string): NodeLine[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const f = l.trim().split(' ');
      return { id: f[0], addr: f[1].split('@')[0], flags: f[2].split(','), master: f[3], link: f[7], slots: f.slice(8) };
    });
}

class Agent {
  private load: Load | null = null;
  private loadClients: Client[] = [];
  private lastLoad: Load | null = null;
  private readonly proxyRounds: ProbeRound[] = [];
  private readonly directRounds: ProbeRound[] = [];
  private proxyProbe: Redis;
  private readonly direct = new Map<string, Redis>();
  private running = true;

  constructor(private readonly c: AgentConfig) {
    this.proxyProbe = plainClient('127.0.0.1', c.proxyPort, 1000);
    void this.probeLoop(this.proxyRounds, () => this.probeProxy());
    void this.probeLoop(this.directRounds, () => this.probeDirect());
  }

  private async probeLoop(rounds: ProbeRound[], probe: () => Promise<void>): Promise<void> {
    while (this.running) {
      const start = Date.now();
      let error: string | undefined;
      let timer: NodeJS.Timeout | undefined;
      try {
        // A round is over after 1 s at most, so that a hanging one shows as a failure at once.
        await Promise.race([
          probe(),
          new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('probe round took over 1 s')), 1000))),
        ]);
      } catch (err) {
        error = (err as Error).message;
      } finally {
        clearTimeout(timer);
      }
      rounds.push({ start, end: Date.now(), ok: error === undefined, ...(error === undefined ? {} : { error }) });
      if (rounds.length > 20_000) rounds.splice(0, 10_000);
      await sleep(Math.max(0, 100 - (Date.now() - start)));
    }
  }

  private async probeProxy(): Promise<void> {
    const p = this.proxyProbe.pipeline();
    for (const k of PROBE_KEYS) p.set(k, 'p');
    try {
      const replies = (await p.exec()) ?? [];
      for (const [err] of replies) if (err) throw err;
      if (replies.length !== PROBE_KEYS.length) throw new Error(`${replies.length} replies`);
    } catch (err) {
      // A timed-out request stays in flight on that connection: the next round uses a fresh one.
      if (/timed out/i.test((err as Error).message)) {
        this.proxyProbe.disconnect();
        this.proxyProbe = plainClient('127.0.0.1', this.c.proxyPort, 1000);
      }
      throw err;
    }
  }

  private node(addr: string): Redis {
    let c = this.direct.get(addr);
    if (c === undefined) {
      const i = addr.lastIndexOf(':');
      c = plainClient(addr.slice(0, i), Number(addr.slice(i + 1)), 500);
      this.direct.set(addr, c);
    }
    return c;
  }

  private dropNode(addr: string): void {
    this.direct.get(addr)?.disconnect();
    this.direct.delete(addr);
  }

  private async podIps(): Promise<string[]> {
    return (await Promise.all(this.c.names.map(resolve))).filter((ip): ip is string => ip !== null);
  }

  /** Redis itself: every probe key's slot owner (by CLUSTER SLOTS of the first pod that answers) takes the SET. */
  private async probeDirect(): Promise<void> {
    type Slots = [number, number, [string, number, ...unknown[]], ...unknown[]][];
    let got: Slots | null = null;
    const errors: string[] = [];
    for (const ip of await this.podIps()) {
      const addr = `${ip}:${this.c.redisPort}`;
      try {
        got = (await this.node(addr).call('CLUSTER', 'SLOTS')) as Slots;
        break;
      } catch (err) {
        errors.push(`${addr}: ${(err as Error).message}`);
        if (/timed out/i.test((err as Error).message)) this.dropNode(addr);
      }
    }
    const slots = got as Slots | null;
    if (slots === null) throw new Error(`no pod gave CLUSTER SLOTS (${errors.join('; ')})`);
    const owner = new Array<string | undefined>(16384);
    for (const [from, to, [host, port]] of slots) for (let s = from; s <= to; s++) owner[s] = `${host}:${port}`;
    await Promise.all(
      PROBE_KEYS.map(async (key) => {
        let addr = owner[calculateSlot(key)];
        if (addr === undefined) throw new Error(`slot ${calculateSlot(key)} not covered`);
        for (let hop = 0; ; hop++) {
          try {
            await this.node(addr).set(key, 'd');
            return;
          } catch (err) {
            const m = /^(MOVED|ASK) \d+ (\S+)/.exec((err as Error).message);
            if (m !== null && hop === 0) {
              addr = m[2];
              continue;
            }
            if (/timed out/i.test((err as Error).message)) this.dropNode(addr);
            throw new Error(`${addr}: ${(err as Error).message}`);
          }
        }
      }),
    );
  }

  async handle(r: Request): Promise<unknown> {
    switch (r.type) {
      case 'load-start': {
        const make = (): Client => {
          const c = plainClient('127.0.0.1', this.c.proxyPort, 10_000);
          this.loadClients.push(c);
          return c;
        };
        this.load = new Load({
          prefix: r.prefix,
          writers: Array.from({ length: this.c.writers }, make),
          readers: Array.from({ length: this.c.readers }, make),
          pauseMs: this.c.pauseMs,
          slowMs: this.c.slowMs,
        });
        await Promise.all(this.loadClients.map((c) => (c as Redis).ping()));
        this.load.start();
        return null;
      }
      case 'load-stop': {
        const load = this.load;
        if (load === null) throw new Error('no load running');
        await load.stop();
        for (const c of this.loadClients) c.disconnect();
        this.loadClients = [];
        this.load = null;
        this.lastLoad = load;
        const result: LoadResult = {
          ops: load.ops,
          errors: load.errors.map((e) => ({ t: e.t, op: e.op, message: e.message })),
          bad: load.bad,
          maxMs: load.maxMs,
          acked: load.acked,
        };
        return result;
      }
      case 'verify': {
        const load = this.lastLoad;
        if (load === null) throw new Error('no load to verify');
        const ips = await this.podIps();
        const cluster = new Cluster(ips.map((host) => ({ host, port: this.c.redisPort })), {
          enableAutoPipelining: true,
          redisOptions: { commandTimeout: 5000, connectTimeout: 1000 },
        });
        cluster.on('error', () => {});
        try {
          const { checked, lost } = await verifyAcked(cluster, load.ackedKeys());
          return { checked, lost: lost.length, sample: lost.slice(0, 5) };
        } finally {
          cluster.disconnect();
        }
      }
      case 'probes':
        return {
          proxy: this.proxyRounds.filter((p) => p.end >= r.since),
          direct: this.directRounds.filter((p) => p.end >= r.since),
        };
      case 'views':
        return Promise.all(
          this.c.names.map(async (name): Promise<PodView> => {
            const ip = await resolve(name);
            if (ip === null) return { name, ip, state: null, nodes: [], synced: false, error: 'does not resolve' };
            try {
              const c = this.node(`${ip}:${this.c.redisPort}`);
              const [info, nodes, repl] = await Promise.all([c.call('CLUSTER', 'INFO'), c.call('CLUSTER', 'NODES'), c.call('INFO', 'replication')]);
              const state = /cluster_state:(\w+)/.exec(String(info))?.[1] ?? null;
              const r = String(repl);
              const synced = r.includes('role:master') || r.includes('master_link_status:up');
              return { name, ip, state, nodes: parseNodes(String(nodes)), synced };
            } catch (err) {
              return { name, ip, state: null, nodes: [], synced: false, error: (err as Error).message };
            }
          }),
        );
      case 'command':
        return this.node(`${r.ip}:${this.c.redisPort}`).call(r.args[0], ...r.args.slice(1));
      case 'exit':
        this.running = false;
        await this.load?.stop();
        for (const c of [...this.loadClients, this.proxyProbe, ...this.direct.values()]) c.disconnect();
        setTimeout(() => process.exit(0), 50);
        return null;
    }
  }
}

const agent = new Agent(JSON.parse(process.argv[2] ?? '{}') as AgentConfig);
process.on('message', (r: Request) => {
  agent.handle(r).then(
    (value) => process.send?.({ id: r.id, value }),
    (err: Error) => process.send?.({ id: r.id, error: err.message }),
  );
});
// The simulation gone (its IPC channel closed): nothing to do here any more.
process.on('disconnect', () => process.exit(0));
process.send?.({ id: 0, value: 'ready' });
