// Fuzzing the decoders that take untrusted bytes: random bytes, JSON-token soup and mutations of
// valid frames, against frame decoding (commands and replies, both formats), stream decoding and
// whole-message API decoding. The only acceptable outcomes are typed results: never an exception,
// never a hang (every case is timed). ≥ 100,000 cases in total.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeCommands, decodeReplies, encodeCommand, encodeReply, joinFrame, ProtocolErrorKind } from '../src/frames.ts';
import type { ProtocolError } from '../src/frames.ts';
import { StreamDecoder } from '../src/stream.ts';
import { Reply } from '../src/gen/client.ts';
import type { Command } from '../src/gen/client.ts';
import * as api from '../src/gen/api.ts';
import { encodeBinary, encodeJson, tryDecodeMessage } from '../src/wire/message.ts';
import type { Format, MessageType } from '../src/wire/message.ts';
import { messageArb, oracleRoot } from './support/schema.ts';

// 10 properties × 10,500 cases; ROTOR_FUZZ_CASES raises it for a longer local run.
const CASES_PER_PROPERTY = Number(process.env['ROTOR_FUZZ_CASES'] ?? 10_500);
// A hang detector, not a performance check: a decoder that loops or backtracks catastrophically
// takes seconds; a GC pause or a busy CI machine can cost a healthy case a few hundred ms.
const SLOW_CASE_MS = 5_000;
const kinds = new Set<string>(Object.values(ProtocolErrorKind));
const limits = { maxFrameBytes: 4096, maxMessages: 64 };
const enc = new TextEncoder();
let totalCases = 0; // decoder calls
let totalRuns = 0; // generated inputs
let slowest = 0;

function timed<T>(fn: () => T): T {
  const t0 = performance.now();
  const r = fn();
  const dt = performance.now() - t0;
  if (dt > slowest) slowest = dt;
  assert.ok(dt < SLOW_CASE_MS, `one case took ${dt.toFixed(1)} ms`);
  totalCases++;
  return r;
}

function checkError(e: ProtocolError): void {
  assert.ok(kinds.has(e.kind), `unknown kind ${e.kind}`);
  assert.equal(typeof e.message, 'string');
  assert.notEqual(e.kind, ProtocolErrorKind.internal, `decoder bug surfaced as internal error: ${e.message}`);
}

function checkFrame(bytes: Uint8Array, format: Format): void {
  const c = timed(() => decodeCommands(bytes, format, limits));
  if (!c.ok) checkError(c.error);
  else assert.ok(c.commands.length >= 1 && c.commands.length <= limits.maxMessages);
  const r = timed(() => decodeReplies(bytes, format, limits));
  if (!r.ok) checkError(r.error);
}

// ---- inputs
const root = oracleRoot();
const commandArb = messageArb(root.lookupType('centrifugal.centrifuge.protocol.Command'), { jsonBytes: true, maxDepth: 3 });
const replyArb = messageArb(root.lookupType('centrifugal.centrifuge.protocol.Reply'), { jsonBytes: true, maxDepth: 3 });

function validFrame(format: Format): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.array(commandArb, { minLength: 1, maxLength: 3 }).map((cs) => joinFrame(cs.map((c) => encodeCommand(c as Command, format)), format)),
    fc.array(replyArb, { minLength: 1, maxLength: 3 }).map((rs) => joinFrame(rs.map((r) => encodeReply(r as Reply, format)), format)),
  );
}

type Mutation = { op: 'flip' | 'insert' | 'delete' | 'truncate' | 'dup'; at: number; byte: number; len: number };
const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom('flip', 'insert', 'delete', 'truncate', 'dup'),
  at: fc.nat(),
  byte: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x0a, 0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x80, 0xff, 0x00)),
  len: fc.integer({ min: 1, max: 16 }),
});

function mutate(input: Uint8Array, muts: Mutation[]): Uint8Array {
  let b = Array.from(input);
  for (const m of muts) {
    const at = b.length === 0 ? 0 : m.at % (b.length + 1);
    switch (m.op) {
      case 'flip':
        if (b.length) b[at % b.length] = m.byte;
        break;
      case 'insert':
        b.splice(at, 0, m.byte);
        break;
      case 'delete':
        b.splice(at, m.len);
        break;
      case 'truncate':
        b = b.slice(0, at);
        break;
      case 'dup':
        b.splice(at, 0, ...b.slice(at, at + m.len));
        break;
    }
  }
  return new Uint8Array(b);
}

