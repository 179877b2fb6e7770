import type net from 'node:net';

/** How long a closed connection's input is still read after its last byte was handed to the kernel. */
export const CLOSE_LINGER_MS = 2000;

/**
 * Closes a connection after what was written to it (QUIT's reply, a protocol error, max clients),
 * without a reset. Destroying the socket as soon as the last reply is out of Node turns any input
 * the client sent meanwhile and that is still unread into a TCP reset at close(2), and a reset
 * makes the kernels drop the last replies still on their way (the client then sees ECONNRESET and
 * a cut reply; the fuzzer found it with a 90 KB COMMAND reply before a protocol error). So: FIN
 * once everything is written, keep reading and dropping the input until the client closes too,
 * and destroy only after `lingerMs` if it does not (bounded, as a server must be).
 */
export function endGracefully(socket: net.Socket, data?: Buffer, lingerMs = CLOSE_LINGER_MS): void {
  const finish = (): void => {
    const timer = setTimeout(() => socket.destroy(), lingerMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  };
  if (data === undefined) socket.end(finish);
  else socket.end(data, finish);
  // Reading may have been paused (a client that did not read its replies): the input must be
  // drained now, or it is what causes the reset.
  socket.resume();
}
