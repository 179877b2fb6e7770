import fs from 'node:fs';
import type net from 'node:net';

/** What `fs.writeSync` throws when the socket's kernel buffer is full. */
interface ErrnoError extends Error {
  code?: string;
}

/**
 * The file descriptor of a connected TCP socket, or -1 where Node does not expose one (then
 * writes go through the stream). `_handle` is Node's own field, stable since Node 0.x.
 */
export function socketFd(socket: net.Socket): number {
  const handle = (socket as unknown as { _handle?: { fd?: number } | null })._handle;
  const fd = handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : -1;
}

/**
 * Writes `data` to a socket with one write(2) on its file descriptor while Node's stream holds
 * nothing queued for it (almost always: a proxy writes small replies), skipping the stream
 * machinery (about 0.4 us of CPU per write in a PING server, bench/RESULTS.md). Whatever the kernel
 * does not take goes through `socket.write`, and so does everything after it until the stream
 * has drained, so the order of the bytes is kept. A write error destroys the socket ('close' follows).
 *
 * Returns false when the stream's buffer is over its high-water mark: stop producing until 'drain'.
 */
export function writeToSocket(socket: net.Socket, fd: number, data: Buffer): boolean {
  if (fd < 0 || socket.writableLength !== 0 || socket.destroyed) return socket.write(data);
  const written = writeOnFd(socket, fd, data);
  if (written < 0 || written === data.length) return true;
  return socket.write(written === 0 ? data : data.subarray(written));
}

/**
 * Writes `pieces` in order, with one writev(2) while Node's stream holds nothing queued (as
 * `writeToSocket`); what the kernel does not take goes through `socket.write`, in order.
 * Returns false when the stream's buffer is over its high-water mark.
 */
export function writePiecesToSocket(socket: net.Socket, fd: number, pieces: Buffer[]): boolean {
  if (pieces.length === 1) return writeToSocket(socket, fd, pieces[0]);
  let written = 0;
  if (fd >= 0 && socket.writableLength === 0 && !socket.destroyed) {
    written = writeOnFd(socket, fd, pieces);
    if (written < 0) return true;
  }
  let ok = true;
  for (const piece of pieces) {
    if (written >= piece.length) {
      written -= piece.length;
      continue;
    }
    ok = socket.write(written === 0 ? piece : piece.subarray(written));
    written = 0;
  }
  return ok;
}

/**
 * One write(2) (or writev(2) of pieces) on the socket's fd: the bytes the kernel took, 0 when
 * its buffer is full (EAGAIN), -1 after a write error, which destroys the socket ('close' follows).
 */
function writeOnFd(socket: net.Socket, fd: number, data: Buffer | Buffer[]): number {
  try {
    return Array.isArray(data) ? fs.writevSync(fd, data) : fs.writeSync(fd, data);
  } catch (error) {
    if ((error as ErrnoError).code === 'EAGAIN') return 0;
    socket.destroy(error as Error);
    return -1;
  }
}
