import net from 'node:net';

/**
 * Opens a raw TCP connection, writes `chunks` one by one (with a pause between them, so each is a
 * separate segment), then collects everything received until the server closes the connection
 * or `quietMs` pass without data. `end` half-closes after writing.
 */
export function rawExchange(
  port: number,
  chunks: (string | Buffer)[],
  options: { quietMs?: number; end?: boolean; gapMs?: number } = {},
): Promise<{ data: Buffer; closedByServer: boolean }> {
  const { quietMs = 300, end = false, gapMs = 5 } = options;
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const received: Buffer[] = [];
    let timer: NodeJS.Timeout | null = null;
    let finished = false;
    const finish = (closedByServer: boolean): void => {
      if (finished) return;
      finished = true;
      if (timer) clearTimeout(timer);
      socket.destroy();
      resolve({ data: Buffer.concat(received), closedByServer });
    };
    const arm = (): void => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => finish(false), quietMs);
    };
    socket.on('data', (d: Buffer) => {
      received.push(d);
      arm();
    });
    socket.on('close', () => finish(true));
    socket.on('error', (e) => (finished ? undefined : reject(e)));
    socket.on('connect', async () => {
      for (const c of chunks) {
        socket.write(c);
        if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
      }
      if (end) socket.end();
      arm();
    });
  });
}
