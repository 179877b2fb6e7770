import type { CommandStat } from '../../telemetry/command-stats.js';
import { createRequire } from 'node:module';
import type { CommandInfo } from './command-info.js';
import type { KeyLayout } from './key-finder.js';
import { ByteNameIndex } from './byte-name-index.js';
import * as local from './local-handlers.js';
import type { LocalHandler } from './local-handlers.js';
import * as emulation from './cluster-emulation.js';
import { onEveryMaster, onSlotArgument, scan, info, debugObject, type ClusterHandler } from './cluster-wide.js';
import { proxy } from './proxy-command.js';
import { scriptFlush, scriptLoad } from '../scripts/script-commands.js';
import { clientKill, clientList, clientNoEvict } from './client-control.js';
import type { MergeKind } from '../fanout/merge.js';

/**
 * What slotgate does with a command:
 * - forward: to the master of its keys' slot (keyless: to a master);
 * - split: like forward when its keys share a slot; across slots (with cross-slot `split`)
 *   one sub-command per slot, replies merged (`merge`);
 * - local: answered by slotgate itself (`handler`);
 * - cluster: answered by asking the cluster (`cluster`): every master, a slot's owner...;
 * - admin: like cluster (or local, with a `handler`: CLIENT KILL), but only with
 *   `admin-commands` on (it changes nodes or kills clients), else refused;
 * - transaction: MULTI, EXEC, DISCARD, WATCH, UNWATCH (`transaction` names which): run on a
 *   dedicated node connection lent to the client for the transaction (src/proxy/private/);
 * - blocking: a command that may block its connection (BLPOP, XREAD ... BLOCK): sent alone on a
 *   dedicated node connection, the client's later requests wait for its reply, as on Redis;
 * - pubsub: SUBSCRIBE and friends: the client's subscriptions live on dedicated connections;
 * - private: ties state to the connection in a way slotgate does not carry (WAIT, CLIENT
 *   TRACKING): refused with a clear error;
 * - deny: acts on the node's own connection, the node itself or the cluster's layout; never
 *   through a proxy (`detail`, when given, says why in the refusal).
 */
export type Policy = 'forward' | 'split' | 'local' | 'cluster' | 'admin' | 'transaction' | 'blocking' | 'pubsub' | 'private' | 'deny';

/** Which transaction command a `transaction` entry is. */
export type TransactionStep = 'multi' | 'exec' | 'discard' | 'watch' | 'unwatch';

/** Which subscription command a `pubsub` entry is (s: sharded, p: pattern). */
export type PubSubStep = 'subscribe' | 'psubscribe' | 'ssubscribe' | 'unsubscribe' | 'punsubscribe' | 'sunsubscribe';

/** How the replies of a split multi-key command are merged. */
export type SplitMerge = Extract<MergeKind, 'ordered-array' | 'all-ok' | 'sum'>;

interface PolicyEntry {
  policy: Policy;
  handler?: LocalHandler;
  cluster?: ClusterHandler;
  merge?: SplitMerge;
  /** What the handler does, for PROXY COMMAND. */
  detail?: string;
  /** `admin` only: what it does once admin-commands allows it, for its refusal (default: sent to every master). */
  whenAllowed?: string;
  /** Allowed before AUTH (Redis' no_auth flag is also honoured). */
  noAuth?: boolean;
  /** `blocking` only when this keyword is among the arguments (XREAD ... BLOCK). */
  blockingWithKeyword?: string;
  transaction?: TransactionStep;
  pubsub?: PubSubStep;
  /** While subscribed (RESP2): answered by slotgate (QUIT, RESET) or sent on a subscription link (PING); others are refused, as Redis does. */
  inSubscription?: 'local' | 'node';
  /** Routes as if its keys were in this slot (PUBLISH: to the master slotgate keeps subscriptions on). */
  fixedSlot?: number;
  /** A local command the nodes also answer the same way, so it can be queued in MULTI there (PING, ECHO). */
  nodeToo?: boolean;
  /** Arity for commands Redis does not have (slotgate's own). */
  arity?: number;
  /** Its first argument is a Lua script, remembered (by sha) for NOSCRIPT recovery (EVAL). */
  remembersScript?: boolean;
}

