import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs, { type Argv } from 'yargs';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { SlotgateConfig } from './config.js';
import { redactValue } from './redact.js';
import { defaultConfig, envName, FILE_SUFFIX, OPTIONS, type OptionSpec } from './schema.js';
import { coerceValue, formatValue } from './values.js';
import { tlsConfigErrors } from './tls-check.js';
import { drainConfigErrors } from './drain-check.js';
import { packageVersion } from '../version.js';

// Re-exported for main.ts; modules that only log (telemetry) should import redact.js, without yargs.
export { redactConfig } from './redact.js';

/** Start the proxy with this config. `warnings` are for the logger (nothing is fatal in them). */
export interface RunResult {
  kind: 'run';
  config: SlotgateConfig;
  warnings: string[];
}

/**
 * Do not start: print `stdout` and `stderr` (either may be '') and exit with `exitCode`.
 * help/version: exit 0. check-config: the resolved config as YAML on stdout, secrets redacted;
 * exit 0 when valid, else the errors on stderr and exit 1. error: usage or validation errors, exit 1.
 */
export interface ExitResult {
  kind: 'help' | 'version' | 'check-config' | 'error';
  exitCode: 0 | 1;
  stdout: string;
  stderr: string;
  /** The usage/validation problems, one per line of stderr (empty when there are none). */
  errors: string[];
}

export type LoadResult = RunResult | ExitResult;

/** One raw value from one source, before parsing. `source` is what error messages quote. */
interface RawEntry {
  key: string;
  raw: unknown;
  source: string;
  /** Where a relative `<secret>-file` path is resolved from. */
  baseDir: string;
}

/** Option lookup by every accepted key: `name`, and `name-file` for secrets. */
const BY_KEY = new Map<string, { spec: OptionSpec; fromFile: boolean }>();
for (const spec of OPTIONS) {
  BY_KEY.set(spec.name, { spec, fromFile: false });
  if (spec.secret) BY_KEY.set(spec.name + FILE_SUFFIX, { spec, fromFile: true });
}

/**
 * Resolves slotgate's configuration: defaults < YAML file (--config) < SLOTGATE_* env < CLI flags.
 * `argv` is the user's arguments only (process.argv.slice(2)). Never prints and never exits:
 * the result says what main.ts should do.
 */
export async function loadConfig(argv: string[], env: NodeJS.ProcessEnv): Promise<LoadResult> {
  const cli = await parseCli(argv, packageVersion());
  if (cli.kind !== 'parsed') return cli;
  const { args } = cli;

  const errors: string[] = [];
  const warnings: string[] = [];
  const config = defaultConfig();

  const configPath = lastValue(args.config);
  if (typeof configPath === 'string') {
    await applyLayer(config, await fileEntries(configPath, errors), errors);
  }
  await applyLayer(config, envEntries(env, warnings), errors);
  await applyLayer(config, cliEntries(args), errors);

  if (config.seeds.length === 0) {
    errors.push('no seed nodes: give at least one host:port (as an argument, --seeds, SLOTGATE_SEEDS or seeds: in the config file)');
  }
  errors.push(...tlsConfigErrors(config));
  errors.push(...drainConfigErrors(config));

  if (args['check-config'] === true) {
    return {
      kind: 'check-config',
      exitCode: errors.length === 0 ? 0 : 1,
      stdout: configToYaml(config),
      stderr: lines([...warnings.map((w) => `warning: ${w}`), ...errors.map((e) => `error: ${e}`)]),
      errors,
    };
  }
  if (errors.length > 0) return usageError(errors);
  return { kind: 'run', config, warnings };
}

// ---------------------------------------------------------------------------------------------
// CLI

type ParsedArgs = Record<string, unknown>;
type CliResult = { kind: 'parsed'; args: ParsedArgs } | ExitResult;

