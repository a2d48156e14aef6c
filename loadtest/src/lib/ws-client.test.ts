// The raw WebSocket client against a hand-written server that controls every byte on the wire.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { WsClient, encodeFrame } from './ws-client.ts';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function serverFrame(op: number, payload: Buffer, fin = true, masked = false): Buffer {
  const n = payload.length;
  const ext = n < 126 ? 0 : n < 65536 ? 2 : 8;
  const head = Buffer.alloc(2 + ext + (masked ? 4 : 0));
  head[0] = (fin ? 0x80 : 0) | op;
  head[1] = (masked ? 0x80 : 0) | (n < 126 ? n : n < 65536 ? 126 : 127);
  if (ext === 2) head.writeUInt16BE(n, 2);
  if (ext === 8) head.writeUInt32BE(n, 6);
  return Buffer.concat([head, payload]);
}

/** A server that upgrades every connection (or answers `refuse`) and hands the socket to `onOpen`. */
async function withServer(onOpen: (s: Socket, received: Buffer[]) => void, fn: (port: number) => Promise<void>, refuse?: string): Promise<void> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    let head = Buffer.alloc(0);
    const received: Buffer[] = [];
    let upgraded = false;
    s.on('data', (d: Buffer) => {
      if (upgraded) {
        received.push(d);
        return;
      }
      head = Buffer.concat([head, d]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      if (refuse) {
        s.end(refuse);
        return;
      }
      const key = /sec-websocket-key: *(\S+)/i.exec(head.toString('latin1'))![1]!;
      const accept = createHash('sha1').update(key + GUID).digest('base64');
      s.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      upgraded = true;
      if (head.length > end + 4) received.push(head.subarray(end + 4));
      onOpen(s, received);
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await fn((server.address() as AddressInfo).port);
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

/** Writes `data` in small pieces with pauses so the client sees frames split across reads. */
async function dribble(s: Socket, data: Buffer, piece: number): Promise<void> {
  for (let i = 0; i < data.length; i += piece) {
    s.write(data.subarray(i, i + piece));
    await new Promise((r) => setImmediate(r));
  }
}

test('frames of every length class, fragmented and split across reads, arrive whole; ping gets pong; close is clean', async () => {
  const big = Buffer.alloc(70_000, 0x62);
  const mid = Buffer.alloc(300, 0x61);
  const stream = Buffer.concat([
    serverFrame(1, Buffer.from('a')),
    serverFrame(2, mid),
    serverFrame(9, Buffer.from('p')),
    serverFrame(1, Buffer.from('he'), false),
    serverFrame(0, Buffer.from('ll'), false),
    serverFrame(9, Buffer.from('q')), // control frames may sit between fragments
    serverFrame(0, Buffer.from('o'), true),
    serverFrame(2, big),
    serverFrame(8, Buffer.from([0x03, 0xe8])),
  ]);
  for (const piece of [1, 7, 1000, stream.length]) {
    const got: string[] = [];
    let chunks = 0;
    let serverReceived: Buffer[] = [];
    let closed!: (v: { err: Error | null; code: number }) => void;
    const closedP = new Promise<{ err: Error | null; code: number }>((r) => (closed = r));
    await withServer(
      (s, received) => {
        serverReceived = received;
        void dribble(s, stream, piece);
      },
      async (port) => {
        const ws = new WsClient(
          { host: '127.0.0.1', port, path: '/' },
          {
            onChunk: () => chunks++,
            onMessage: (buf, start, end, binary) => {
              const b = buf.subarray(start, end);
              got.push(binary ? `bin:${b.length}:${b[0]}` : `text:${b.toString()}`);
            },
            onClose: (err, code) => closed({ err, code }),
          },
        );
        await ws.opened;
        const { err, code } = await closedP;
        assert.equal(err, null);
        assert.equal(code, 1000);
      },
    );
    assert.deepEqual(got, ['text:a', 'bin:300:97', 'text:hello', 'bin:70000:98'], `piece ${piece}`);
    assert.ok(chunks >= 1);
    const sent = Buffer.concat(serverReceived);
    // Two pongs and a close reply, each masked with the zero key.
    assert.deepEqual(sent, Buffer.concat([encodeFrame(0xa, Buffer.from('p')), encodeFrame(0xa, Buffer.from('q')), encodeFrame(0x8, Buffer.from([0x03, 0xe8]))]), `piece ${piece}`);
  }
});

test('client frames are masked and carry the payload unchanged (zero key)', async () => {
  let received: Buffer[] = [];
  await withServer(
    (_s, r) => {
      received = r;
    },
    async (port) => {
      const ws = new WsClient({ host: '127.0.0.1', port, path: '/' }, { onChunk: () => undefined, onMessage: () => undefined, onClose: () => undefined });
      await ws.opened;
      ws.send('hi');
      ws.send(Buffer.alloc(200, 1), true);
      const deadline = Date.now() + 5000;
      while (Buffer.concat(received).length < 8 + 208 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      ws.abort();
    },
  );
  const all = Buffer.concat(received);
  assert.deepEqual([...all.subarray(0, 8)], [0x81, 0x82, 0, 0, 0, 0, 0x68, 0x69]);
  assert.deepEqual([...all.subarray(8, 16)], [0x82, 0xfe, 0, 200, 0, 0, 0, 0]);
  assert.equal(all.length, 8 + 8 + 200);
});

test('a masked server frame is a protocol error that closes the connection', async () => {
  let result!: (e: Error | null) => void;
  const closed = new Promise<Error | null>((r) => (result = r));
  await withServer(
    (s) => s.write(serverFrame(1, Buffer.from('x'), true, true)),
    async (port) => {
      const ws = new WsClient({ host: '127.0.0.1', port, path: '/' }, { onChunk: () => undefined, onMessage: () => assert.fail('no message expected'), onClose: (e) => result(e) });
      await ws.opened;
      assert.match((await closed)?.message ?? '', /must not be masked/);
    },
  );
});

test('a refused upgrade rejects `opened` and reports the status line', async () => {
  await withServer(
    () => undefined,
    async (port) => {
      let closedWith: Error | null = null;
      const ws = new WsClient({ host: '127.0.0.1', port, path: '/' }, { onChunk: () => undefined, onMessage: () => undefined, onClose: (e) => (closedWith = e) });
      await assert.rejects(ws.opened, /upgrade refused: HTTP\/1.1 400 Bad Request/);
      assert.match(closedWith!.message, /400/);
    },
    'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n',
  );
});

test('a connection refused rejects `opened`', async () => {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  const ws = new WsClient({ host: '127.0.0.1', port, path: '/' }, { onChunk: () => undefined, onMessage: () => undefined, onClose: () => undefined });
  await assert.rejects(ws.opened, /ECONNREFUSED/);
});