const localCmd = (handler: LocalHandler, extra: Partial<PolicyEntry> = {}): PolicyEntry => ({ policy: 'local', handler, ...extra });
const split = (merge: SplitMerge): PolicyEntry => ({ policy: 'split', merge, detail: merge });
const everyMaster = (kind: Exclude<MergeKind, 'ordered-array'>): PolicyEntry => ({
  policy: 'cluster',
  cluster: onEveryMaster(kind),
  detail: `every master, ${kind}`,
});
const custom = (cluster: ClusterHandler, detail: string, extra: Partial<PolicyEntry> = {}): PolicyEntry => ({
  policy: 'cluster',
  cluster,
  detail,
  ...extra,
});
const admin = (kind: Exclude<MergeKind, 'ordered-array'>): PolicyEntry => ({ ...everyMaster(kind), policy: 'admin' });
const PRIVATE: PolicyEntry = { policy: 'private' };
/** The slot whose master carries slotgate's (non-sharded) subscriptions and gets its PUBLISHes. */
export const PUBSUB_SLOT = 0;
const tx = (step: TransactionStep): PolicyEntry => ({ policy: 'transaction', transaction: step, detail: 'dedicated connection' });
const pubsub = (step: PubSubStep): PolicyEntry => ({ policy: 'pubsub', pubsub: step, detail: 'dedicated connection' });
const DENY: PolicyEntry = { policy: 'deny' };

/**
 * The one declarative table of exceptions to "forward by key slot". Everything not listed is
 * forwarded, except commands Redis flags `blocking`, which are `blocking`.
 */
