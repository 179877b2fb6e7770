import type net from 'node:net';
import { takeOverAccepted, type TransientReader } from './accepted-socket.js';
import { socketFd, writeToSocket } from './direct-write.js';

/**
 * How a session reads and writes its client's connection, chosen once when it is accepted.
 * Plain TCP takes the fast path (reads into the shared buffer through `onread`, writes on the
 * fd); a TLS connection has no usable fd and goes through Node's stream. Either way `socket`
 * is what pause/resume/end/destroy and the 'drain'/'close' events act on.
 */
export interface ClientTransport {
  readonly socket: net.Socket;
  /** The fd written to directly, -1 when writes go through the stream (CLIENT LIST shows it). */
  readonly fd: number;
  /** Writes in order; false when the stream's buffer is full: stop producing until 'drain'. */
  write(data: Buffer): boolean;
}

/** Starts reading a connection: each chunk goes to `onChunk`, valid only during the call. */
export type TransportOpener = (onChunk: TransientReader) => ClientTransport;

class DirectTransport implements ClientTransport {
  readonly fd: number;

  constructor(readonly socket: net.Socket) {
    this.fd = socketFd(socket);
  }

  write(data: Buffer): boolean {
    return writeToSocket(this.socket, this.fd, data);
  }
}

class StreamTransport implements ClientTransport {
  readonly fd = -1;

  constructor(readonly socket: net.Socket) {}

  write(data: Buffer): boolean {
    return this.socket.write(data);
  }
}

/** A connection accepted by a `pauseOnConnect` net.Server, taken over for the fast path. */
export function directTransport(accepted: net.Socket): TransportOpener {
  return (onChunk) => new DirectTransport(takeOverAccepted(accepted, onChunk));
}

/** A connection read through 'data' events and written with `socket.write` (TLS). */
export function streamTransport(socket: net.Socket): TransportOpener {
  return (onChunk) => {
    socket.on('data', onChunk);
    return new StreamTransport(socket);
  };
}
