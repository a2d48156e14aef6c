// The demo page in headless Chromium (playwright-core driving /usr/bin/chromium): `rotor start`
// with zero configuration, the page open in two tabs, a message typed in one appears in both, a
// backend publish with the printed key appears too, and the page asks nothing of any other origin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import { withDeadline } from '@rotor/testkit';
import { parseDevBanner, spawnRotor, startRotor, tempDir } from '../src/rotor-process.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const WAIT_MS = 20_000;

interface Tab {
  page: Page;
  /** Requests that left the server's origin, and page errors / console errors (CSP violations included). */
  foreign: string[];
  errors: string[];
}

/** Chromium with a fresh profile; closed, then its profile removed, when the test ends. */
async function launchChromium(t: { after(fn: () => Promise<void>): void }): Promise<BrowserContext> {
  const profile = mkdtempSync(join(tmpdir(), 'rotor-chromium-'));
  let browser: BrowserContext | null = null;
  // One hook, so the profile goes only after the browser stopped writing into it.
  t.after(async () => {
    try {
      if (browser !== null) await withDeadline(browser.close(), 30_000, 'Chromium to close');
    } finally {
      rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    }
  });
  // Playwright's own launch timeout: on expiry it kills the browser it started.
  browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
  return browser;
}

async function openTab(browser: BrowserContext, url: string, origin: string): Promise<Tab> {
  const page = await browser.newPage();
  page.setDefaultTimeout(WAIT_MS);
  const tab: Tab = { page, foreign: [], errors: [] };
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(`${origin}/`) && !u.startsWith(origin.replace(/^http/, 'ws')) && !u.startsWith('data:')) tab.foreign.push(u);
  });
  page.on('pageerror', (err) => tab.errors.push(`pageerror: ${err.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') tab.errors.push(`console: ${m.text()}`);
  });
  await page.goto(url);
  return tab;
}

test('demo page: two tabs exchange a message; a backend publish reaches both; nothing outside the server is requested', { timeout: 180_000 }, async (t) => {
  const rotor = await startRotor(t, { args: ['start', '--port', '0'], cwd: tempDir(t) });
  const banner = parseDevBanner(rotor.stdout);

  const browser = await launchChromium(t);

  const origin = rotor.httpUrl;
  const a = await openTab(browser, `${origin}/`, origin);
  const b = await openTab(browser, `${origin}/`, origin);

  for (const tab of [a, b]) {
    await tab.page.locator('#state', { hasText: /^connected$/ }).waitFor();
    await tab.page.locator('#text').waitFor({ state: 'visible' });
    assert.equal(await tab.page.locator('#login').isVisible(), false, 'no token form in the development configuration');
  }
  // Both tabs are in the room: presence counts two clients, in each tab.
  await b.page.locator('#presence', { hasText: '2 online' }).waitFor();
  // A sees B join (once: its own join is not announced to itself); B joined after A, so sees none.
  await a.page.locator('#log li.event', { hasText: 'someone joined' }).waitFor();
  assert.equal(await b.page.locator('#log li.event').count(), 0);

  const nameA = (await a.page.locator('#me').textContent()) ?? '';
  const nameB = (await b.page.locator('#me').textContent()) ?? '';
  assert.match(nameA, /^\w+ \d{2}$/);
  assert.notEqual(nameA, '');

  const text = `hello from tab A ${Date.now()}`;
  await a.page.locator('#text').fill(text);
  await a.page.locator('#text').press('Enter');
  for (const tab of [a, b]) {
    const msg = tab.page.locator('#log li.msg', { hasText: text });
    await msg.waitFor();
    assert.equal(await msg.locator('.name').textContent(), nameA);
  }
  assert.equal(await a.page.locator('#text').inputValue(), '', 'the input is cleared once sent');

  const reply = `and back from tab B (${nameB})`;
  await b.page.locator('#text').fill(reply);
  await b.page.locator('#send button').click();
  await a.page.locator('#log li.msg', { hasText: reply }).waitFor();

  // What the banner tells a new user to run shows up in the open tabs.
  const res = await fetch(`${origin}/api/publish`, {
    method: 'POST',
    headers: { 'X-API-Key': banner.apiKey },
    body: JSON.stringify({ channel: 'chat:lobby', data: { text: '<b>from the backend</b>' } }),
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(res.status, 200);
  for (const tab of [a, b]) {
    const msg = tab.page.locator('#log li.msg', { hasText: '<b>from the backend</b>' });
    await msg.waitFor();
    assert.equal(await msg.locator('.name').textContent(), 'server');
    assert.equal(await msg.locator('b').count(), 0, 'received text is never parsed as HTML');
  }

  // A third tab opened later sees the conversation from history, once each, in order.
  const c = await openTab(browser, `${origin}/`, origin);
  await c.page.locator('#log li.msg', { hasText: '<b>from the backend</b>' }).waitFor();
  assert.deepEqual(await c.page.locator('#log li.msg .text').allTextContents(), [text, reply, '<b>from the backend</b>']);

  // Closing a tab is seen by the others as a leave.
  await b.page.close();
  await a.page.locator('#log li.event', { hasText: 'left' }).first().waitFor();
  await a.page.locator('#presence', { hasText: '2 online' }).waitFor();

  for (const [name, tab] of [['A', a], ['B', b], ['C', c]] as const) {
    assert.deepEqual(tab.foreign, [], `tab ${name} requested another origin`);
    assert.deepEqual(tab.errors, [], `tab ${name} reported errors`);
  }
  assert.equal(await rotor.stop('SIGTERM'), 0);
});

test('demo page with a real configuration: asks for a token from `rotor gentoken`, then chats as that user', { timeout: 180_000 }, async (t) => {
  // The banner's advice: `rotor genconfig`, then start with it (port 0 and this test's origin).
  const dir = tempDir(t);
  const gen = spawnRotor(t, { args: ['genconfig', '--output', 'config.json'], cwd: dir });
  await withDeadline(gen.exited, 60_000, 'genconfig');
  assert.equal(gen.exitCode, 0, gen.stderr);
  const env = { ROTOR_GRPC_API_PORT: '0', ROTOR_CLIENT_ALLOWED_ORIGINS: 'http://localhost:*' };
  const rotor = await startRotor(t, { args: ['start', '--config', 'config.json', '--port', '0'], cwd: dir, env });
  const tokens = await Promise.all(
    ['alice', 'bob'].map(async (user) => {
      const p = spawnRotor(t, { args: ['gentoken', '--user', user, '--config', 'config.json'], cwd: dir, env });
      await withDeadline(p.exited, 60_000, 'gentoken');
      assert.equal(p.exitCode, 0, p.stderr);
      return p.stdout.trim();
    }),
  );

  const browser = await launchChromium(t);

  const origin = rotor.httpUrl;
  const tabs: Tab[] = [];
  for (const token of tokens) {
    const tab = await openTab(browser, `${origin}/`, origin);
    tabs.push(tab);
    await tab.page.locator('#login').waitFor({ state: 'visible' });
    assert.equal(await tab.page.locator('#chat').isVisible(), false);
    assert.equal(await tab.page.locator('#channel').inputValue(), 'chat:lobby');
    await tab.page.locator('#token').fill(token);
    await tab.page.locator('#login button').click();
    await tab.page.locator('#state', { hasText: /^connected$/ }).waitFor();
    await tab.page.locator('#text').waitFor({ state: 'visible' });
  }
  const [alice, bob] = tabs as [Tab, Tab];
  await alice.page.locator('#log li.event', { hasText: 'bob joined' }).waitFor();

  await bob.page.locator('#text').fill('hi alice');
  await bob.page.locator('#text').press('Enter');
  await alice.page.locator('#log li.msg', { hasText: 'hi alice' }).waitFor();

  for (const tab of tabs) {
    assert.deepEqual(tab.foreign, []);
    assert.deepEqual(tab.errors, []);
  }
  assert.equal(await rotor.stop('SIGTERM'), 0);
});
