import type { SlotgateConfig } from './config.js';
import { checkSeed } from './seed.js';
import type { UserConfig } from '../auth/users.js';
import { checkTlsProtocols } from './tls-check.js';
import { checkOutputLimits, DEFAULT_OUTPUT_LIMITS } from './output-limits.js';
import { detectCpuCount } from '../workers/cpu-count.js';

/**
 * The one table of slotgate's options. CLI flags (yargs), SLOTGATE_* env vars, YAML file keys,
 * --help and --check-config are all generated from it, so an option is declared exactly once.
 */

/** How a raw value (CLI/env string or YAML scalar) is turned into the config field's value. */
export type OptionType = 'string' | 'number' | 'size' | 'duration' | 'boolean' | 'string-list' | 'users';

export type OptionValue = string | number | boolean | readonly string[] | readonly UserConfig[];

export interface OptionSpec {
  /** kebab-case: the CLI flag (`--name`), the YAML key, and (upper snake) the env var suffix. */
  name: string;
  field: keyof SlotgateConfig;
  type: OptionType;
  /** Already in the field's unit (bytes, milliseconds); omitted = unset (optional field). */
  default?: OptionValue;
  description: string;
  /**
   * Secret: redacted in logs and --check-config, and also accepted as `<name>-file`
   * (a file holding the value) so it never has to appear on a command line.
   */
  secret?: boolean;
  /** Inclusive bounds for number, size and duration options. */
  min?: number;
  max?: number;
  /** Allowed values of a string option. */
  choices?: readonly string[];
  /** Changeable while running with `PROXY CONFIG SET`, and applied by a SIGHUP reload. */
  runtime?: boolean;
  /**
   * Applied by a SIGHUP reload of the configuration, though not changeable with `PROXY CONFIG SET`
   * (passwords and users). Options with neither flag need a restart.
   */
  reloadable?: boolean;
  /** Extra check of each string (or list item); returns an error message or undefined. */
  check?: (value: string) => string | undefined;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const KB = 1024;
const MB = 1024 * KB;
const GB = 1024 * MB;

// `satisfies` (not a type annotation) keeps each `field` as a literal type, which lets the
// compile-time check below prove that every SlotgateConfig field has an option.
const TABLE = [
  {
    name: 'seeds',
    field: 'seeds',
    type: 'string-list',
    default: [],
    description: 'Seed nodes as host:port (DNS names allowed, IPv6 as [::1]:7000), comma-separated; also positional',
    check: checkSeed,
  },
  { name: 'bind', field: 'bind', type: 'string', default: '0.0.0.0', description: 'Address the RESP listener binds to' },
  { name: 'port', field: 'port', type: 'number', default: 7777, min: 0, max: 65535, description: 'RESP listener port (0 = any free port)' },
  {
    name: 'threads',
    field: 'threads',
    type: 'number',
    // Read once at start: the CPUs this process may use (affinity, cgroup v2 quota rounded up).
    default: detectCpuCount(),
    min: 1,
    // Each worker holds its own node links: a typo such as 1000 must not open 1000 x the links.
    max: 256,
    description: 'Worker processes sharing the RESP port (1: one process, no workers); default: the CPUs this process may use (cgroup quota included)',
  },
  { name: 'backend-user', field: 'backendUser', type: 'string', description: 'ACL user slotgate authenticates as towards the Redis nodes' },
  {
    name: 'backend-password',
    field: 'backendPassword',
    type: 'string',
    secret: true,
    description: 'Password slotgate uses towards the Redis nodes',
  },
  {
    name: 'requirepass',
    field: 'requirepass',
    type: 'string',
    secret: true,
    reloadable: true,
    description: 'Password clients must give (AUTH / HELLO AUTH) before anything else',
  },
  {
    name: 'users',
    field: 'users',
    type: 'users',
    default: [],
    secret: true,
    reloadable: true,
    description:
      'Users clients can AUTH as, in YAML or JSON: [{name, password | sha256, commands: "+@read -@dangerous", keys: "~cache:*"}] (best given as users-file)',
  },
  {
    name: 'slowlog-log-slower-than',
    field: 'slowlogLogSlowerThanUs',
    type: 'number',
    default: 10000,
    runtime: true,
    description: "Microseconds a request may take through slotgate (read to reply) before it goes to slotgate's SLOWLOG (0: every request)",
  },
  {
    name: 'slowlog-max-len',
    field: 'slowlogMaxLen',
    type: 'number',
    default: 128,
    runtime: true,
    description: 'Entries SLOWLOG keeps (0: none)',
  },
  {
    name: 'connections-per-node',
    field: 'connectionsPerNode',
    type: 'number',
    // One link per master measured cheapest on 2 cores (each extra link adds a write and a
    // node wake-up per event-loop turn); more help when a node's socket is the bottleneck.
    default: 1,
    min: 1,
    description: 'Shared pipelined connections per master node',
  },
  {
    name: 'private-links-max',
    field: 'privateLinksMax',
    type: 'number',
    default: 2000,
    min: 1,
    runtime: true,
    description: 'Most dedicated node connections lent to clients at once (transactions, blocking commands, subscriptions)',
  },
  {
    name: 'private-links-idle',
    field: 'privateLinksIdle',
    type: 'number',
    default: 2,
    min: 0,
    runtime: true,
    description: 'Dedicated connections kept open and ready per master, so a MULTI or BLPOP needs no connect',
  },
  {
    name: 'refresh-interval',
    field: 'refreshIntervalMs',
    type: 'duration',
    default: 5000,
    min: 1,
    description: 'Periodic topology refresh interval',
  },
  {
    name: 'request-timeout',
    field: 'requestTimeoutMs',
    type: 'duration',
    default: 5000,
    min: 1,
    runtime: true,
    description: 'Deadline of one request at the nodes, redirects and retries included',
  },
  {
    name: 'connect-timeout',
    field: 'connectTimeoutMs',
    type: 'duration',
    default: 2000,
    min: 1,
    description: 'TCP connect timeout towards a node',
  },
  {
    name: 'max-redirects',
    field: 'maxRedirects',
    type: 'number',
    default: 5,
    min: 0,
    runtime: true,
    description: 'MOVED/ASK hops allowed for one request before the client gets an error',
  },
  { name: 'log-level', field: 'logLevel', type: 'string', default: 'info', choices: LOG_LEVELS, runtime: true, description: 'Log level' },
  {
    name: 'proto-max-bulk-len',
    field: 'protoMaxBulkLen',
    type: 'size',
    default: 512 * MB,
    min: 1,
    // Offsets into a request are 32-bit: beyond 1 GB a request's bytes could not be indexed.
    max: 1 * GB,
    runtime: true,
    description: 'Largest bulk string a client may send',
  },
  { name: 'max-args', field: 'maxArgs', type: 'number', default: 1048576, min: 1, runtime: true, description: 'Most arguments in one request' },
  {
    name: 'client-query-buffer-limit',
    field: 'clientQueryBufferLimit',
    type: 'size',
    default: 1 * GB,
    min: 1,
    max: 1 * GB,
    runtime: true,
    description: "Most bytes of one client's unparsed input",
  },
  {
    name: 'client-max-pending',
    field: 'clientMaxPending',
    type: 'number',
    default: 10000,
    min: 1,
    runtime: true,
    description: 'Requests one client may have in flight before slotgate stops reading from it',
  },
  {
    name: 'client-output-buffer-limit',
    field: 'clientOutputBufferLimit',
    type: 'string',
    default: DEFAULT_OUTPUT_LIMITS,
    runtime: true,
    check: checkOutputLimits,
    description: "Reply bytes waiting for a slow client before it is closed, Redis' syntax: <class> <hard> <soft> <soft seconds>",
  },
  {
    name: 'client-idle-timeout',
    field: 'clientIdleTimeoutMs',
    type: 'duration',
    default: 0,
    min: 0,
    runtime: true,
    description: "Closes a client idle this long (Redis' timeout; 0 = never; subscribed and blocked clients are not idle)",
  },
  {
    name: 'node-max-pending',
    field: 'nodeMaxPending',
    type: 'number',
    default: 100000,
    min: 1,
    runtime: true,
    description: 'Requests in flight on one node connection before the clients sending to it stop being read',
  },
  {
    name: 'tcp-keepalive',
    field: 'tcpKeepaliveMs',
    type: 'duration',
    default: 60000,
    min: 0,
    description: 'TCP keepalive idle time on client and node connections (0 = off)',
  },
  { name: 'max-clients', field: 'maxClients', type: 'number', default: 10000, min: 1, runtime: true, description: 'Most client connections at once' },
  {
    name: 'cross-slot',
    field: 'crossSlot',
    type: 'string',
    default: 'split',
    choices: ['split', 'reject'],
    runtime: true,
    description: 'MGET/MSET/DEL/EXISTS/UNLINK/TOUCH across slots: split per slot and merge, or reject with CROSSSLOT',
  },
  {
    name: 'admin-commands',
    field: 'adminCommands',
    type: 'boolean',
    default: false,
    runtime: true,
    description: 'Allow administrative commands (CONFIG SET, ACL SETUSER, BGSAVE, SLOWLOG RESET...), broadcast to every master',
  },
  {
    name: 'announce-host',
    field: 'announceHost',
    type: 'string',
    runtime: true,
    description: 'Host slotgate gives cluster-aware clients in CLUSTER SLOTS/SHARDS/NODES (default: the address they connected to)',
  },
  {
    name: 'announce-port',
    field: 'announcePort',
    type: 'number',
    min: 1,
    max: 65535,
    runtime: true,
    description: 'Port slotgate gives cluster-aware clients (e.g. the NodePort; default: the port they connected to)',
  },
  {
    name: 'tls-port',
    field: 'tlsPort',
    type: 'number',
    min: 0,
    max: 65535,
    description: 'TLS listener port, in addition to port (0 = any free port); needs tls-cert-file and tls-key-file',
  },
  { name: 'tls-only', field: 'tlsOnly', type: 'boolean', default: false, description: 'Serve clients on tls-port only, without the plain port' },
  {
    name: 'tls-protocols',
    field: 'tlsProtocols',
    type: 'string',
    default: 'TLSv1.2 TLSv1.3',
    description: 'TLS versions the TLS port accepts, space-separated (as Redis): TLSv1.2, TLSv1.3',
    check: checkTlsProtocols,
  },
  { name: 'tls-cert-file', field: 'tlsCertFile', type: 'string', description: 'PEM certificate (chain) of the TLS listener; re-read on SIGHUP' },
  { name: 'tls-key-file', field: 'tlsKeyFile', type: 'string', description: 'PEM private key of the TLS listener; re-read on SIGHUP' },
  {
    name: 'tls-ca-cert-file',
    field: 'tlsCaCertFile',
    type: 'string',
    description: 'PEM CA certificates client certificates are checked against; re-read on SIGHUP',
  },
  {
    name: 'tls-auth-clients',
    field: 'tlsAuthClients',
    type: 'string',
    default: 'yes',
    choices: ['no', 'optional', 'yes'],
    description: 'Client certificates on the TLS port: required, checked when given, or not asked for (as Redis)',
  },
  { name: 'backend-tls', field: 'backendTls', type: 'boolean', default: false, description: 'Use TLS on every connection to the nodes' },
  {
    name: 'backend-tls-ca-cert-file',
    field: 'backendTlsCaCertFile',
    type: 'string',
    description: "PEM CA certificates the nodes' certificates are checked against (default: the system's); re-read on SIGHUP",
  },
  {
    name: 'backend-tls-cert-file',
    field: 'backendTlsCertFile',
    type: 'string',
    description: 'PEM client certificate slotgate shows the nodes; re-read on SIGHUP',
  },
  { name: 'backend-tls-key-file', field: 'backendTlsKeyFile', type: 'string', description: 'PEM key of backend-tls-cert-file; re-read on SIGHUP' },
  {
    name: 'backend-tls-servername',
    field: 'backendTlsServername',
    type: 'string',
    description: "SNI name sent to the nodes, and the name their certificates must carry (default: each node's host)",
  },
  {
    name: 'backend-tls-verify-hostname',
    field: 'backendTlsVerifyHostname',
    type: 'string',
    default: 'yes',
    choices: ['yes', 'no'],
    description: "Check that a node's certificate names its host (or backend-tls-servername); the CA chain is always checked",
  },
  {
    name: 'drain-delay',
    field: 'drainDelayMs',
    type: 'duration',
    default: 5000,
    min: 0,
    runtime: true,
    description:
      'On SIGTERM/SIGINT: how long /readyz fails while clients are still served and accepted, before the listeners close (so load balancers stop sending clients)',
  },
  {
    name: 'drain-timeout',
    field: 'drainTimeoutMs',
    type: 'duration',
    default: 10000,
    min: 1,
    runtime: true,
    description:
      'On SIGTERM/SIGINT: the most time from the signal to the exit; clients still open then are cut (must be longer than drain-delay)',
  },
  {
    name: 'admin-enabled',
    field: 'adminEnabled',
    type: 'boolean',
    default: true,
    description: 'Run the admin HTTP listener (/metrics, /livez, /readyz); false: none',
  },
  {
    name: 'admin-port',
    field: 'adminPort',
    type: 'number',
    default: 9121,
    min: 0,
    max: 65535,
    description: 'Admin HTTP port for /metrics, /livez and /readyz (0 = any free port)',
  },
  { name: 'admin-bind', field: 'adminBind', type: 'string', default: '0.0.0.0', description: 'Address the admin HTTP listener binds to' },
] as const satisfies readonly OptionSpec[];

// Compile-time guard: adding a field to SlotgateConfig without an option here fails `tsc`.
type MissingFields = Exclude<keyof SlotgateConfig, (typeof TABLE)[number]['field']>;
const everyFieldHasAnOption: [MissingFields] extends [never] ? true : MissingFields = true;
void everyFieldHasAnOption;

export const OPTIONS: readonly OptionSpec[] = TABLE;

/** Suffix of the flag / YAML key / env var that gives a secret option as a file path. */
export const FILE_SUFFIX = '-file';

/** `connections-per-node` → `SLOTGATE_CONNECTIONS_PER_NODE`. */
export function envName(optionName: string): string {
  return 'SLOTGATE_' + optionName.toUpperCase().replaceAll('-', '_');
}

/** The config slotgate runs with when nothing is given (seeds empty, so not yet runnable). */
export function defaultConfig(): SlotgateConfig {
  const cfg: Record<string, unknown> = {};
  for (const spec of OPTIONS) {
    if (spec.default === undefined) continue;
    // Copy lists so a caller mutating its config cannot change the table's defaults.
    cfg[spec.field] = Array.isArray(spec.default) ? [...spec.default] : spec.default;
  }
  return cfg as unknown as SlotgateConfig;
}