const jsonSoup = fc
  .array(fc.constantFrom('{', '}', '[', ']', '"', ':', ',', '\\', '\n', ' ', '0', '-1', '1e5', '.', 'true', 'null', 'fals', '"id"', '"connect"', '"data"', '"subscribe"', '"push"', '"pub"', '\\u12', 'é', '\u0001'), { maxLength: 60 })
  .map((parts) => enc.encode(parts.join('')));

const run = <Ts extends [unknown, ...unknown[]]>(prop: fc.IProperty<Ts>): void => {
  fc.assert(prop, { numRuns: CASES_PER_PROPERTY });
  totalRuns += CASES_PER_PROPERTY;
};

test('fuzz: frame decoders never throw and never hang', () => {
  const started = performance.now();
  for (const format of ['json', 'protobuf'] as const) {
    run(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => checkFrame(bytes, format)));
    run(fc.property(fc.tuple(validFrame(format), fc.array(mutationArb, { minLength: 1, maxLength: 4 })), ([frame, muts]) => checkFrame(mutate(frame, muts), format)));
  }
  run(fc.property(jsonSoup, (bytes) => checkFrame(bytes, 'json')));
  // Valid frames must decode.
  for (const format of ['json', 'protobuf'] as const) {
    run(
      fc.property(fc.array(commandArb, { minLength: 1, maxLength: 3 }), (cs) => {
        const r = timed(() => decodeCommands(joinFrame(cs.map((c) => encodeCommand(c as Command, format)), format), format, { maxFrameBytes: 1 << 20 }));
        assert.ok(r.ok, r.ok ? '' : r.error.message);
        assert.equal(r.commands.length, cs.length);
      }),
    );
  }
  console.log(`# frame fuzz: ${totalRuns} cases, ${((performance.now() - started) / 1000).toFixed(1)} s`);
});

test('fuzz: stream decoders fed mutated streams in random chunks', () => {
  const before = totalCases;
  for (const format of ['json', 'protobuf'] as const) {
    run(
      fc.property(
        fc.tuple(validFrame(format), fc.array(mutationArb, { maxLength: 3 }), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 20 })),
        ([frame, muts, cuts]) => {
          const bytes = mutate(format === 'json' ? joinFrame([frame, new Uint8Array(0)], 'json') : frame, muts);
          const d = new StreamDecoder(Reply, format, { maxMessageBytes: 2048 });
          let pos = 0;
          let i = 0;
          let failed = false;
          while (pos < bytes.length) {
            const n = cuts[i++ % cuts.length]!;
            const r = timed(() => d.push(bytes.subarray(pos, pos + n)));
            pos += n;
            if (!r.ok) {
              checkError(r.error);
              failed = true;
            } else assert.ok(!failed, 'a failed stream stays failed');
          }
          const end = timed(() => d.end());
          if (!end.ok) checkError(end.error);
        },
      ),
    );
  }
  assert.ok(totalCases - before >= 2 * CASES_PER_PROPERTY);
});

test('fuzz: server API bodies (HTTP JSON and gRPC protobuf)', () => {
  const types = [api.BatchRequest, api.PublishRequest, api.BroadcastRequest, api.SubscribeRequest, api.DisconnectRequest] as Array<MessageType<unknown>>;
  const batchArb = messageArb(root.lookupType('centrifugal.centrifugo.api.BatchRequest'), { jsonBytes: true, maxDepth: 3 });
  const formatArb = fc.constantFrom<Format>('json', 'protobuf');
  run(
    fc.property(fc.tuple(batchArb, fc.array(mutationArb, { maxLength: 4 }), formatArb), ([m, muts, format]) => {
      const valid = format === 'json' ? encodeJson(api.BatchRequest, m) : encodeBinary(api.BatchRequest, m);
      const bytes = mutate(valid, muts);
      for (const t of types) {
        const r = timed(() => tryDecodeMessage(t, bytes, format));
        if (!r.ok) assert.equal(typeof r.error, 'string');
      }
    }),
  );
  console.log(`# total: ${totalRuns} fuzz cases, ${totalCases} decoder calls, slowest call ${slowest.toFixed(2)} ms`);
  assert.ok(totalRuns >= 100_000, `only ${totalRuns} cases`);
});
