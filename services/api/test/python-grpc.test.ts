// An independent, non-Node client: Python grpcio (Debian's python3-grpcio) with stubs generated
// from our proto/api.proto by grpc_tools.protoc inside this test. It publishes with the API key
// into the embedded wiring (gateway + API), and a centrifuge-js subscriber receives the
// publication; it reads the history back and is refused with UNAUTHENTICATED for a wrong key.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { promisify } from 'node:util';
import type { Subscription } from 'centrifuge';
import { Collector, deferred } from '@rotor/testkit';
import { startEmbedded } from './embedded.ts';
import { GRPC_KEY } from './harness.ts';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const PROTO_DIR = fileURLToPath(new URL('../../../proto/', import.meta.url));

const CLIENT = String.raw`
import json, sys
import grpc
import api_pb2, api_pb2_grpc

target, key, channel = sys.argv[1], sys.argv[2], sys.argv[3]
out = {}
with grpc.insecure_channel(target) as ch:
    stub = api_pb2_grpc.CentrifugoApiStub(ch)
    md = [("authorization", "apikey " + key)]
    r = stub.Publish(api_pb2.PublishRequest(channel=channel, data=b'{"from":"python"}', tags={"lang": "py"}), metadata=md, timeout=10)
    out["publish"] = {"error": r.error.code if r.HasField("error") else None, "offset": r.result.offset, "epoch": r.result.epoch}
    h = stub.History(api_pb2.HistoryRequest(channel=channel, limit=-1), metadata=md, timeout=10)
    out["history"] = [[p.offset, p.data.decode(), dict(p.tags)] for p in h.result.publications]
    e = stub.Publish(api_pb2.PublishRequest(channel="nope:x", data=b"{}"), metadata=md, timeout=10)
    out["unknown_namespace"] = e.error.code
    try:
        stub.Publish(api_pb2.PublishRequest(channel=channel, data=b"{}"), metadata=[("authorization", "apikey wrong")], timeout=10)
        out["wrong_key"] = "OK"
    except grpc.RpcError as err:
        out["wrong_key"] = err.code().name
    try:
        stub.Info(api_pb2.InfoRequest(), timeout=10)
        out["no_key"] = "OK"
    except grpc.RpcError as err:
        out["no_key"] = err.code().name
print(json.dumps(out))
`;

async function subscribe(sub: Subscription): Promise<void> {
  const d = deferred();
  sub.on('subscribed', () => d.resolve());
  sub.subscribe();
  await d.promise;
}

test('Python grpcio client generated from proto/api.proto publishes; a centrifuge-js subscriber receives it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rotor-pygrpc-'));
  const e = await startEmbedded();
  try {
    await run(PYTHON, ['-m', 'grpc_tools.protoc', `-I${PROTO_DIR}`, `--python_out=${dir}`, `--grpc_python_out=${dir}`, 'api.proto'], { timeout: 60_000 });
    writeFileSync(join(dir, 'client.py'), CLIENT);

    const carol = e.client('carol');
    const sub = carol.newSubscription('chat:py');
    const pubs = new Collector<{ data: unknown; offset?: number; tags?: Record<string, string> }>('publications');
    sub.on('publication', (p) => pubs.push({ data: p.data, offset: p.offset, tags: p.tags }));
    carol.connect();
    await subscribe(sub);

    const { stdout } = await run(PYTHON, [join(dir, 'client.py'), `127.0.0.1:${e.grpcPort}`, GRPC_KEY, 'chat:py'], {
      cwd: dir,
      timeout: 60_000,
      env: { ...process.env, PYTHONPATH: dir, PYTHONDONTWRITEBYTECODE: '1' },
    });
    const out = JSON.parse(stdout) as {
      publish: { error: number | null; offset: number; epoch: string };
      history: Array<[number, string, Record<string, string>]>;
      unknown_namespace: number;
      wrong_key: string;
      no_key: string;
    };
    assert.equal(out.publish.error, null);
    assert.equal(out.publish.offset, 1);
    assert.ok(out.publish.epoch.length > 0);
    assert.deepEqual(out.history, [[1, '{"from":"python"}', { lang: 'py' }]]);
    assert.equal(out.unknown_namespace, 102);
    assert.equal(out.wrong_key, 'UNAUTHENTICATED');
    assert.equal(out.no_key, 'UNAUTHENTICATED');
    // The subscriber got exactly what Python sent, at the offset Python was told.
    assert.deepEqual(await pubs.waitFor(1), [{ data: { from: 'python' }, offset: 1, tags: { lang: 'py' } }]);
  } finally {
    await e.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
