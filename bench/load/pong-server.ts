/**
 * The floor a Node RESP server cannot go below on this machine: it answers every request with
 * +PONG and does nothing else (no parsing beyond counting frames, no upstream), with slotgate's
 * own socket I/O (reads into a shared buffer, direct writes). The load benchmark measures its CPU
 * per request in the same run as slotgate's, so slotgate's figures can be read against what the
 * client-side reads and writes alone cost here.
 *
 *   node dist/bench/load/pong-server.js PORT
 */
import net from 'node:net';
import { takeOverAccepted } from '../../src/net/accepted-socket.js';
import { socketFd, writeToSocket } from '../../src/net/direct-write.js';

const PONG = Buffer.from('+PONG\r\n');
const port = Number(process.argv[2]);

net
  .createServer({ pauseOnConnect: true }, (accepted) => {
    const socket = takeOverAccepted(accepted, (chunk) => {
      let frames = 0;
      for (let i = 0; i < chunk.length; i++) if (chunk[i] === 0x2a) frames++; // '*' starts a frame here
      writeToSocket(socket, fd, frames <= 1 ? PONG : Buffer.concat(new Array<Buffer>(frames).fill(PONG)));
    });
    const fd = socketFd(socket);
    socket.setNoDelay(true);
    socket.on('error', () => {});
  })
  .listen(port, '127.0.0.1');
