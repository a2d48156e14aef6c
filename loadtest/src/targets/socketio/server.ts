// Baseline server: Socket.IO 4 broadcasting to a room, websocket transport only (what Node users
// pick). Events: "sub"(channel, ack) joins the room and acknowledges; "pub"(channel, data) emits
// "m"(data) to the room.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { exitWithParent, reportReady } from '../../lib/child-server.ts';

const http = createServer();
const io = new Server(http, {
  transports: ['websocket'],
  serveClient: false,
  perMessageDeflate: false,
  maxHttpBufferSize: 16 * 1024 * 1024,
});

io.on('connection', (socket) => {
  socket.on('sub', (channel: unknown, ack: unknown) => {
    if (typeof channel === 'string') void socket.join(channel);
    if (typeof ack === 'function') (ack as () => void)();
  });
  socket.on('pub', (channel: unknown, data: unknown) => {
    if (typeof channel === 'string') io.to(channel).emit('m', data);
  });
});

http.listen(0, '127.0.0.1', () => {
  exitWithParent(() => {
    void io.close();
  });
  reportReady((http.address() as AddressInfo).port);
});