/** The yargs parser, generated from the schema so that every option is declared once. */
function buildParser(version: string): Argv {
  const parser = yargs()
    .scriptName('slotgate')
    .usage('$0 [options] SEED...\n\nA cluster-aware Redis proxy: one RESP endpoint in front of a Redis Cluster.')
    .command('$0 [seed..]', false, (cmd) =>
      cmd.positional('seed', { type: 'string', describe: 'Seed node host:port (DNS names allowed; IPv6 as [::1]:7000)' }),
    )
    .parserConfiguration({
      // Keys stay exactly the kebab-case option names, values stay strings: the schema parses.
      'camel-case-expansion': false,
      'parse-numbers': false,
      'parse-positional-numbers': false,
      // Without this, `--no-port` would be accepted and set port to false.
      'boolean-negation': false,
    })
    .locale('en') // stable messages whatever LANG says
    .strict()
    .showHelpOnFail(false);

  for (const spec of OPTIONS) {
    const isBoolean = spec.type === 'boolean';
    const choices = spec.choices ? ` (${spec.choices.join(', ')})` : '';
    parser.option(spec.name, {
      // No yargs type otherwise: values stay strings (see parserConfiguration) for the schema to
      // parse like env and YAML values, and help does not label a port or a size `[string]`.
      type: isBoolean ? 'boolean' : undefined,
      requiresArg: !isBoolean,
      describe: spec.description + choices,
      defaultDescription: helpDefault(spec),
    });
    if (spec.secret) {
      parser.option(spec.name + FILE_SUFFIX, {
        requiresArg: true,
        describe: `File holding the ${spec.name} value (keeps it off the command line)`,
      });
    }
  }

  return parser
    .option('config', { requiresArg: true, describe: 'YAML file with options (keys as the flag names)' })
    .option('check-config', { type: 'boolean', describe: 'Print the resolved config (secrets redacted) and exit; 1 if invalid' })
    .epilogue(
      [
        'Precedence: defaults < --config file < SLOTGATE_* env vars < flags.',
        `Every option is also an env var, e.g. ${envName('connections-per-node')}, and a key of the config file.`,
        'Sizes: 64kb, 512mb, 1gb or bytes. Durations: 200ms, 5s, 1m or milliseconds.',
      ].join('\n'),
    )
    .version(version)
    .help()
    .alias('h', 'help');
}

function helpDefault(spec: OptionSpec): string | undefined {
  if (spec.default === undefined) return undefined;
  const shown = formatValue(spec, spec.default);
  if (Array.isArray(shown)) return shown.length > 0 ? shown.join(',') : undefined;
  return String(shown);
}

async function parseCli(argv: string[], version: string): Promise<CliResult> {
  const parser = buildParser(version);
  // With a callback, yargs hands over what it would have printed instead of printing and exiting.
  const { err, args, output } = await new Promise<{ err: Error | undefined; args: ParsedArgs; output: string }>(
    (done) => {
      void parser.parse(argv, {}, (err, args, output) => done({ err, args: args as ParsedArgs, output }));
    },
  );
  if (err) return usageError([err.message]);
  if (args.help === true) return { kind: 'help', exitCode: 0, stdout: lines([output]), stderr: '', errors: [] };
  if (args.version === true) return { kind: 'version', exitCode: 0, stdout: lines([output]), stderr: '', errors: [] };
  return { kind: 'parsed', args };
}

function cliEntries(args: ParsedArgs): RawEntry[] {
  const entries: RawEntry[] = [];
  for (const key of BY_KEY.keys()) {
    const value = args[key];
    if (value === undefined) continue;
    const { spec } = BY_KEY.get(key)!;
    // A repeated flag arrives as an array: lists add up, anything else keeps the last one.
    const raw = spec.type === 'string-list' ? [value].flat() : lastValue(value);
    entries.push({ key, raw, source: `--${key}`, baseDir: process.cwd() });
  }
  // Positional seeds come first, then any --seeds; both replace seeds from the file or env.
  const positional = args.seed === undefined ? [] : [args.seed].flat();
  if (positional.length > 0) {
    const flagged = entries.find((e) => e.key === 'seeds');
    if (flagged) flagged.raw = [...positional, ...(flagged.raw as unknown[])];
    else entries.push({ key: 'seeds', raw: positional, source: 'seed argument', baseDir: process.cwd() });
  }
  return entries;
}

function lastValue(value: unknown): unknown {
  return Array.isArray(value) ? value[value.length - 1] : value;
}

// ---------------------------------------------------------------------------------------------
// Environment and file

function envEntries(env: NodeJS.ProcessEnv, warnings: string[]): RawEntry[] {
  const entries: RawEntry[] = [];
  for (const [key, { spec }] of BY_KEY) {
    const name = envName(key);
    const raw = env[name];
    // Empty counts as unset: `FOO=${FOO}` in compose files and optional k8s secrets produce it.
    if (raw === undefined || raw === '') continue;
    // Kubernetes injects SLOTGATE_PORT=tcp://10.0.0.1:7777 for a Service named "slotgate"
    // (service links); taking that as our port would fail every pod start.
    if (spec.type !== 'string' && /^tcp:\/\//.test(raw)) {
      warnings.push(`${name}=${raw} looks like a Kubernetes service link, ignored (set enableServiceLinks: false)`);
      continue;
    }
    entries.push({ key, raw, source: name, baseDir: process.cwd() });
  }
  return entries;
}

