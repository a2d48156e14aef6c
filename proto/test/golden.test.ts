// Golden frames: the commands centrifuge-js 5.8.0 sent (captured by sdk.test.ts, saved in
// fixtures/sdk/) decode to the expected values without the SDK running; our own reply frames are
// pinned byte for byte; and client.proto agrees field by field with the protobuf definitions
// compiled into the SDK's protobuf build.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeCommands, encodeReplies, joinFrame, pingFrame } from '../src/frames.ts';
import { joinPush, leavePush, publicationPush } from '../src/push.ts';
import type { Format } from '../src/wire/message.ts';
import { sdkCommands } from './fixtures/sdk-commands.ts';
import { oracleRoot } from './support/schema.ts';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, 'fixtures');
const enc = new TextEncoder();
const formats: Format[] = ['json', 'protobuf'];
const ext = (f: Format): string => (f === 'json' ? 'txt' : 'bin');

describe('SDK golden frames decode to the expected commands', () => {
  for (const format of formats) {
    for (const [name, expected] of Object.entries(sdkCommands)) {
      test(`${format}/${name}`, () => {
        const frame = new Uint8Array(readFileSync(join(fixtures, 'sdk', format, `${name}.${ext(format)}`)));
        const r = decodeCommands(frame, format, { maxFrameBytes: 65536 });
        assert.ok(r.ok, r.ok ? '' : r.error.message);
        assert.deepEqual(r.commands, expected);
      });
    }
  }

  test('JSON frames: one command per line, no trailing newline; protobuf: every command length-prefixed', () => {
    const text = readFileSync(join(fixtures, 'sdk', 'json', 'connect-subscribe.txt'), 'utf8');
    assert.equal(text.split('\n').length, 3);
    assert.ok(!text.endsWith('\n'));
    const bin = readFileSync(join(fixtures, 'sdk', 'protobuf', 'connect-subscribe.bin'));
    let pos = 0;
    let n = 0;
    while (pos < bin.length) {
      const len = bin[pos]!; // every command here is shorter than 128 bytes
      pos += 1 + len;
      n++;
    }
    assert.equal(pos, bin.length);
    assert.equal(n, 3);
    assert.deepEqual([...readFileSync(join(fixtures, 'sdk', 'protobuf', 'pong.bin'))], [0]);
  });
});

describe('our reply frames are pinned', () => {
  const data = (v: unknown): Uint8Array => enc.encode(JSON.stringify(v));
  const frames: Record<string, (f: Format) => Uint8Array> = {
    'connect-subscribe-replies': (f) =>
      encodeReplies(
        [
          { id: 1, connect: { client: 'client-2', version: '1', ping: 25, pong: true } },
          {
            id: 2,
            subscribe: {
              recoverable: true,
              positioned: true,
              epoch: 'ep',
              offset: 5,
              recovered: true,
              wasRecovering: true,
              publications: [{ data: data({ n: 6 }), offset: 6 }],
            },
          },
          { id: 3, error: { code: 100, message: 'internal server error', temporary: true } },
        ],
        f,
      ),
    'channel-batch': (f) =>
      joinFrame(
        [
          publicationPush('news', { data: data({ n: 8 }), offset: 8, tags: { t: '1' } }, f),
          joinPush('news', { user: 'u2', client: 'c2', connInfo: data({ a: 1 }) }, f),
          leavePush('news', { user: 'u3', client: 'c3' }, f),
        ],
        f,
      ),
    ping: (f) => pingFrame(f),
  };
  for (const format of formats) {
    for (const [name, build] of Object.entries(frames)) {
      test(`${format}/${name}`, () => {
        const path = join(fixtures, 'server', format, `${name}.${ext(format)}`);
        const frame = build(format);
        if (process.env['ROTOR_UPDATE_GOLDEN'] === '1') {
          mkdirSync(dirname(path), { recursive: true });
          writeFileSync(path, frame);
        }
        assert.ok(existsSync(path), `missing ${path}: run with ROTOR_UPDATE_GOLDEN=1`);
        assert.deepEqual(Buffer.from(frame), readFileSync(path));
      });
    }
  }

  test('the JSON reply frame reads as Centrifugo writes it', () => {
    const text = readFileSync(join(fixtures, 'server', 'json', 'connect-subscribe-replies.txt'), 'utf8');
    assert.equal(
      text,
      [
        '{"id":1,"connect":{"client":"client-2","version":"1","ping":25,"pong":true}}',
        '{"id":2,"subscribe":{"recoverable":true,"epoch":"ep","publications":[{"data":{"n":6},"offset":6}],"recovered":true,"offset":5,"positioned":true,"was_recovering":true}}',
        '{"id":3,"error":{"code":100,"message":"internal server error","temporary":true}}',
      ].join('\n'),
    );
  });
});