const POLICIES: Record<string, PolicyEntry> = {
  ping: localCmd(local.ping, { nodeToo: true, inSubscription: 'node' }),
  echo: localCmd(local.echo, { nodeToo: true }),
  quit: localCmd(local.quit, { noAuth: true, inSubscription: 'local' }),
  select: localCmd(local.select),
  auth: localCmd(local.auth, { noAuth: true }),
  hello: localCmd(local.hello, { noAuth: true }),
  reset: localCmd(local.reset, { noAuth: true, inSubscription: 'local' }),
  readonly: localCmd(local.ok),
  readwrite: localCmd(local.ok),
  asking: localCmd(local.ok),
  'client|setname': localCmd(local.clientSetName),
  'client|getname': localCmd(local.clientGetName),
  'client|id': localCmd(local.clientId),
  'client|setinfo': localCmd(local.clientSetInfo),
  // Through the primary to every worker (threads > 1): asynchronous, so answered in order as a cluster command.
  'client|list': custom(clientList, "slotgate's clients, every worker's"),
  'client|info': localCmd(local.clientInfo),
  'client|reply': localCmd(local.clientReply),
  'acl|whoami': localCmd(local.aclWhoAmI, { detail: "the slotgate user the client is" }),
  'client|no-evict': localCmd(clientNoEvict, { detail: 'accepted, no effect (the nodes see only shared links)' }),
  'client|kill': { policy: 'admin', cluster: clientKill, detail: "slotgate's own clients", whenAllowed: "acting on slotgate's own clients" },
  proxy: custom(proxy, 'slotgate admin', { arity: -2 }),

  // Multi-key commands that can be cut per slot without changing their meaning.
  mget: split('ordered-array'),
  mset: split('all-ok'),
  del: split('sum'),
  unlink: split('sum'),
  exists: split('sum'),
  touch: split('sum'),

  // Scripts: routed by their keys; their bodies remembered to load them on a node that lacks them.
  eval: { policy: 'forward', remembersScript: true, detail: 'script remembered for NOSCRIPT recovery' },
  eval_ro: { policy: 'forward', remembersScript: true, detail: 'script remembered for NOSCRIPT recovery' },

  // The whole keyspace, answered as one server would.
  dbsize: everyMaster('sum'),
  keys: everyMaster('concat'),
  scan: custom(scan, 'every slot in order, owner then other masters'),
  randomkey: everyMaster('random'),
  flushall: everyMaster('all-ok'),
  flushdb: everyMaster('all-ok'),
  lastsave: everyMaster('min'),
  info: custom(info, 'one master, proxy section, keyspace summed'),
  'script|load': custom(scriptLoad, 'every master, all-ok; the script is remembered for NOSCRIPT recovery'),
  'script|flush': custom(scriptFlush, 'every master, all-ok; remembered scripts forgotten'),
  'script|kill': everyMaster('any-ok'),
  'script|exists': everyMaster('and-array'),
  'function|load': everyMaster('all-ok'),
  'function|delete': everyMaster('all-ok'),
  'function|flush': everyMaster('all-ok'),
  'function|restore': everyMaster('all-ok'),
  'function|kill': everyMaster('any-ok'),
  'pubsub|channels': everyMaster('union'),
  'pubsub|numsub': everyMaster('pairs-sum'),
  'pubsub|numpat': everyMaster('sum'),
  'pubsub|shardchannels': everyMaster('union'),
  'pubsub|shardnumsub': everyMaster('pairs-sum'),
  // slotgate's own slow log: end-to-end times through slotgate, with the node that served each.
  'slowlog|get': localCmd(local.slowlogGet),
  'slowlog|len': localCmd(local.slowlogLen),
  'slowlog|reset': localCmd(local.slowlogReset),

  // One node that owns every slot, at slotgate's address (cluster-aware clients).
  'cluster|info': localCmd(emulation.clusterInfo),
  'cluster|slots': localCmd(emulation.clusterSlots),
  'cluster|shards': localCmd(emulation.clusterShards),
  'cluster|nodes': localCmd(emulation.clusterNodes),
  'cluster|myid': localCmd(emulation.clusterMyId),
  'cluster|keyslot': localCmd(emulation.clusterKeySlot),
  'cluster|replicas': localCmd(emulation.clusterReplicas),
  'cluster|slaves': localCmd(emulation.clusterReplicas),
  'cluster|links': localCmd(emulation.clusterLinks),
  'cluster|count-failure-reports': localCmd(emulation.clusterCountFailureReports),
  'cluster|countkeysinslot': custom(onSlotArgument, 'owner of the slot argument'),
  'cluster|getkeysinslot': custom(onSlotArgument, 'owner of the slot argument'),

  // Administrative: only with admin-commands, then on every master.
  'config|set': admin('all-ok'),
  'config|resetstat': admin('all-ok'),
  'config|rewrite': admin('all-ok'),
  'memory|purge': admin('all-ok'),
  'latency|reset': admin('sum'),
  'acl|setuser': admin('all-ok'),
  'acl|deluser': admin('all-ok'),
  'acl|save': admin('all-ok'),
  'acl|load': admin('all-ok'),
  'acl|log': admin('concat'),
  bgsave: admin('all-ok'),
  save: admin('all-ok'),
  bgrewriteaof: admin('all-ok'),
  debug: { ...custom(debugObject, 'DEBUG OBJECT routed by key'), policy: 'admin' },

  multi: tx('multi'),
  exec: tx('exec'),
  discard: tx('discard'),
  watch: tx('watch'),
  unwatch: tx('unwatch'),
  // Subscriptions are kept on the master of slot 0 (SUBSCRIBEs are answered there), so PUBLISH
  // goes there too and counts every receiver, as on one server (a cluster node counts its own).
  publish: { policy: 'forward', fixedSlot: PUBSUB_SLOT, detail: `master of slot ${PUBSUB_SLOT}, where subscriptions are` },
  subscribe: pubsub('subscribe'),
  psubscribe: pubsub('psubscribe'),
  ssubscribe: pubsub('ssubscribe'),
  unsubscribe: pubsub('unsubscribe'),
  punsubscribe: pubsub('punsubscribe'),
  sunsubscribe: pubsub('sunsubscribe'),
  // WAIT counts the replicas that have this connection's writes: a shared link's writes are
  // everybody's. CLIENT TRACKING sends invalidations to a connection slotgate shares.
  wait: PRIVATE,
  'client|tracking': PRIVATE,
  'client|caching': PRIVATE,
  xread: { policy: 'forward', blockingWithKeyword: 'block' },
  xreadgroup: { policy: 'forward', blockingWithKeyword: 'block' },

  monitor: DENY,
  sync: DENY,
  psync: DENY,
  replconf: DENY,
  shutdown: DENY,
  replicaof: DENY,
  slaveof: DENY,
  failover: DENY,
  module: DENY,
  migrate: DENY,
  'client|pause': DENY,
  'client|unpause': DENY,
  'client|unblock': DENY,
  // Redis 7.2+: CLIENT NO-TOUCH would have to apply to the shared links, so to every client on them.
  'client|no-touch': {
    policy: 'deny',
    detail: "slotgate's clients share its node connections, which cannot honour one client's NO-TOUCH (it would apply to every client on them)",
  },
  ...Object.fromEntries(
    [
      'addslots', 'addslotsrange', 'bumpepoch', 'delslots', 'delslotsrange', 'failover', 'flushslots', 'forget',
      'meet', 'replicate', 'reset', 'saveconfig', 'set-config-epoch', 'setslot',
    ].map((sub) => [`cluster|${sub}`, DENY]),
  ),
};

