import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogSink, compact } from './log-sink.ts';

test('compact: a Rotor JSON log line becomes "time level msg k=v"; anything else is kept as it is', () => {
  const line = JSON.stringify({ time: '2026-11-25T06:04:32.874Z', level: 'info', msg: 'rotor started', role: 'gateway', node: 'gateway-1', httpPort: 8000, nats: 'a b', ok: true });
  assert.equal(compact(line), '06:04:32.874 info  rotor started httpPort=8000 nats="a b" ok=true');
  assert.equal(compact('[123] 2026/11/25 [INF] Server is ready'), '[123] 2026/11/25 [INF] Server is ready');
  assert.equal(compact('{"time": broken'), '{"time": broken');
});

test('LogSink: prefixed lines on the stream (coloured when asked), raw lines in one file per process', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rotor-sink-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out: string[] = [];
  const sink = new LogSink({ dir, write: (s) => out.push(s), colour: false });
  sink.add('nats');
  sink.add('gateway-10');
  const json = '{"time":"2026-11-25T06:04:32.874Z","level":"warn","msg":"x"}';
  sink.line('gateway-10', json);
  sink.line('nats', 'ready');
  await sink.close();
  assert.deepEqual(out, ['gateway-10 | 06:04:32.874 warn  x\n', 'nats       | ready\n']);
  assert.equal(readFileSync(join(dir, 'gateway-10.log'), 'utf8'), `${json}\n`);
  assert.equal(readFileSync(join(dir, 'nats.log'), 'utf8'), 'ready\n');

  const coloured: string[] = [];
  const sink2 = new LogSink({ dir, write: (s) => coloured.push(s), colour: true });
  sink2.add('api');
  sink2.line('api', 'hello');
  await sink2.close();
  const esc = String.fromCharCode(27);
  assert.ok(coloured[0]?.startsWith(`${esc}[`) && coloured[0].endsWith(`|${esc}[0m hello\n`), JSON.stringify(coloured[0]));
});
