// Emulation.route with the NATS relay's message format: a session id no gateway issued (ours are
// ASCII UUIDs) is answered like a session gone, whatever its characters, rather than failing in
// the relay (whose message carries at most 255 bytes of session id) as a 503.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '@rotor/core';
import { encodeEmulationMessage } from '@rotor/nats';
import { Emulation, RouteResult } from '../src/emulation/emulation.ts';
import type { EmulationRelay } from '../src/emulation/emulation.ts';

test('a long multi-byte session id for another node is not forwarded and not a failure', async () => {
  const forwarded: string[] = [];
  const relay: EmulationRelay = {
    listen: () => Promise.resolve(() => undefined),
    forward: (node, session, data) => {
      encodeEmulationMessage(session, data);
      forwarded.push(session);
      return Promise.resolve(true);
    },
  };
  const emu = new Emulation('node-a', 1 << 20, relay, silentLogger());
  const data = new TextEncoder().encode('{}');
  assert.equal(await emu.route('node-b', '\u{1F600}'.repeat(60), data), RouteResult.delivered);
  assert.equal(await emu.route('node-b', 'é'.repeat(128), data), RouteResult.delivered);
  assert.deepEqual(forwarded, []);
  // An id of the issued shape is forwarded.
  assert.equal(await emu.route('node-b', '0f8b3c1e-2a4d-4b6f-9c8e-1d2e3f4a5b6c', data), RouteResult.delivered);
  assert.equal(forwarded.length, 1);
});