export interface CommandSpec extends KeyLayout {
  /** Lower case; `container|sub` for subcommands. */
  name: string;
  arity: number;
  policy: Policy;
  handler: LocalHandler | null;
  cluster: ClusterHandler | null;
  merge: SplitMerge | null;
  detail: string;
  whenAllowed: string;
  noAuth: boolean;
  blockingWithKeyword: string | null;
  transaction: TransactionStep | null;
  pubsub: PubSubStep | null;
  nodeToo: boolean;
  /** Redis' `readonly` flag: safe to send again when its connection was lost before the reply. */
  readOnly: boolean;
  /** ACL categories from the cluster's COMMAND (`@read`...): what `+@read` in a user's rules selects. */
  categories: readonly string[];
  /** -1, or the slot it routes by whatever its arguments (see PolicyEntry). */
  fixedSlot: number;
  inSubscription: 'local' | 'node' | null;
  remembersScript: boolean;
  /** For container commands (CLIENT, CONFIG, OBJECT...): their subcommands, by name in any case. */
  subcommands: ByteNameIndex<CommandSpec> | null;
  /** Subcommands by lower-case name (for tools and tests; requests use `subcommands`). */
  subcommandNames: Map<string, CommandSpec> | null;
  /** Counts and reply times of this command (bound by the proxy's CommandStats; top-level commands only). */
  stat: CommandStat | null;
}

export class CommandTable {
  private readonly byName = new Map<string, CommandSpec>();
  private readonly index = new ByteNameIndex<CommandSpec>();

  constructor(infos: CommandInfo[], readonly source: string) {
    for (const info of infos) this.add(toSpec(info));
    for (const [name, entry] of Object.entries(POLICIES)) {
      if (entry.arity !== undefined && !name.includes('|') && !this.byName.has(name)) {
        this.add(toSpec({ name, arity: entry.arity, flags: [], firstKey: 0, lastKey: 0, keyStep: 0, keySpecs: [], subcommands: [] }));
      }
    }
  }

  get size(): number {
    return this.byName.size;
  }

  private add(spec: CommandSpec): void {
    this.byName.set(spec.name, spec);
    this.index.add(spec.name, spec);
  }

  /** The command whose name is buf[start, end), in any letter case. */
  lookup(buf: Buffer, start: number, end: number): CommandSpec | undefined {
    return this.index.find(buf, start, end);
  }

  get(name: string): CommandSpec | undefined {
    return this.byName.get(name.toLowerCase());
  }

  /** Every command and subcommand, by name. */
  *all(): IterableIterator<CommandSpec> {
    for (const spec of this.byName.values()) {
      yield spec;
      if (spec.subcommandNames !== null) yield* spec.subcommandNames.values();
    }
  }
}

function toSpec(info: CommandInfo): CommandSpec {
  const entry = POLICIES[info.name];
  const blocking = info.flags.includes('blocking') && entry?.blockingWithKeyword === undefined;
  return {
    name: info.name,
    arity: info.arity,
    policy: entry?.policy ?? (blocking ? 'blocking' : 'forward'),
    handler: entry?.handler ?? null,
    cluster: entry?.cluster ?? null,
    merge: entry?.merge ?? null,
    detail: entry?.detail ?? '',
    whenAllowed: entry?.whenAllowed ?? 'sent to every master',
    noAuth: entry?.noAuth ?? info.flags.includes('no_auth'),
    blockingWithKeyword: entry?.blockingWithKeyword ?? null,
    transaction: entry?.transaction ?? null,
    pubsub: entry?.pubsub ?? null,
    nodeToo: entry?.nodeToo ?? false,
    readOnly: info.flags.includes('readonly'),
    categories: info.categories ?? [],
    inSubscription: entry?.inSubscription ?? null,
    fixedSlot: entry?.fixedSlot ?? -1,
    remembersScript: entry?.remembersScript ?? false,
    fixed: !info.flags.includes('movablekeys'),
    firstKey: info.firstKey,
    lastKey: info.lastKey,
    keyStep: info.keyStep,
    keySpecs: info.keySpecs,
    stat: null,
    ...subcommandIndexes(info.subcommands.map(toSpec)),
  };
}

function subcommandIndexes(subs: CommandSpec[]): Pick<CommandSpec, 'subcommands' | 'subcommandNames'> {
  if (subs.length === 0) return { subcommands: null, subcommandNames: null };
  const subcommands = new ByteNameIndex<CommandSpec>();
  const subcommandNames = new Map<string, CommandSpec>();
  for (const sub of subs) {
    const name = sub.name.split('|')[1];
    subcommands.add(name, sub);
    subcommandNames.set(name, sub);
  }
  return { subcommands, subcommandNames };
}

interface FallbackFile {
  redisVersion: string;
  commands: CommandInfo[];
}

/** The committed table generated from Redis 7.0 (`npm run gen:commands`), used until the cluster answers COMMAND. */
export function fallbackCommandTable(): CommandTable {
  const require = createRequire(import.meta.url);
  // `npm run build` copies the JSON next to the compiled module.
  const file = require('./fallback-commands.json') as FallbackFile;
  return new CommandTable(file.commands, `fallback (Redis ${file.redisVersion})`);
}
