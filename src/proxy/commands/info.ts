import { isErrorReply } from '../../resp/reply-reader.js';
import type { ClientContext } from '../client-context.js';
import type { ClusterOps } from '../fanout/cluster-ops.js';
import { firstError } from '../fanout/merge.js';
import { textReply } from './local-handlers.js';

/**
 * INFO as one server would answer it: slotgate's `# Proxy` section first, then the sections of
 * one master with what describes the whole service replaced (connected clients and port of the
 * proxy, standalone mode), and `# Keyspace` summed over every master. The nodes answer on links
 * of the client's protocol: a bulk string in RESP2, a verbatim string (`txt:` first) in RESP3,
 * and so does slotgate.
 */
export async function info(ops: ClusterOps, client: ClientContext, args: Buffer[]): Promise<Buffer> {
  const { replies } = await ops.everyMaster(client, args);
  const failed = firstError(replies);
  if (failed >= 0) return replies.bufs[failed].subarray(replies.starts[failed], replies.ends[failed]);
  const texts: string[] = [];
  for (let i = 0; i < replies.count; i++) {
    if (isErrorReply(replies.bufs[i], replies.starts[i])) continue;
    const buf = replies.bufs[i].subarray(replies.starts[i], replies.ends[i]);
    const verbatimFormat = buf[0] === 0x3d ? 4 : 0; // =len\r\ntxt:...
    texts.push(buf.subarray(buf.indexOf(10) + 1 + verbatimFormat, buf.length - 2).toString('utf8'));
  }
  const sections = args.slice(1).map((a) => a.toString('latin1').toLowerCase());
  return textReply(client, mergeInfo(texts, sections, client.server.proxyInfo(), client.server.clientCount, client.server.port));
}

/** Whether a section is part of the reply for the requested section names (Redis' rules). */
function wants(sections: string[], name: string, inDefault: boolean): boolean {
  if (sections.length === 0) return inDefault;
  return sections.some((s) => s === name || s === 'all' || s === 'everything' || (s === 'default' && inDefault));
}

/** Merges the INFO texts of every master (the first one gives the body) with the proxy's facts. */
export function mergeInfo(texts: string[], sections: string[], proxySection: string, clients: number, port: number): string {
  const body = (texts[0] ?? '')
    .replace(/^connected_clients:\d+/m, `connected_clients:${clients}`)
    .replace(/^redis_mode:\w+/m, 'redis_mode:standalone')
    .replace(/^tcp_port:\d+/m, `tcp_port:${port}`)
    .replace(/^cluster_enabled:1/m, 'cluster_enabled:0');
  const keyspace = sumKeyspace(texts);
  const withKeyspace = body.replace(/# Keyspace\r\n(?:db\d+:[^\r\n]*\r\n)*/, `# Keyspace\r\n${keyspace}`);
  // Sections are separated by one blank line, with none after the last (as Redis writes them).
  const parts = wants(sections, 'proxy', true) ? [proxySection, withKeyspace] : [withKeyspace];
  return parts.filter((p) => p !== '').join('\r\n');
}

/** `db0:keys=K,expires=E,avg_ttl=T` lines with keys and expires summed and avg_ttl weighted by expires. */
export function sumKeyspace(texts: string[]): string {
  const dbs = new Map<string, { keys: number; expires: number; ttlSum: number }>();
  for (const text of texts) {
    for (const match of text.matchAll(/^(db\d+):keys=(\d+),expires=(\d+),avg_ttl=(\d+)/gm)) {
      const db = dbs.get(match[1]) ?? { keys: 0, expires: 0, ttlSum: 0 };
      db.keys += Number(match[2]);
      db.expires += Number(match[3]);
      db.ttlSum += Number(match[4]) * Number(match[3]);
      dbs.set(match[1], db);
    }
  }
  let lines = '';
  for (const [name, db] of [...dbs].sort(([a], [b]) => Number(a.slice(2)) - Number(b.slice(2)))) {
    const avg = db.expires > 0 ? Math.round(db.ttlSum / db.expires) : 0;
    lines += `${name}:keys=${db.keys},expires=${db.expires},avg_ttl=${avg}\r\n`;
  }
  return lines;
}