/** (field number → "name:type") of every message compiled into the SDK's protobuf build. */
function sdkSchema(): Map<string, Map<number, string>> {
  const require = createRequire(import.meta.url);
  const bundle = readFileSync(require.resolve('centrifuge/build/protobuf'), 'utf8');
  const out = new Map<string, Map<number, string>>();
  const blocks = bundle.split(/\n\s+protocol\.(?=\w+ = \(function)/).slice(1);
  for (const block of blocks) {
    const name = /^(\w+)/.exec(block)![1]!;
    const decodeStart = block.indexOf('.decode = function decode(');
    if (decodeStart < 0) continue;
    const body = block.slice(decodeStart, block.indexOf('return message;', decodeStart));
    const fields = new Map<number, string>();
    for (const seg of body.split(/\n\s+case (?=\d+: \{)/).slice(1)) {
      const num = Number(/^(\d+)/.exec(seg)![1]);
      const field = /message\.(\w+)/.exec(seg)![1]!;
      let type: string;
      if (/\[key\] = value/.test(seg)) {
        const v = /case 2:\s*value = (?:reader\.(\w+)\(\)|\$root\.centrifugal\.centrifuge\.protocol\.(\w+)\.decode)/.exec(seg)!;
        type = `map<string,${v[1] ?? v[2]}>`;
      } else {
        const m = /protocol\.(\w+)\.decode|reader\.(\w+)\(\)/.exec(seg)!;
        type = (m[1] ?? m[2])!;
        if (/\.push\(/.test(seg)) type = `repeated ${type}`;
      }
      fields.set(num, `${field}:${type}`);
    }
    out.set(name, fields);
  }
  return out;
}

test('client.proto agrees with every field compiled into centrifuge-js 5.8.0 (protobuf build)', () => {
  const sdk = sdkSchema();
  assert.ok(sdk.size >= 40, `parsed ${sdk.size} SDK messages`);
  const root = oracleRoot();
  const extraInOurs: string[] = [];
  for (const [name, fields] of sdk) {
    const t = root.lookupType(`centrifugal.centrifuge.protocol.${name}`);
    for (const [num, desc] of fields) {
      const f = t.fieldsById[num];
      assert.ok(f, `${name} field ${num} (${desc}) missing in client.proto`);
      let ours: string;
      if (f.map) ours = `map<string,${f.type}>`;
      else ours = `${f.repeated ? 'repeated ' : ''}${f.type}`;
      assert.equal(`${f.name}:${ours}`, desc, `${name} field ${num}`);
    }
    for (const f of t.fieldsArray) if (!fields.has(f.id)) extraInOurs.push(`${name}.${f.name}=${f.id}`);
  }
  // Fields PROTOCOL.md lists (protocol master) that this SDK release does not know yet.
  assert.deepEqual(extraInOurs.sort(), ['ConnectRequest.dict=8', 'ConnectRequest.profile=9', 'ConnectResult.dict=13', 'ConnectResult.flag=12']);
});
