import { test } from 'node:test';
import assert from 'node:assert/strict';
import { originChecker } from './origin.ts';

test('requests without Origin are always allowed', () => {
  assert.equal(originChecker([])(''), true);
});

test('an empty list denies every browser origin', () => {
  assert.equal(originChecker([])('http://localhost:3000'), false);
});

test('"*" allows every origin', () => {
  assert.equal(originChecker(['*'])('https://evil.example'), true);
});

test('exact entries match case-insensitively and nothing else', () => {
  const check = originChecker(['https://App.example.com']);
  assert.equal(check('https://app.example.com'), true);
  assert.equal(check('HTTPS://APP.EXAMPLE.COM'), true);
  assert.equal(check('https://app.example.com.evil.net'), false);
  assert.equal(check('http://app.example.com'), false);
});

test('globs match subdomains and ports but are anchored', () => {
  const check = originChecker(['https://*.example.com', 'http://localhost:*']);
  assert.equal(check('https://a.example.com'), true);
  assert.equal(check('https://a.b.example.com'), true);
  assert.equal(check('https://example.com.evil.net'), false);
  assert.equal(check('http://localhost:8080'), true);
  assert.equal(check('http://localhostx'), false);
});

test('regex metacharacters in patterns are literal', () => {
  const check = originChecker(['https://a+b.example.com']);
  assert.equal(check('https://a+b.example.com'), true);
  assert.equal(check('https://aab.example.com'), false);
});
