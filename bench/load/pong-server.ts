/**
 * The floor a Node RESP server cannot go below on this machine: it answers every request with
 * +PONG and does nothing else (no parsing beyond counting frames, no upstream). The load
 * benchmark measures its CPU per request in the same run as slotgate's, so slotgate's figures
 * can be read against what Node's own socket reads and writes cost here.
 *
 *   node dist/bench/load/pong-server.js PORT
 */
import net from 'node:net';

const PONG = Buffer.from('+PONG\r\n');
const port = Number(process.argv[2]);

net
  .createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      let frames = 0;
      for (let i = 0; i < chunk.length; i++) if (chunk[i] === 0x2a) frames++; // '*' starts a frame here
      socket.write(frames <= 1 ? PONG : Buffer.concat(new Array<Buffer>(frames).fill(PONG)));
    });
  })
  .listen(port, '127.0.0.1');
