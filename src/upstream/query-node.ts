import RedisParser from 'redis-parser';
import { encodeCommand } from '../resp/encode.js';
import { connectToNode, type BackendTls } from '../net/backend-tls.js';

export interface NodeCredentials {
  user?: string;
  password?: string;
}

export interface QueryOptions extends NodeCredentials {
  timeoutMs: number;
  /** TLS towards the nodes; plain TCP when absent or null. */
  tls?: BackendTls | null;
}

/** A `-ERR ...` reply from a node, as opposed to a connection failure. */
export class NodeReplyError extends Error {
  readonly code = 'NODE_REPLY_ERROR';
}

/**
 * Runs a few commands on a node over a short-lived connection and returns their decoded
 * (RESP2) replies, in order. Used off the hot path: topology, the command table, server info.
 * An error reply becomes a NodeReplyError in its place; connection problems reject.
 */
export function queryNode(
  host: string,
  port: number,
  commands: (string | Buffer)[][],
  options: QueryOptions,
): Promise<(unknown | NodeReplyError)[]> {
  const all = options.password !== undefined ? [authCommand(options), ...commands] : commands;
  return new Promise((resolve, reject) => {
    const replies: unknown[] = [];
    const { socket } = connectToNode(host, port, options.tls ?? null);
    const timer = setTimeout(() => finish(new Error(`timeout querying ${host}:${port}`)), options.timeoutMs);
    let done = false;
    const finish = (error: Error | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) return reject(error);
      const results = options.password !== undefined ? replies.slice(1) : replies;
      const authReply = options.password !== undefined ? replies[0] : null;
      if (authReply instanceof NodeReplyError) return reject(new Error(`AUTH to ${host}:${port} failed: ${authReply.message}`));
      resolve(results);
    };
    const parser = new RedisParser({
      returnReply: (reply) => {
        replies.push(reply);
        if (replies.length === all.length) finish(null);
      },
      returnError: (err) => {
        replies.push(new NodeReplyError(err.message));
        if (replies.length === all.length) finish(null);
      },
      returnFatalError: (err) => finish(err),
    });
    socket.setNoDelay(true);
    socket.on('data', (chunk) => parser.execute(chunk));
    socket.on('error', (err) => finish(err));
    socket.on('close', () => finish(new Error(`connection to ${host}:${port} closed`)));
    socket.write(Buffer.concat(all.map(encodeCommand)));
  });
}

function authCommand(c: NodeCredentials): string[] {
  return c.user !== undefined ? ['AUTH', c.user, c.password ?? ''] : ['AUTH', c.password ?? ''];
}
