/**
 * What slotgate knows of one Redis command, normalized from the reply of Redis' own `COMMAND`
 * (Redis 7 layout: name, arity, flags, first key, last key, step, ACL categories, tips,
 * key specs, subcommands). The same shape is stored in the committed fallback table.
 */
export interface CommandInfo {
  /** Lower case; subcommands are `container|sub`. */
  name: string;
  arity: number;
  flags: string[];
  firstKey: number;
  lastKey: number;
  keyStep: number;
  /** ACL categories (`@read`, `@dangerous`...), lower case; empty in tables older than Redis 6. */
  categories?: string[];
  keySpecs: KeySpec[];
  subcommands: CommandInfo[];
}

export type BeginSearch =
  | { type: 'index'; index: number }
  | { type: 'keyword'; keyword: string; startFrom: number }
  | { type: 'unknown' };

export type FindKeys =
  | { type: 'range'; lastKey: number; keyStep: number; limit: number }
  | { type: 'keynum'; keyNumIndex: number; firstKey: number; keyStep: number }
  | { type: 'unknown' };

export interface KeySpec {
  flags: string[];
  beginSearch: BeginSearch;
  findKeys: FindKeys;
}

/** Parses the decoded (RESP2) reply of `COMMAND` / `COMMAND INFO`; skips entries it cannot read. */
export function parseCommandReply(reply: unknown): CommandInfo[] {
  if (!Array.isArray(reply)) throw new Error('COMMAND reply is not an array');
  const out: CommandInfo[] = [];
  for (const entry of reply) {
    const info = parseEntry(entry);
    if (info) out.push(info);
  }
  return out;
}

function parseEntry(entry: unknown): CommandInfo | null {
  if (!Array.isArray(entry) || entry.length < 6) return null;
  const [name, arity, flags, firstKey, lastKey, step] = entry;
  if (typeof name !== 'string' || !isInt(arity) || !isInt(firstKey) || !isInt(lastKey) || !isInt(step)) return null;
  return {
    name: name.toLowerCase(),
    arity,
    flags: Array.isArray(flags) ? flags.map((f) => String(f).toLowerCase()) : [],
    firstKey,
    lastKey,
    keyStep: step,
    categories: Array.isArray(entry[6]) ? entry[6].map((c) => String(c).toLowerCase()) : [],
    keySpecs: Array.isArray(entry[8]) ? entry[8].map(parseKeySpec) : [],
    subcommands: Array.isArray(entry[9]) ? parseCommandReply(entry[9]) : [],
  };
}

/** RESP2 maps arrive as flat [key, value, key, value...] arrays. */
function pairs(v: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (Array.isArray(v)) for (let i = 0; i + 1 < v.length; i += 2) out[String(v[i])] = v[i + 1];
  return out;
}

function parseKeySpec(raw: unknown): KeySpec {
  const spec = pairs(raw);
  const flags = Array.isArray(spec.flags) ? spec.flags.map((f) => String(f).toLowerCase()) : [];
  const bs = pairs(spec.begin_search);
  const bsSpec = pairs(bs.spec);
  let beginSearch: BeginSearch = { type: 'unknown' };
  if (bs.type === 'index' && isInt(bsSpec.index)) beginSearch = { type: 'index', index: bsSpec.index };
  else if (bs.type === 'keyword' && typeof bsSpec.keyword === 'string' && isInt(bsSpec.startfrom)) {
    beginSearch = { type: 'keyword', keyword: bsSpec.keyword.toLowerCase(), startFrom: bsSpec.startfrom };
  }
  const fk = pairs(spec.find_keys);
  const fkSpec = pairs(fk.spec);
  let findKeys: FindKeys = { type: 'unknown' };
  if (fk.type === 'range' && isInt(fkSpec.lastkey) && isInt(fkSpec.keystep) && isInt(fkSpec.limit)) {
    findKeys = { type: 'range', lastKey: fkSpec.lastkey, keyStep: fkSpec.keystep, limit: fkSpec.limit };
  } else if (fk.type === 'keynum' && isInt(fkSpec.keynumidx) && isInt(fkSpec.firstkey) && isInt(fkSpec.keystep)) {
    findKeys = { type: 'keynum', keyNumIndex: fkSpec.keynumidx, firstKey: fkSpec.firstkey, keyStep: fkSpec.keystep };
  }
  return { flags, beginSearch, findKeys };
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}