async function fileEntries(path: string, errors: string[]): Promise<RawEntry[]> {
  let doc: unknown;
  try {
    doc = parseYaml(await readFile(path, 'utf8'));
  } catch (err) {
    errors.push(`config file ${path}: ${describeError(err)}`);
    return [];
  }
  if (doc === null || doc === undefined) return []; // an empty file sets nothing
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    errors.push(`config file ${path}: expected a mapping of option names to values`);
    return [];
  }

  const entries: RawEntry[] = [];
  for (const [key, raw] of Object.entries(doc)) {
    if (!BY_KEY.has(key)) {
      // Unknown keys are errors, like unknown flags: a typo must not silently keep a default.
      errors.push(`config file ${path}: unknown option "${key}"`);
      continue;
    }
    if (raw === null) continue; // `key:` with nothing after it
    entries.push({ key, raw, source: `config file ${path}: ${key}`, baseDir: dirname(resolve(path)) });
  }
  return entries;
}

// ---------------------------------------------------------------------------------------------
// Applying a layer

/** Parses one source's entries onto `config`; bad values are reported and leave the field as it was. */
async function applyLayer(config: SlotgateConfig, entries: RawEntry[], errors: string[]): Promise<void> {
  const target = config as unknown as Record<string, unknown>;
  const seen = new Map<string, RawEntry>();
  for (const entry of entries) {
    const { spec, fromFile } = BY_KEY.get(entry.key)!;

    // `requirepass` and `requirepass-file` from the same source: neither can win by precedence.
    const other = seen.get(spec.name);
    if (other) {
      errors.push(`${other.source} and ${entry.source} both set ${spec.name}; give only one`);
      continue;
    }
    seen.set(spec.name, entry);

    let raw = entry.raw;
    if (fromFile) {
      const secret = await readSecretFile(entry);
      if (!secret.ok) {
        errors.push(`${entry.source}: ${secret.error}`);
        continue;
      }
      raw = secret.value;
    }
    const result = coerceValue(spec, raw);
    if (result.ok) target[spec.field] = Array.isArray(result.value) ? [...result.value] : result.value;
    else errors.push(`${entry.source}: ${result.error}`);
  }
}

async function readSecretFile(entry: RawEntry): Promise<{ ok: true; value: string } | { ok: false; error: string }> {
  if (typeof entry.raw !== 'string' || entry.raw.trim() === '') return { ok: false, error: 'expected a file path' };
  const path = resolve(entry.baseDir, entry.raw.trim());
  try {
    // Trimmed: files written by `echo` or mounted from k8s secrets often end with a newline.
    const value = (await readFile(path, 'utf8')).trim();
    return value === '' ? { ok: false, error: `file ${path} is empty` } : { ok: true, value };
  } catch (err) {
    return { ok: false, error: `cannot read ${path}: ${describeError(err)}` };
  }
}

// ---------------------------------------------------------------------------------------------
// Output helpers

/** The config as a YAML file in the same shape slotgate reads, secrets redacted. */
function configToYaml(config: SlotgateConfig): string {
  const source = config as unknown as Record<string, unknown>;
  const doc: Record<string, unknown> = {};
  for (const spec of OPTIONS) {
    const value = source[spec.field];
    if (value === undefined) continue;
    doc[spec.name] = spec.secret ? redactValue(value) : formatValue(spec, value as never);
  }
  return stringifyYaml(doc);
}

function usageError(errors: string[]): ExitResult {
  return {
    kind: 'error',
    exitCode: 1,
    stdout: '',
    stderr: lines([...errors.map((e) => `slotgate: ${e}`), 'Run "slotgate --help" for usage.']),
    errors,
  };
}

/** Joins non-empty lines, each newline-terminated, so main.ts can write the string as is. */
function lines(items: string[]): string {
  return items.filter((s) => s !== '').map((s) => (s.endsWith('\n') ? s : s + '\n')).join('');
}

function describeError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  return err instanceof Error ? err.message : String(err);
}

