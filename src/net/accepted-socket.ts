import net from 'node:net';

/**
 * One buffer all client sockets read into. Reads happen one at a time on the event loop and each
 * is handed on synchronously, so it can be shared; what a reader keeps past the call it copies.
 */
const sharedReadBuffer = Buffer.allocUnsafe(64 * 1024);

/**
 * True for bytes in the read buffer client sockets share, which the next read overwrites;
 * any other request bytes (joined large requests, copies, encodings) are never written again.
 */
export function isReusedReadBuffer(buf: Buffer): boolean {
  return buf.buffer === sharedReadBuffer.buffer;
}

/** Gets the bytes of each read; they are valid only during the call. */
export type TransientReader = (chunk: Buffer) => void;

interface HandleCarrier {
  _handle: unknown;
}

/**
 * Re-creates a socket accepted by a `pauseOnConnect` server around the same connection, with
 * Node's `onread` option (which `net.Server` does not offer): reads land in the shared buffer
 * and go straight to `onData`, with no buffer allocated and no stream machinery per read. On
 * slotgate's busiest path (one read per request at pipeline depth 1) this is about a tenth of
 * the CPU. The shell `accepted` is destroyed without touching the connection, which keeps the
 * server's connection count right.
 */
export function takeOverAccepted(accepted: net.Socket, onData: TransientReader): net.Socket {
  const carrier = accepted as unknown as HandleCarrier;
  const handle = carrier._handle;
  if (handle === null || handle === undefined) {
    accepted.destroy();
    throw new Error('accepted socket has no handle');
  }
  carrier._handle = null;
  accepted.destroy();
  const socket = new net.Socket({
    handle,
    readable: true,
    writable: true,
    // The end of the client's input does not end the connection: the session still answers
    // the requests in flight, then closes (Session.onInputEnd).
    allowHalfOpen: true,
    onread: {
      buffer: sharedReadBuffer,
      callback: (length: number) => {
        onData(sharedReadBuffer.subarray(0, length));
        return true;
      },
    },
  } as net.SocketConstructorOpts);
  // Flowing mode, though no 'data' event comes with `onread`: the end of the input must still
  // be seen ('end', then 'close').
  socket.resume();
  return socket;
}
