// Wire runtime: varints and 64-bit limits, UTF-8, nested lengths, unknown fields, depth limits, and
// mutual compatibility with protobufjs (an independent implementation) on random messages.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Writer } from '../src/wire/writer.ts';
import { Reader } from '../src/wire/reader.ts';
import { DecodeError } from '../src/wire/errors.ts';
import { decodeBinary, encodeBinary, decodeJson, encodeJson } from '../src/wire/message.ts';
import type { MessageType } from '../src/wire/message.ts';
import * as client from '../src/gen/client.ts';
import * as api from '../src/gen/api.ts';
import { messageArb, oracleRoot } from './support/schema.ts';

const hex = (u: Uint8Array): string => Buffer.from(u).toString('hex');
const w = (fn: (w: Writer) => void): Uint8Array => {
  const wr = new Writer(4);
  fn(wr);
  return wr.finish();
};

describe('varints', () => {
  test('uint32 and uint64 encodings match the protobuf spec', () => {
    assert.equal(hex(w((x) => x.uint32(0))), '00');
    assert.equal(hex(w((x) => x.uint32(127))), '7f');
    assert.equal(hex(w((x) => x.uint32(128))), '8001');
    assert.equal(hex(w((x) => x.uint32(300))), 'ac02');
    assert.equal(hex(w((x) => x.uint32(0xffffffff))), 'ffffffff0f');
    assert.equal(hex(w((x) => x.uint64(2 ** 32))), '8080808010');
    assert.equal(hex(w((x) => x.uint64(Number.MAX_SAFE_INTEGER))), 'ffffffffffffff0f');
    assert.equal(hex(w((x) => x.int32(-1))), 'ffffffffffffffffff01');
    assert.equal(hex(w((x) => x.int64(-1))), 'ffffffffffffffffff01');
    assert.equal(hex(w((x) => x.sint32(-1))), '01');
    assert.equal(hex(w((x) => x.sint64(-1))), '01');
    assert.equal(hex(w((x) => x.sint64(1))), '02');
    assert.equal(hex(w((x) => x.sint64(-(2 ** 31)))), 'ffffffff0f');
  });

  test('64-bit round trips at the safe-integer edges', () => {
    for (const v of [0, 1, 127, 128, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 52, Number.MAX_SAFE_INTEGER]) {
      assert.equal(new Reader(w((x) => x.uint64(v))).uint64(), v);
      assert.equal(new Reader(w((x) => x.fixed64(v))).fixed64(), v);
    }
    for (const v of [0, -1, 1, -(2 ** 31), -(2 ** 32), -(2 ** 52), -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER]) {
      assert.equal(new Reader(w((x) => x.int64(v))).int64(), v);
      assert.equal(new Reader(w((x) => x.sint64(v))).sint64(), v);
      assert.equal(new Reader(w((x) => x.sfixed64(v))).sfixed64(), v);
    }
  });

  test('values beyond 2^53-1 are decode errors, not silent rounding', () => {
    const two53 = new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]); // 2^53
    assert.throws(() => new Reader(two53).uint64(), DecodeError);
    assert.throws(() => new Reader(two53).int64(), DecodeError);
    const max64 = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    assert.throws(() => new Reader(max64).uint64(), DecodeError);
    assert.equal(new Reader(max64).int64(), -1, 'as int64 it is -1');
    const minSafeMinus1 = w((x) => x.varint64(0, 0xffe00000)); // -(2^53)
    assert.throws(() => new Reader(minSafeMinus1).int64(), DecodeError);
  });

  test('truncated and over-long varints are errors', () => {
    assert.throws(() => new Reader(new Uint8Array([0x80])).uint32(), DecodeError);
    assert.throws(() => new Reader(new Uint8Array([0x80, 0x80])).uint64(), DecodeError);
    const eleven = new Uint8Array(11).fill(0x80);
    eleven[10] = 0x01;
    assert.throws(() => new Reader(eleven).uint32(), DecodeError);
    assert.throws(() => new Reader(eleven).uint64(), DecodeError);
    // uint32 keeps the low 32 bits of a longer varint, as protobuf specifies.
    assert.equal(new Reader(w((x) => x.uint64(2 ** 32 + 5))).uint32(), 5);
  });
});

