// api.proto and client.proto must compile with the reference compiler (protoc), so Go, Java and
// other users can generate stubs from them. Uses Debian's python3-grpc-tools (installed by .ci/run).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { protoDir } from './support/schema.ts';
import { decodeBinary, encodeBinary } from '../src/wire/message.ts';
import * as api from '../src/gen/api.ts';

const PYTHON = '/usr/bin/python3';

test('every proto file compiles with protoc (grpc_tools) and keeps its package and options', () => {
  const out = mkdtempSync(join(tmpdir(), 'rotor-protoc-'));
  try {
    const files = readdirSync(protoDir).filter((f) => f.endsWith('.proto'));
    const r = spawnSync(PYTHON, ['-m', 'grpc_tools.protoc', `-I${protoDir}`, `--python_out=${out}`, `--grpc_python_out=${out}`, ...files], {
      encoding: 'utf8',
      cwd: protoDir,
      timeout: 60_000,
    });
    assert.equal(r.error, undefined, `could not run ${PYTHON}: ${String(r.error)}`);
    assert.equal(r.status, 0, r.stderr);
    const check = spawnSync(
      PYTHON,
      [
        '-c',
        [
          'import sys; sys.path.insert(0, sys.argv[1])',
          'import api_pb2, client_pb2',
          'd = api_pb2.DESCRIPTOR',
          "print(d.package, ','.join(m.name for m in d.services_by_name['CentrifugoApi'].methods))",
          "print(d.GetOptions().go_package, d.GetOptions().java_package, d.GetOptions().java_multiple_files)",
          'print(client_pb2.DESCRIPTOR.package)',
        ].join('\n'),
        out,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(check.status, 0, check.stderr);
    const lines = check.stdout.trim().split('\n');
    assert.equal(
      lines[0],
      'centrifugal.centrifugo.api Batch,Publish,Broadcast,Subscribe,Unsubscribe,Disconnect,Presence,PresenceStats,History,HistoryRemove,Info,RPC,Refresh,Channels',
    );
    assert.match(lines[1]!, /apiproto .*io\.rotor\.proto\.api True/);
    assert.equal(lines[2], 'centrifugal.centrifuge.protocol');
    assert.match(readFileSync(join(out, 'api_pb2_grpc.py'), 'utf8'), /\/centrifugal\.centrifugo\.api\.CentrifugoApi\/Publish/);

    // The Google protobuf runtime and ours read each other's bytes.
    const ours = encodeBinary(api.BatchRequest, {
      commands: [{ publish: { channel: 'news', data: new TextEncoder().encode('{"a":1}'), tags: { k: 'v' }, version: 2 ** 40 } }, { info: {} }],
      parallel: true,
    });
    const py = spawnSync(
      PYTHON,
      [
        '-c',
        [
          'import sys, base64; sys.path.insert(0, sys.argv[1])',
          'import api_pb2',
          'b = api_pb2.BatchRequest(); b.ParseFromString(base64.b64decode(sys.argv[2]))',
          "print(b.parallel, b.commands[0].publish.channel, b.commands[0].publish.data.decode(), b.commands[0].publish.tags['k'], b.commands[0].publish.version, b.commands[1].HasField('info'))",
          "r = api_pb2.PresenceStatsResponse(result=api_pb2.PresenceStatsResult(num_clients=3, num_users=2))",
          'print(base64.b64encode(r.SerializeToString()).decode())',
        ].join('\n'),
        out,
        Buffer.from(ours).toString('base64'),
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(py.status, 0, py.stderr);
    const [readByPython, writtenByPython] = py.stdout.trim().split('\n');
    assert.equal(readByPython, 'True news {"a":1} v 1099511627776 True');
    assert.deepEqual(decodeBinary(api.PresenceStatsResponse, Buffer.from(writtenByPython!, 'base64')), { result: { numClients: 3, numUsers: 2 } });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
