// Encode/decode cost per cluster envelope (what every publication pays on its way through NATS):
//   node --import tsx packages/nats/src/envelope.bench.ts
// Figures are for comparison on one machine; run it on an idle one. envelope.test.ts runs it
// briefly so that it keeps working.
import { pathToFileURL } from 'node:url';
import type { ClientInfo, ControlCommand, Publication } from '@rotor/core';
import {
  decodeChannelEvent,
  decodeControlCommand,
  decodeHeartbeat,
  decodeShardReply,
  decodeShardRequest,
  decodeStoredRecord,
  encodeControlCommand,
  encodeHeartbeat,
  encodePublicationEvent,
  encodeShardReply,
  encodeShardRequest,
  encodeStoredRecord,
  RecordKind,
  ShardOp,
} from './envelope.ts';

let sink: unknown;

export interface EnvelopeBenchResult {
  name: string;
  nsPerOp: number;
}

function bench(name: string, fn: () => unknown, durationMs: number): EnvelopeBenchResult {
  const warm = performance.now() + durationMs / 4;
  while (performance.now() < warm) for (let i = 0; i < 100; i++) sink = fn();
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < durationMs) {
    for (let i = 0; i < 100; i++) sink = fn();
    ops += 100;
    now = performance.now();
  }
  return { name, nsPerOp: ((now - start) * 1e6) / ops };
}

const data = new TextEncoder().encode(JSON.stringify({ text: 'x'.repeat(110) }));
const info: ClientInfo = { user: 'user-42', client: '8f14e45f-ceea-467f-a8b6-1b8a3c5e3a9d', connInfo: new TextEncoder().encode('{"name":"Alice"}') };
const bare: Publication = { offset: 123456, data, time: 1_767_225_600_123 };
const full: Publication = { ...bare, info, tags: { region: 'eu', kind: 'chat' } };
const cases: Array<[string, () => unknown, () => unknown]> = [];
const pair = (name: string, encode: () => Uint8Array, decode: (b: Uint8Array) => unknown): void => {
  const bytes = encode();
  cases.push([name, encode, () => decode(bytes)]);
};
pair('channel event: publication (128 B)', () => encodePublicationEvent(bare, 'abcdefgh'), decodeChannelEvent);
pair('channel event: publication + info + tags', () => encodePublicationEvent(full, 'abcdefgh'), decodeChannelEvent);
pair(
  'stored record (publication + key)',
  () => encodeStoredRecord({ kind: RecordKind.publication, epoch: 'abcdefgh', offset: 123456, time: 1_767_225_600_123, publication: bare, idempotencyKey: 'k-123', idempotencyExpiresAt: 1_767_225_900_123, ttlMs: 300_000 }),
  decodeStoredRecord,
);
pair(
  'shard request: publish',
  () => encodeShardRequest({ op: ShardOp.publish, channel: 'chat:lobby', data, history: { size: 100, ttlMs: 300_000, metaTtlMs: 2_592_000_000 } }),
  decodeShardRequest,
);
pair('shard reply: publish', () => encodeShardReply({ publication: bare, position: { offset: 123456, epoch: 'abcdefgh' } }), decodeShardReply);
const disconnect: ControlCommand = { kind: 'disconnect', user: 'user-42', disconnect: { code: 3503, reason: 'force disconnect' } };
pair('control: disconnect', () => encodeControlCommand(disconnect), decodeControlCommand);
pair(
  'heartbeat',
  () => encodeHeartbeat({ uid: '8f14e45f-ceea-467f-a8b6-1b8a3c5e3a9d', name: 'gateway-1', version: '0.1.0', numClients: 10_000, numUsers: 9000, numSubs: 20_000, numChannels: 500, uptimeSeconds: 3600, expiresInMs: 15_000 }),
  decodeHeartbeat,
);

/** Encode and decode of every case, each measured for `durationMs`. */
export function runEnvelopeBench(durationMs = 700): EnvelopeBenchResult[] {
  const out: EnvelopeBenchResult[] = [];
  for (const [name, encode, decode] of cases) {
    out.push(bench(`encode ${name}`, encode, durationMs), bench(`decode ${name}`, decode, durationMs));
  }
  if (sink === null) out.push({ name: 'unreachable', nsPerOp: 0 });
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const r of runEnvelopeBench()) process.stdout.write(`${r.name.padEnd(48)} ${r.nsPerOp.toFixed(0).padStart(6)} ns/op\n`);
}
