// SSE framing against an EventSource-conformant parser: a line ends at CRLF, LF or a lone CR
// (WHATWG HTML, "Interpreting an event stream"), so a CR that a raw JSON payload carries as
// whitespace must not reach the stream, or it would cut the event and the SDK could not parse it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Collector } from '@rotor/testkit';
import { startTestGateway, token } from './harness.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Events of an SSE body as an EventSource sees them (data fields joined by '\n'). */
function readEvents(body: ReadableStream<Uint8Array>, out: Collector<string>): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let data: string[] = [];
  return (async () => {
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (done) return;
      text += decoder.decode(value, { stream: true });
      for (;;) {
        const m = /\r\n|\r|\n/.exec(text);
        // A CR at the very end may be the first half of a CRLF: wait for the next byte.
        if (m === null || (m[0] === '\r' && m.index === text.length - 1)) break;
        const line = text.slice(0, m.index);
        text = text.slice(m.index + m[0].length);
        if (line === '') {
          if (data.length > 0) out.push(data.join('\n'));
          data = [];
        } else if (line.startsWith('data:')) {
          data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
        }
      }
    }
  })();
}

test('sse: a payload with CR whitespace arrives as one parsable event', async (t) => {
  const g = await startTestGateway({
    sse: { enabled: true },
    channel: { namespaces: [{ name: 'chat', allow_subscribe_for_client: true }] },
  });
  t.after(() => g.close());
  const abort = new AbortController();
  t.after(() => abort.abort());
  const connect = JSON.stringify({ id: 1, connect: { token: await token({ sub: 'u' }) } });
  const res = await fetch(`${g.httpUrl}/connection/sse?cf_connect=${encodeURIComponent(connect)}`, { signal: abort.signal });
  assert.equal(res.status, 200);
  const events = new Collector<string>('sse events');
  const done = readEvents(res.body!, events);
  t.after(() => done);
  const first = JSON.parse(await events.waitForMatch(() => true, 'connect reply')) as Json;
  const c = first['connect'] as { session: string; node: string };
  const sub = await fetch(`${g.httpUrl}/emulation`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ session: c.session, node: c.node, data: JSON.stringify({ id: 2, subscribe: { channel: 'chat:a' } }) }),
  });
  assert.equal(sub.status, 204);
  await events.waitForMatch((e) => e.includes('"id":2'), 'subscribe reply');
  await g.publish('chat:a', new TextEncoder().encode('{"a":\r1,\r\n"b":2}'));
  await g.publish('chat:a', new TextEncoder().encode('{"last":true}'));
  await events.waitForMatch((e) => e.includes('"last"'), 'the last publication');
  const pubs = events.items.slice(2);
  assert.equal(pubs.length, 2, JSON.stringify(pubs));
  assert.deepEqual((JSON.parse(pubs[0]!) as Json)['push']['pub']['data'], { a: 1, b: 2 });
});
