import net from 'node:net';

/**
 * A minimal pipelined RESP client that keeps every reply's exact bytes, for tests that compare
 * slotgate's replies byte for byte with a Redis server's (RESP2 or RESP3: in RESP3 it sends
 * `HELLO 3` first). Its decoder is written here, independently of slotgate's reply scanner.
 */

/** One reply: its bytes (latin1), its decoded value or error text, and the types it is made of. */
export type RawReply = ({ ok: unknown } | { err: string }) & {
  raw: string;
  /** Every type byte in the reply (aggregates and their elements), sorted: equal for equal shapes in any order. */
  types: string;
};

interface Parsed {
  value: unknown;
  end: number;
}

/** A decoded error inside an aggregate (top-level errors become RawReply.err). */
export class NestedError {
  constructor(readonly err: string) {}
}

/**
 * Parses the value at `pos`; null when the buffer does not hold all of it yet. Strings (simple,
 * bulk, verbatim without its `txt:`, doubles and big numbers as their text) decode to JS strings,
 * integers to numbers, maps to objects, attributes are skipped (the value they describe is kept).
 */
function parseAt(buf: Buffer, pos: number, types: string[]): Parsed | null {
  const cr = buf.indexOf('\r\n', pos + 1, 'latin1');
  if (cr < 0) return null;
  const type = String.fromCharCode(buf[pos]);
  const line = buf.toString('utf8', pos + 1, cr);
  const next = cr + 2;
  types.push(type);
  switch (type) {
    case '+':
    case ',':
    case '(':
      return { value: line, end: next };
    case '-':
      return { value: new NestedError(line), end: next };
    case ':':
      return { value: Number(line), end: next };
    case '_':
      return { value: null, end: next };
    case '#':
      return { value: line === 't', end: next };
    case '$':
    case '=':
    case '!': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      if (next + n + 2 > buf.length) return null;
      const body = buf.toString('utf8', next + (type === '=' ? 4 : 0), next + n);
      return { value: type === '!' ? new NestedError(body) : body, end: next + n + 2 };
    }
    case '*':
    case '~':
    case '>':
    case '%':
    case '|': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      const items: unknown[] = [];
      const count = type === '%' || type === '|' ? n * 2 : n;
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parseAt(buf, at, types);
        if (item === null) return null;
        items.push(item.value);
        at = item.end;
      }
      if (type === '|') {
        const described = parseAt(buf, at, types);
        return described;
      }
      if (type === '%') {
        const map: Record<string, unknown> = {};
        for (let i = 0; i < items.length; i += 2) map[String(items[i])] = items[i + 1];
        return { value: map, end: at };
      }
      return { value: items, end: at };
    }
    default:
      throw new Error(`not RESP: type byte ${JSON.stringify(type)} at ${pos}`);
  }
}

function encode(args: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a) : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

export class RawRespClient {
  private input = Buffer.alloc(0);
  private readonly waiting: ((reply: RawReply) => void)[] = [];
  private corked = false;
  private failure: Error | null = null;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e) => (this.failure = e));
    socket.on('close', () => {
      const error = this.failure ?? new Error('connection closed');
      for (const w of this.waiting.splice(0)) w({ err: `(client) ${error.message}`, raw: '', types: '' });
    });
  }

  /** Connects to 127.0.0.1:port; with protocol 3, sends HELLO 3 and checks it got a map. */
  static async connect(port: number, protocol: 2 | 3): Promise<RawRespClient> {
    const socket = net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.setNoDelay(true);
    const client = new RawRespClient(socket);
    if (protocol === 3) {
      const hello = await client.request(['HELLO', '3']);
      if (!hello.raw.startsWith('%7\r\n')) throw new Error(`HELLO 3 to port ${port} answered ${JSON.stringify(hello.raw)}`);
    }
    return client;
  }

  /** Sends one command (pipelined with the others sent in the same turn); resolves with its reply. */
  request(args: (string | Buffer)[]): Promise<RawReply> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      if (!this.corked) {
        this.corked = true;
        this.socket.cork();
        process.nextTick(() => {
          this.corked = false;
          this.socket.uncork();
        });
      }
      this.socket.write(encode(args));
    });
  }

  /** Like ioredis' call: the decoded value, or a rejection with the error text. */
  async call(...args: (string | Buffer | number)[]): Promise<unknown> {
    const reply = await this.request(args.map((a) => (typeof a === 'number' ? String(a) : a)));
    if ('err' in reply) throw new Error(reply.err);
    return reply.ok;
  }

  disconnect(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.input = this.input.length === 0 ? chunk : Buffer.concat([this.input, chunk]);
    let pos = 0;
    while (pos < this.input.length) {
      const types: string[] = [];
      const parsed = parseAt(this.input, pos, types);
      if (parsed === null) break;
      const raw = this.input.toString('latin1', pos, parsed.end);
      const sorted = types.sort().join('');
      const waiter = this.waiting.shift();
      if (waiter === undefined) throw new Error(`reply without a request: ${JSON.stringify(raw)}`);
      waiter(parsed.value instanceof NestedError ? { err: parsed.value.err, raw, types: sorted } : { ok: parsed.value, raw, types: sorted });
      pos = parsed.end;
    }
    this.input = pos === this.input.length ? Buffer.alloc(0) : this.input.subarray(pos);
  }
}
