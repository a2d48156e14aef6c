// Server-side refresh results that do not extend the expiry (Centrifugo v6 / centrifuge
// `expire`, `checkSubscriptionExpiration`): a connection refresh result whose expire_at is absent
// or already past ends the connection with 3005; a sub_refresh result with a past expire_at ends
// the subscription with Unsubscribe 2501. Either way the backend is asked once, not again on every
// keepalive round.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startTestGateway } from './harness.ts';
import { ProxyBackend } from './proxy-backend.ts';

type After = { after: (fn: () => unknown) => void };

async function setup(t: After, over: (b: ProxyBackend) => Record<string, unknown>) {
  const backend = await ProxyBackend.start();
  t.after(() => backend.close());
  const g = await startTestGateway(over(backend));
  t.after(() => g.close());
  return { backend, g };
}

const nowSec = (): number => Math.floor(Date.now() / 1000);

for (const [what, result] of [
  ['a past expire_at', () => ({ expire_at: nowSec() - 10 })],
  ['no expire_at', () => ({})],
] as const) {
  test(`refresh proxy: a result with ${what} ends the connection with 3005 after one request`, async (t) => {
    const { backend, g } = await setup(t, (b) => ({
      client: {
        proxy: {
          connect: { enabled: true, endpoint: b.endpoint('/connect') },
          refresh: { enabled: true, endpoint: b.endpoint('/refresh') },
        },
      },
    }));
    backend.on('/connect', () => ({ json: { result: { user: 'u1', expire_at: nowSec() + 1 } } }));
    backend.on('/refresh', () => ({ json: { result: result() } }));
    const c = await RawClient.open(g.url);
    t.after(() => c.close());
    await c.connect('');
    assert.equal((await c.waitClosed(10_000)).code, 3005);
    assert.equal(backend.received('/refresh').length, 1);
  });
}

test('sub_refresh proxy: a past expire_at ends the subscription with 2501 after one request', async (t) => {
  const { backend, g } = await setup(t, (b) => ({
    client: { allow_anonymous_connect_without_token: true },
    channel: {
      proxy: { subscribe: { endpoint: b.endpoint('/subscribe') }, sub_refresh: { endpoint: b.endpoint('/sub_refresh') } },
      namespaces: [{ name: 'sr', subscribe_proxy_enabled: true, sub_refresh_proxy_enabled: true }],
    },
  }));
  backend.on('/subscribe', () => ({ json: { result: { expire_at: nowSec() + 1 } } }));
  backend.on('/sub_refresh', () => ({ json: { result: { expire_at: nowSec() - 10 } } }));
  const c = await RawClient.open(g.url);
  t.after(() => c.close());
  await c.connect('');
  c.send([{ id: 2, subscribe: { channel: 'sr:a' } }]);
  await c.reply(2);
  const push = await c.replies.waitForMatch((r) => r.push?.unsubscribe !== undefined, 'unsubscribe push', 10_000);
  assert.equal(push.push?.unsubscribe?.code, 2501);
  assert.equal(backend.received('/sub_refresh').length, 1);
});
