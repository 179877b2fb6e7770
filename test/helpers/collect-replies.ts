import type net from 'node:net';
import { ReplyScanner } from '../../src/resp/reply-scanner.js';

/**
 * Reads `socket` (resuming it) until `count` whole reply frames came, or `timeoutMs` passed;
 * returns the frames as latin1 text, a broken frame as `broken: <why>`.
 */
export async function collectReplies(socket: net.Socket, count: number, timeoutMs: number): Promise<string[]> {
  const replies: string[] = [];
  const scanner = new ReplyScanner({
    onReply: (buf, start, end) => replies.push(buf.toString('latin1', start, end)),
    onReplyProtocolError: (message) => replies.push(`broken: ${message}`),
  });
  socket.on('data', (d: Buffer) => scanner.feed(d));
  socket.resume();
  const deadline = Date.now() + timeoutMs;
  while (replies.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return replies;
}
