import net from 'node:net';
import RedisParser from 'redis-parser';
import { arrayReply, bulkReply, type ReplyValue } from '../../src/resp/encode.js';

/**
 * What a fake node answers to one command: raw RESP bytes, null to stay silent, undefined for the
 * default answer, or a promise of bytes for a slow answer (later answers on the connection wait
 * for it, as Redis answers in order).
 */
export type FakeHandler = (
  args: string[],
  node: FakeNode,
  connection: FakeConnection,
) => Buffer | string | null | undefined | Promise<Buffer | string>;

/** What the fake node knows of the connection a command came on: its protocol (HELLO 3 makes it 3). */
export interface FakeConnection {
  protocol: 2 | 3;
  /** Drops the connection at once, answering nothing more on it (a node that died mid-request). */
  destroy(): void;
}

/**
 * A tiny in-process Redis node for the cases a real cluster cannot be made to produce on demand
 * (endless redirects, malformed redirects, a node that never answers). It answers CLUSTER SHARDS
 * with itself owning every slot unless the handler answers it first.
 */
export class FakeNode {
  readonly commands: string[][] = [];
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly handler: FakeHandler) {
    this.server = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => {});
      let slow: Promise<void> | null = null;
      const connection: FakeConnection = { protocol: 2, destroy: () => socket.destroy() };
      const parser = new RedisParser({
        returnReply: (reply) => {
          // Command names in upper case, whatever the client sent, so handlers compare simply.
          const args = (reply as Buffer[]).map(String);
          args[0] = args[0].toUpperCase();
          this.commands.push(args);
          if (args[0] === 'HELLO' && args[1] === '3') connection.protocol = 3;
          const given = this.handler(args, this, connection);
          const answer = given === undefined ? this.defaultAnswer(args) : given;
          if (answer === null) return;
          if (slow === null && !(answer instanceof Promise)) socket.write(answer);
          else slow = (slow ?? Promise.resolve()).then(async () => void socket.write(await answer));
        },
        returnError: () => {},
      });
      socket.on('data', (d) => parser.execute(d));
    });
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  async listen(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return this;
  }

  /** CLUSTER SHARDS as Redis 7 sends it, with this node owning [0, 16383]. */
  shardsReply(slots: ReplyValue[] = [0, 16383]): Buffer {
    return arrayReply([
      ['slots', slots, 'nodes', [['id', 'f'.repeat(40), 'port', this.port, 'ip', '127.0.0.1', 'endpoint', '127.0.0.1', 'role', 'master', 'replication-offset', 0, 'health', 'online']]],
    ]);
  }

  private defaultAnswer(args: string[]): Buffer | string {
    const name = args.join(' ').toUpperCase();
    if (name === 'CLUSTER SHARDS') return this.shardsReply();
    if (name === 'COMMAND') return '-ERR not in a fake\r\n';
    if (name.startsWith('HELLO 3')) return '%1\r\n$5\r\nproto\r\n:3\r\n';
    // Clients' ready checks (ioredis) read `loading:0` from INFO.
    if (name.startsWith('INFO')) return bulkReply('# Server\r\nredis_version:7.0.0\r\nloading:0\r\n');
    return '-ERR fake node has no answer\r\n';
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
