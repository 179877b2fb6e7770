/**
 * Per-command counts and reply times, kept as plain numbers on the hot path and turned into
 * Prometheus series only at scrape time (src/telemetry/metrics.ts). One `CommandStat` exists per
 * command name of the command table, found through the command's spec (`spec.stat`), so a
 * request costs two increments and a bucket search: no Map lookup, no label string.
 */

/** Upper bounds of the reply-time buckets, in seconds (Prometheus' unit); +Inf is implied. */
export const DURATION_BUCKETS_SECONDS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];
/** The same bounds in milliseconds, the unit of `performance.now()`. */
const BUCKETS_MS = Float64Array.from(DURATION_BUCKETS_SECONDS, (s) => s * 1000);

/** The label of requests whose command is not in the command table (keeps the label set bounded). */
export const OTHER_COMMAND = 'other';

const MINUS = 0x2d; // '-': a RESP2/RESP3 simple error
const BANG = 0x21; // '!': a RESP3 blob error

export class CommandStat {
  ok = 0;
  errors = 0;
  /** Replies per bucket (not cumulative); the last slot counts those above every bound. */
  readonly buckets = new Float64Array(BUCKETS_MS.length + 1);
  /** Sum of reply times, milliseconds. */
  sumMs = 0;

  constructor(readonly name: string) {}

  get count(): number {
    return this.ok + this.errors;
  }

  /** One reply: `first` is its first byte (error or not), `ms` the time from the request's read. */
  record(first: number, ms: number): void {
    if (first === MINUS || first === BANG) this.errors++;
    else this.ok++;
    let i = 0;
    while (i < BUCKETS_MS.length && ms > BUCKETS_MS[i]) i++;
    this.buckets[i]++;
    this.sumMs += ms;
  }
}

/** Spec-like objects the stats attach to (the command table's top-level commands). */
export interface CountedCommand {
  readonly name: string;
  stat: CommandStat | null;
}

/**
 * Every command's stats, by name, for one proxy. A command table read later from the cluster
 * binds to the same objects (by name), so counts survive the table change.
 */
export class CommandStats {
  private readonly byName = new Map<string, CommandStat>();
  /** Requests for commands the table does not know. */
  readonly other = this.forName(OTHER_COMMAND);

  /** The stat of `name` (created on first use: at table binding, never per request). */
  forName(name: string): CommandStat {
    let stat = this.byName.get(name);
    if (stat === undefined) {
      stat = new CommandStat(name);
      this.byName.set(name, stat);
    }
    return stat;
  }

  /** Gives each command its stat object. Subcommands count under their container (CLIENT, CONFIG...). */
  bind(commands: Iterable<CountedCommand>): void {
    for (const command of commands) {
      if (!command.name.includes('|')) command.stat = this.forName(command.name);
    }
  }

  /** Stats of commands seen at least once (the others export no series). */
  *used(): IterableIterator<CommandStat> {
    for (const stat of this.byName.values()) if (stat.count > 0) yield stat;
  }
}