describe('strings and lengths', () => {
  test('UTF-8 round trip including astral characters; lone surrogates become U+FFFD', () => {
    for (const s of ['', 'a', 'é', '€', '𝄞', 'x'.repeat(200), 'é'.repeat(100), `${'a'.repeat(120)}€€€`]) {
      const r = new Reader(w((x) => x.string(s)));
      assert.equal(r.string(), s);
    }
    assert.equal(new Reader(w((x) => x.string('\ud800'))).string(), '\ufffd');
  });

  test('invalid UTF-8 in a string field is a decode error', () => {
    assert.throws(() => new Reader(new Uint8Array([2, 0xc3, 0x28])).string(), DecodeError);
    assert.throws(() => new Reader(new Uint8Array([40, ...new Uint8Array(39).fill(0x61), 0xff])).string(), DecodeError);
  });

  test('nested bodies of 128 bytes and more get multi-byte lengths', () => {
    for (const n of [0, 1, 126, 127, 128, 16383, 16384, 70000]) {
      const data = new Uint8Array(n).fill(7);
      const bytes = encodeBinary(client.Reply, { push: { pub: { data } } });
      const back = decodeBinary(client.Reply, bytes);
      assert.equal(back.push?.pub?.data?.length, n === 0 ? undefined : n);
    }
  });

  test('a length running past the message end is an error', () => {
    // Reply{ push (4) len 5 } but only 2 body bytes follow.
    assert.throws(() => decodeBinary(client.Reply, new Uint8Array([0x22, 0x05, 0x12, 0x00])), DecodeError);
    // Push.channel claims 3 bytes inside a push of 2 bytes.
    assert.throws(() => decodeBinary(client.Reply, new Uint8Array([0x22, 0x02, 0x12, 0x03, 0x61, 0x61, 0x61])), DecodeError);
    // Length prefix with bits above 32.
    assert.throws(() => decodeBinary(client.Reply, new Uint8Array([0x22, 0x80, 0x80, 0x80, 0x80, 0x10])), DecodeError);
  });
});

describe('unknown fields and limits', () => {
  test('unknown fields of every wire type are skipped; wrong wire types for known fields too', () => {
    const wr = new Writer();
    wr.uint32((100 << 3) | 0);
    wr.uint64(123456789);
    wr.uint32((101 << 3) | 1);
    wr.fixed64(5);
    wr.uint32((102 << 3) | 2);
    wr.string('skipped');
    wr.uint32((103 << 3) | 5);
    wr.fixed32(9);
    wr.uint32((1 << 3) | 2); // Command.id with the wrong wire type (delimited): skipped as unknown
    wr.string('xx');
    wr.uint32((1 << 3) | 0);
    wr.uint32(42);
    const cmd = decodeBinary(client.Command, wr.finish());
    assert.deepEqual(cmd, { id: 42 });
  });

  test('groups, wire types 6/7 and field number 0 are errors', () => {
    assert.throws(() => decodeBinary(client.Command, new Uint8Array([(5 << 3) | 3])), DecodeError);
    assert.throws(() => decodeBinary(client.Command, new Uint8Array([(5 << 3) | 6])), DecodeError);
    assert.throws(() => decodeBinary(client.Command, new Uint8Array([0x00, 0x01])), DecodeError);
  });

  test('recursion depth is bounded (FilterNode nests itself)', () => {
    type Node = client.FilterNode;
    const make = (depth: number): Node => {
      let n: Node = { key: 'leaf' };
      for (let i = 0; i < depth; i++) n = { op: 'not', nodes: [n] };
      return n;
    };
    const ok = { subscribe: { channel: 'c', tf: make(50) } };
    assert.doesNotThrow(() => decodeBinary(client.Command, encodeBinary(client.Command, ok)));
    assert.doesNotThrow(() => decodeJson(client.Command, encodeJson(client.Command, ok)));
    const deep = { subscribe: { channel: 'c', tf: make(200) } };
    assert.throws(() => decodeBinary(client.Command, encodeBinary(client.Command, deep)), DecodeError);
    assert.throws(() => decodeJson(client.Command, encodeJson(client.Command, deep)), DecodeError);
  });
});

describe('protobufjs oracle', () => {
  const root = oracleRoot();
  const cases: Array<[string, MessageType<Record<string, unknown>>]> = [
    ['centrifugal.centrifuge.protocol.Command', client.Command as MessageType<Record<string, unknown>>],
    ['centrifugal.centrifuge.protocol.Reply', client.Reply as MessageType<Record<string, unknown>>],
    ['centrifugal.centrifugo.api.Command', api.Command as MessageType<Record<string, unknown>>],
    ['centrifugal.centrifugo.api.Reply', api.Reply as MessageType<Record<string, unknown>>],
    ['centrifugal.centrifugo.api.NodeResult', api.NodeResult as MessageType<Record<string, unknown>>],
  ];
  for (const [name, ours] of cases) {
    test(`${name}: our bytes ⇄ protobufjs bytes are identical and decode equally`, () => {
      const T = root.lookupType(name);
      fc.assert(
        fc.property(messageArb(T, { jsonBytes: false, maxDepth: 3 }), (m) => {
          const bytes = encodeBinary(ours, m);
          const viaOracle = T.encode(T.decode(bytes)).finish();
          assert.equal(hex(viaOracle), hex(bytes));
          const back = decodeBinary(ours, viaOracle);
          assert.equal(hex(encodeBinary(ours, back)), hex(bytes));
        }),
        { numRuns: 300 },
      );
    });
  }
});
