// Decoding client frames and encoding replies; and the measurement behind the raw-JSON design:
// scanning the payload slice out of the bytes versus JSON.parse + JSON.stringify of the payload.
//   node --import tsx proto/src/frames.bench.ts
import { formatResults, isMain, runCases } from './bench-harness.ts';
import type { BenchCase, BenchOptions, BenchResult } from './bench-harness.ts';
import { decodeCommands, decodeReplies, encodeCommand, encodeCommands, encodeReply, joinFrame } from './frames.ts';
import { publicationPush } from './push.ts';
import { StreamDecoder } from './stream.ts';
import { Reply } from './gen/client.ts';
import type { Command } from './gen/client.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
const limits = { maxFrameBytes: 1 << 20 };

function payload(size: number): Uint8Array {
  const items = [];
  let s = '';
  for (let i = 0; s.length < size; i++) {
    items.push({ id: i, name: `item-${i}`, price: i * 1.25, tags: ['a', 'b'], ok: i % 2 === 0 });
    s = JSON.stringify({ items });
  }
  return enc.encode(s);
}

/** The alternative design: parse the frame with JSON.parse and re-serialise `data` to bytes. */
function parseAndReserialise(frame: Uint8Array): unknown[] {
  const out = [];
  for (const line of dec.decode(frame).split('\n')) {
    const cmd = JSON.parse(line) as { id?: number; publish?: { channel?: string; data?: unknown } };
    const p = cmd.publish;
    out.push({ id: cmd.id, publish: p ? { channel: p.channel, data: enc.encode(JSON.stringify(p.data)) } : undefined });
  }
  return out;
}

export function cases(): BenchCase[] {
  const connectFrame: Command[] = [
    { id: 1, connect: { token: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiIsImV4cCI6MTkwMDAwMDAwMH0.c2lnbmF0dXJlLWJ5dGVz', name: 'js' } },
    { id: 2, subscribe: { channel: 'news', recoverable: true, positioned: true, flag: 1 } },
    { id: 3, subscribe: { channel: 'chat:room-42', flag: 1 } },
  ];
  const connectJson = encodeCommands(connectFrame, 'json');
  const connectProto = encodeCommands(connectFrame, 'protobuf');
  const out: BenchCase[] = [
    { name: 'decodeCommands json connect+2 subscribes', fn: () => decodeCommands(connectJson, 'json', limits), bytes: connectJson.length },
    { name: 'decodeCommands protobuf connect+2 subscribes', fn: () => decodeCommands(connectProto, 'protobuf', limits), bytes: connectProto.length },
  ];
  for (const size of [128, 1024, 16384]) {
    const data = payload(size);
    const frame = encodeCommand({ id: 7, publish: { channel: 'news', data } }, 'json');
    const proto = encodeCommand({ id: 7, publish: { channel: 'news', data } }, 'protobuf');
    out.push(
      { name: `publish ${size}B json: scan raw slice (ours)`, fn: () => decodeCommands(frame, 'json', limits), bytes: frame.length },
      { name: `publish ${size}B json: JSON.parse+stringify`, fn: () => parseAndReserialise(frame), bytes: frame.length },
      { name: `publish ${size}B protobuf`, fn: () => decodeCommands(proto, 'protobuf', limits), bytes: proto.length },
    );
  }
  const pubs = Array.from({ length: 10 }, (_, i) => ({ data: payload(128), offset: 100 + i }));
  out.push(
    { name: 'encodeReply json subscribe + 10 recovered pubs', fn: () => encodeReply({ id: 2, subscribe: { recoverable: true, epoch: 'abcdefgh', offset: 100, recovered: true, publications: pubs } }, 'json') },
    { name: 'encodeReply protobuf subscribe + 10 recovered pubs', fn: () => encodeReply({ id: 2, subscribe: { recoverable: true, epoch: 'abcdefgh', offset: 100, recovered: true, publications: pubs } }, 'protobuf') },
  );
  for (const format of ['json', 'protobuf'] as const) {
    const batch = joinFrame(Array.from({ length: 16 }, (_, i) => publicationPush('news', { data: payload(128), offset: i + 1 }, format)), format);
    out.push({ name: `decodeReplies ${format} 16 pubs × 128B`, fn: () => decodeReplies(batch, format), bytes: batch.length });
    const chunks: Uint8Array[] = [];
    const sep = format === 'json' ? enc.encode('\n') : new Uint8Array(0);
    const stream = joinFrame([batch, sep], 'protobuf');
    for (let i = 0; i < stream.length; i += 1000) chunks.push(stream.subarray(i, i + 1000));
    out.push({
      name: `StreamDecoder ${format} 16 pubs in 1000B chunks`,
      fn: () => {
        const d = new StreamDecoder(Reply, format, { maxMessageBytes: 65536 });
        let n = 0;
        for (const c of chunks) {
          const r = d.push(c);
          if (r.ok) n += r.messages.length;
        }
        return n;
      },
      bytes: stream.length,
    });
  }
  return out;
}

export function run(options?: BenchOptions): BenchResult[] {
  return runCases(cases(), options);
}

if (isMain(import.meta.url)) console.log(formatResults('frame codecs', run()));
