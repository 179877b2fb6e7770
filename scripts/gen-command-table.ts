/**
 * Regenerates the committed fallback command table from a running Redis:
 *   npm run build && node dist/scripts/gen-command-table.js [host:port] (default 127.0.0.1:6379)
 * slotgate reads the live table from the cluster at start-up; this file is only used when it cannot.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { queryNode } from '../src/upstream/query-node.js';
import { parseCommandReply } from '../src/proxy/commands/command-info.js';

const [host, port] = (process.argv[2] ?? '127.0.0.1:6379').split(':');
const [reply, info] = await queryNode(host, Number(port), [['COMMAND'], ['INFO', 'server']], { timeoutMs: 5000 });
const commands = parseCommandReply(reply).sort((a, b) => a.name.localeCompare(b.name));
const version = /redis_version:(\S+)/.exec(String(info))?.[1] ?? 'unknown';
const here = path.dirname(fileURLToPath(import.meta.url));
const target = path.resolve(here, '../../src/proxy/commands/fallback-commands.json');
// One command a line keeps diffs of a regenerated table readable.
const lines = commands.map((c) => '    ' + JSON.stringify(c)).join(',\n');
writeFileSync(target, `{\n  "redisVersion": ${JSON.stringify(version)},\n  "commands": [\n${lines}\n  ]\n}\n`);
console.log(`wrote ${commands.length} commands from Redis ${version} to ${target}`);
