import { createHash, timingSafeEqual } from 'node:crypto';
import { forEachKey } from '../proxy/commands/key-finder.js';
import type { CommandSpec, CommandTable } from '../proxy/commands/table.js';
import { errorReply } from '../resp/encode.js';
import { globMatch } from '../util/glob.js';

/**
 * A user as the config file describes it (`users:`), in Redis ACL words: `commands` is a list
 * of rules applied in order (`+@read -@dangerous +get -flushall allcommands nocommands
 * +client|list`), `keys` the key patterns (`~cache:* ~{user1}:*`, or `allkeys`).
 */
export interface UserConfig {
  name: string;
  /** The password in clear (from a secret file or env), or its SHA-256 in hex; neither: any password works (Redis' nopass). */
  password?: string;
  sha256?: string;
  commands?: string;
  keys?: string;
  enabled?: boolean;
}

const NOPERM_COMMAND = (name: string): Buffer => errorReply(`NOPERM this user has no permissions to run the '${name}' command`);
const NOPERM_KEY = errorReply('NOPERM this user has no permissions to access one of the keys used as arguments');
/** Commands slotgate adds (PROXY) have no ACL categories in Redis' table: they count as these. */
const OWN_COMMAND_CATEGORIES = ['@admin', '@dangerous', '@slow'];

/** Checks one user's rules; an error text for the first bad rule, else undefined. */
export function checkUserConfig(user: UserConfig): string | undefined {
  if (typeof user.name !== 'string' || !/^[^\s>~&+@-][^\s]*$/.test(user.name)) return `bad user name ${JSON.stringify(user.name)}`;
  if (user.password !== undefined && typeof user.password !== 'string') return `user ${user.name}: password must be a string`;
  if (user.sha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(String(user.sha256))) return `user ${user.name}: sha256 must be 64 hex digits`;
  if (user.password !== undefined && user.sha256 !== undefined) return `user ${user.name}: give password or sha256, not both`;
  for (const rule of words(user.commands ?? 'allcommands')) {
    if (!/^(allcommands|nocommands|[+-]@[a-z]+|[+-][a-z][a-z0-9_.-]*(\|[a-z][a-z0-9_.-]*)?)$/i.test(rule)) return `user ${user.name}: bad command rule '${rule}'`;
  }
  for (const rule of words(user.keys ?? 'allkeys')) {
    if (rule !== 'allkeys' && rule !== 'resetkeys' && !rule.startsWith('~')) return `user ${user.name}: bad key rule '${rule}' (use ~pattern or allkeys)`;
  }
  return undefined;
}

/**
 * One user slotgate's clients can be: its password check (constant time; only SHA-256 digests
 * are kept) and its permissions, compiled once per command table into the set of commands it
 * may run. A user with every command and every key is `unrestricted`: then nothing is checked
 * per request.
 */
export class AclUser {
  readonly name: string;
  readonly enabled: boolean;
  readonly unrestricted: boolean;
  /** Null: no password is needed (nopass). */
  private readonly digest: Buffer | null;
  private readonly commandRules: string[];
  /** Null: every key. */
  private readonly keyPatterns: Buffer[] | null;
  private compiledFor: CommandTable | null = null;
  private allowed = new Set<CommandSpec>();

  constructor(config: UserConfig) {
    this.name = config.name;
    this.enabled = config.enabled !== false;
    if (config.sha256 !== undefined) this.digest = Buffer.from(config.sha256, 'hex');
    else this.digest = config.password === undefined ? null : sha256(Buffer.from(config.password));
    this.commandRules = words(config.commands ?? 'allcommands');
    this.keyPatterns = keyPatterns(words(config.keys ?? 'allkeys'));
    const allCommands = this.commandRules.length > 0 && this.commandRules.every((r) => r === 'allcommands' || r === '+@all');
    this.unrestricted = allCommands && this.keyPatterns === null;
  }

  get nopass(): boolean {
    return this.digest === null;
  }

  /** True when `given` is this user's password (any password for a nopass user), in constant time. */
  checkPassword(given: Buffer): boolean {
    if (this.digest === null) return true;
    return timingSafeEqual(sha256(given), this.digest);
  }

