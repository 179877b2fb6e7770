import { createRequire } from 'node:module';
import type { CommandInfo } from './command-info.js';
import type { KeyLayout } from './key-finder.js';
import { ByteNameIndex } from './byte-name-index.js';
import * as local from './local-handlers.js';
import type { LocalHandler } from './local-handlers.js';

/**
 * What slotgate does with a command:
 * - forward: to the master of its keys' slot (keyless: to a master);
 * - local: answered by slotgate itself;
 * - private: ties state to the connection (transactions, blocking, pub/sub), so it needs a
 *   dedicated node connection, which this version does not offer yet: refused with a clear error;
 * - deny: acts on the node's own connection or the node itself; never through a proxy.
 */
export type Policy = 'forward' | 'local' | 'private' | 'deny';

interface PolicyEntry {
  policy: Policy;
  handler?: LocalHandler;
  /** Allowed before AUTH (Redis' no_auth flag is also honoured). */
  noAuth?: boolean;
  /** `private` only when this keyword is among the arguments (XREAD ... BLOCK). */
  privateWithKeyword?: string;
  /** Arity for commands Redis does not have (slotgate's own). */
  arity?: number;
}

const localCmd = (handler: LocalHandler, extra: Partial<PolicyEntry> = {}): PolicyEntry => ({ policy: 'local', handler, ...extra });
const PRIVATE: PolicyEntry = { policy: 'private' };
const DENY: PolicyEntry = { policy: 'deny' };

/**
 * The one declarative table of exceptions to "forward by key slot". Everything not listed is
 * forwarded, except commands Redis flags `blocking`, which are `private`.
 */
const POLICIES: Record<string, PolicyEntry> = {
  ping: localCmd(local.ping),
  echo: localCmd(local.echo),
  quit: localCmd(local.quit, { noAuth: true }),
  select: localCmd(local.select),
  auth: localCmd(local.auth, { noAuth: true }),
  hello: localCmd(local.hello, { noAuth: true }),
  reset: localCmd(local.reset, { noAuth: true }),
  readonly: localCmd(local.ok),
  readwrite: localCmd(local.ok),
  asking: localCmd(local.ok),
  'client|setname': localCmd(local.clientSetName),
  'client|getname': localCmd(local.clientGetName),
  'client|id': localCmd(local.clientId),
  'client|setinfo': localCmd(local.clientSetInfo),
  proxy: localCmd(local.proxy, { arity: -2 }),

  multi: PRIVATE,
  exec: PRIVATE,
  discard: PRIVATE,
  watch: PRIVATE,
  unwatch: PRIVATE,
  wait: PRIVATE,
  subscribe: PRIVATE,
  psubscribe: PRIVATE,
  ssubscribe: PRIVATE,
  unsubscribe: PRIVATE,
  punsubscribe: PRIVATE,
  sunsubscribe: PRIVATE,
  'client|tracking': PRIVATE,
  'client|caching': PRIVATE,
  xread: { policy: 'forward', privateWithKeyword: 'block' },
  xreadgroup: { policy: 'forward', privateWithKeyword: 'block' },

  monitor: DENY,
  sync: DENY,
  psync: DENY,
  replconf: DENY,
  shutdown: DENY,
  replicaof: DENY,
  slaveof: DENY,
  failover: DENY,
  debug: DENY,
  'client|kill': DENY,
  'client|pause': DENY,
  'client|unpause': DENY,
  'client|reply': DENY,
  'client|no-evict': DENY,
  'client|unblock': DENY,
};

export interface CommandSpec extends KeyLayout {
  /** Lower case; `container|sub` for subcommands. */
  name: string;
  arity: number;
  policy: Policy;
  handler: LocalHandler | null;
  noAuth: boolean;
  privateWithKeyword: string | null;
  /** For container commands (CLIENT, CONFIG, OBJECT...): their subcommands, by name in any case. */
  subcommands: ByteNameIndex<CommandSpec> | null;
  /** Subcommands by lower-case name (for tools and tests; requests use `subcommands`). */
  subcommandNames: Map<string, CommandSpec> | null;
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
}

function toSpec(info: CommandInfo): CommandSpec {
  const entry = POLICIES[info.name];
  const blocking = info.flags.includes('blocking') && entry?.privateWithKeyword === undefined;
  return {
    name: info.name,
    arity: info.arity,
    policy: entry?.policy ?? (blocking ? 'private' : 'forward'),
    handler: entry?.handler ?? null,
    noAuth: entry?.noAuth ?? info.flags.includes('no_auth'),
    privateWithKeyword: entry?.privateWithKeyword ?? null,
    fixed: !info.flags.includes('movablekeys'),
    firstKey: info.firstKey,
    lastKey: info.lastKey,
    keyStep: info.keyStep,
    keySpecs: info.keySpecs,
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
