// Fan-out hot path: building the bytes of one publication push, once per format.
//   node --import tsx proto/src/push.bench.ts
import { formatResults, isMain, runCases } from './bench-harness.ts';
import type { BenchCase, BenchOptions, BenchResult } from './bench-harness.ts';
import { encodeReply } from './frames.ts';
import { ChannelBatcher, joinPush, prepareChannel, publicationPush } from './push.ts';

const enc = new TextEncoder();

function payload(size: number): Uint8Array {
  const base = '{"text":"';
  return enc.encode(`${base}${'x'.repeat(Math.max(0, size - base.length - 2))}"}`);
}

export function cases(): BenchCase[] {
  const channel = 'chat:room-42';
  const prepared = prepareChannel(channel);
  const data128 = payload(128);
  const data4k = payload(4096);
  const obj128 = JSON.parse(new TextDecoder().decode(data128)) as unknown;
  const info = { user: '42', client: '5a1b2c3d-aaaa-bbbb-cccc-0123456789ab' };
  let offset = 1;
  const batcher = new ChannelBatcher(() => {}, { schedule: () => {} });
  const batchPushes = Array.from({ length: 16 }, (_, i) => publicationPush(prepared, { data: data128, offset: i + 1 }, 'json'));
  return [
    { name: 'publicationPush json 128B', fn: () => publicationPush(prepared, { data: data128, offset: offset++ }, 'json'), bytes: 128 },
    { name: 'publicationPush protobuf 128B', fn: () => publicationPush(prepared, { data: data128, offset: offset++ }, 'protobuf'), bytes: 128 },
    { name: 'publicationPush json 4KB', fn: () => publicationPush(prepared, { data: data4k, offset: offset++ }, 'json'), bytes: 4096 },
    { name: 'publicationPush protobuf 4KB', fn: () => publicationPush(prepared, { data: data4k, offset: offset++ }, 'protobuf'), bytes: 4096 },
    { name: 'publicationPush json 128B, channel string', fn: () => publicationPush(channel, { data: data128, offset: offset++ }, 'json'), bytes: 128 },
    { name: 'generic encodeReply json 128B', fn: () => encodeReply({ push: { channel, pub: { data: data128, offset: offset++ } } }, 'json'), bytes: 128 },
    { name: 'generic encodeReply protobuf 128B', fn: () => encodeReply({ push: { channel, pub: { data: data128, offset: offset++ } } }, 'protobuf'), bytes: 128 },
    {
      name: 'baseline JSON.stringify+encode 128B',
      fn: () => enc.encode(JSON.stringify({ push: { channel, pub: { data: obj128, offset: offset++ } } })),
      bytes: 128,
    },
    { name: 'joinPush json', fn: () => joinPush(prepared, info, 'json') },
    { name: 'joinPush protobuf', fn: () => joinPush(prepared, info, 'protobuf') },
    {
      name: 'ChannelBatcher 16 pushes → 1 frame',
      fn: () => {
        for (const p of batchPushes) batcher.add(channel, 'json', p);
        batcher.flush();
      },
      bytes: 16 * 128,
    },
  ];
}

export function run(options?: BenchOptions): BenchResult[] {
  return runCases(cases(), options);
}

if (isMain(import.meta.url)) console.log(formatResults('push builders', run()));