  /** Null when the user may run this request, else Redis' NOPERM error. */
  check(table: CommandTable, spec: CommandSpec, buf: Buffer, argc: number, args: Int32Array): Buffer | null {
    if (this.compiledFor !== table) this.compile(table);
    if (!this.allowed.has(spec)) return NOPERM_COMMAND(spec.name);
    const patterns = this.keyPatterns;
    if (patterns === null || spec.pubsub !== null) return null; // channels are not keys
    let denied = false;
    forEachKey(spec, buf, argc, args, (i) => {
      if (denied) return;
      const key = buf.subarray(args[i * 2], args[i * 2 + 1]);
      if (!patterns.some((p) => globMatch(p, key))) denied = true;
    });
    return denied ? NOPERM_KEY : null;
  }

  /** Applies the rules in order to every command and subcommand of `table`, as ACL SETUSER does. */
  private compile(table: CommandTable): void {
    const all = [...table.all()];
    const allowed = new Set<CommandSpec>();
    const withSubcommands = (spec: CommandSpec): CommandSpec[] => [spec, ...(spec.subcommandNames?.values() ?? [])];
    for (const rule of this.commandRules) {
      const add = rule === 'allcommands' || rule.startsWith('+');
      let targets: CommandSpec[];
      if (rule === 'allcommands' || rule === 'nocommands' || rule === '+@all' || rule === '-@all') targets = all;
      else if (rule[1] === '@') {
        const category = rule.slice(1).toLowerCase();
        targets = all.filter((spec) => categoriesOf(spec).includes(category));
      } else {
        const spec = table.get(rule.slice(1).toLowerCase()) ?? subcommand(table, rule.slice(1).toLowerCase());
        targets = spec === undefined ? [] : spec.name.includes('|') ? [spec] : withSubcommands(spec);
      }
      for (const spec of targets) {
        if (add) allowed.add(spec);
        else allowed.delete(spec);
      }
    }
    this.allowed = allowed;
    this.compiledFor = table;
  }
}

function categoriesOf(spec: CommandSpec): readonly string[] {
  return spec.categories.length > 0 ? spec.categories : OWN_COMMAND_CATEGORIES;
}

function subcommand(table: CommandTable, fullName: string): CommandSpec | undefined {
  const [container, sub] = fullName.split('|');
  return sub === undefined ? undefined : table.get(container)?.subcommandNames?.get(sub);
}

/**
 * The users clients can authenticate as: those of the config, and `default` (the user a new
 * connection is), which is `requirepass`'s when no user named default is configured, with every
 * command and key (nopass without a requirepass, as Redis' default user).
 */
export class UserDirectory {
  private readonly byName = new Map<string, AclUser>();
  readonly defaultUser: AclUser;

  constructor(users: readonly UserConfig[], requirepass: string | undefined) {
    for (const user of users) this.byName.set(user.name, new AclUser(user));
    const configuredDefault = this.byName.get('default');
    this.defaultUser = configuredDefault ?? new AclUser({ name: 'default', password: requirepass });
    this.byName.set('default', this.defaultUser);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The user of this name (enabled or not), undefined when there is none. */
  get(name: string): AclUser | undefined {
    return this.byName.get(name);
  }

  /** The user a new connection is, already authenticated; null when it must AUTH first. */
  get initialUser(): AclUser | null {
    const d = this.defaultUser;
    return d.enabled && d.nopass ? d : null;
  }

  /** The user these credentials authenticate, or null (unknown, disabled or wrong password). */
  authenticate(name: string, password: Buffer): AclUser | null {
    const user = this.byName.get(name);
    // A password is checked even for an unknown user, so the reply takes as long either way.
    const ok = user === undefined ? (sha256(password), false) : user.checkPassword(password);
    return user !== undefined && user.enabled && ok ? user : null;
  }
}

function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => w !== '');
}

function keyPatterns(rules: string[]): Buffer[] | null {
  let patterns: Buffer[] | null = [];
  for (const rule of rules) {
    if (rule === 'allkeys' || rule === '~*') patterns = null;
    else if (rule === 'resetkeys') patterns = [];
    else if (patterns !== null) patterns.push(Buffer.from(rule.slice(1)));
  }
  return patterns;
}
