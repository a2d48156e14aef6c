// Benchmark: ChannelRules.resolve on the cached path (a channel seen before, the common case for
// every command after the first subscribe) and the uncompiled path (a new name each time).
// Run: `node --import tsx packages/core/src/channels.bench.ts [--smoke]`.
import { ChannelRules } from './channels.ts';
import { defaultConfig } from './config/load.ts';
import type { ChannelConfig, NamespaceOptions } from './config/types.ts';

const smoke = process.argv.includes('--smoke');
const N = smoke ? 50_000 : 1_000_000;

const base: NamespaceOptions = {
  ...defaultConfig().channel.withoutNamespace,
  presence: true,
  historySize: 100,
  historyTtlMs: 300_000,
  forceRecovery: true,
  allowSubscribeForClient: true,
  allowPresenceForSubscriber: true,
  allowHistoryForSubscriber: true,
  allowUserLimitedChannels: true,
};

const config: ChannelConfig = {
  proxy: defaultConfig().channel.proxy,
  withoutNamespace: base,
  namespaces: Array.from({ length: 20 }, (_, i) => ({ ...base, name: `ns${i}`, channelRegex: i === 3 ? '^[a-z0-9_-]+$' : '' })),
  maxLength: 255,
  historyMetaTtlMs: 720 * 3_600_000,
  namespaceBoundary: ':',
  userBoundary: '#',
  userSeparator: ',',
  privatePrefix: '$',
};

function time(label: string, ops: number, fn: () => number): void {
  const start = process.hrtime.bigint();
  const sink = fn();
  const ns = Number(process.hrtime.bigint() - start);
  console.log(`${label.padEnd(48)} ${(ns / ops).toFixed(1).padStart(8)} ns/op  (checksum ${sink})`);
}

const rules = new ChannelRules(config);
const hot = Array.from({ length: 1000 }, (_, i) => `ns${i % 20}:room-${i}`);
time(`resolve, 1000 hot channels, ${N} calls`, N, () => {
  let ok = 0;
  for (let i = 0; i < N; i++) if (rules.resolve(hot[i % 1000] as string).ok) ok++;
  return ok;
});

const fresh = new ChannelRules(config, { cacheSize: 10_000 });
time(`resolve, every name new (cache churn), ${N / 10} calls`, N / 10, () => {
  let ok = 0;
  for (let i = 0; i < N / 10; i++) if (fresh.resolve(`ns${i % 20}:dialog#${i},${i + 1}`).ok) ok++;
  return ok;
});
