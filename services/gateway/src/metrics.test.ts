import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommandKind, CommandResult, GatewayMetrics, RecoveryOutcome } from './metrics.ts';

test('raw figures appear in the exposition with fixed labels only', async () => {
  const m = new GatewayMetrics();
  m.connections[0] = 3;
  m.connections[1] = 1;
  m.messagesOut[1] = 42;
  m.command(CommandKind.subscribe, CommandResult.ok, 0.002);
  m.command(CommandKind.subscribe, CommandResult.error, 0.001);
  m.recovery(RecoveryOutcome.recovered);
  m.disconnect(3008);
  m.disconnect(4321);
  m.slowDisconnects = 1;
  const text = await m.exposition();
  assert.match(text, /rotor_gateway_connections\{format="json"\} 3/);
  assert.match(text, /rotor_gateway_connections\{format="protobuf"\} 1/);
  assert.match(text, /rotor_gateway_messages_sent_total\{format="protobuf"\} 42/);
  assert.match(text, /rotor_gateway_commands_total\{command="subscribe",result="ok"\} 1/);
  assert.match(text, /rotor_gateway_commands_total\{command="subscribe",result="error"\} 1/);
  assert.match(text, /rotor_gateway_command_duration_seconds_count\{command="subscribe"\} 2/);
  assert.match(text, /rotor_gateway_recoveries_total\{outcome="recovered"\} 1/);
  assert.match(text, /rotor_gateway_disconnects_total\{code="3008"\} 1/);
  assert.match(text, /rotor_gateway_disconnects_total\{code="other"\} 1/);
  assert.match(text, /rotor_gateway_slow_disconnects_total 1/);
});

test('counters keep their totals across scrapes', async () => {
  const m = new GatewayMetrics();
  m.topicFrames = 5;
  await m.exposition();
  m.topicFrames = 7;
  assert.match(await m.exposition(), /rotor_gateway_topic_frames_total 7/);
});

test('command latency: cumulative buckets, +Inf, sum and count per command; reset clears them', async () => {
  const m = new GatewayMetrics();
  m.command(CommandKind.publish, CommandResult.ok, 0.00005); // first bucket (≤ 0.1 ms)
  m.command(CommandKind.publish, CommandResult.ok, 0.002); // ≤ 5 ms
  m.command(CommandKind.publish, CommandResult.error, 7); // over every bound
  const text = await m.exposition();
  const line = (le: string) => new RegExp(`rotor_gateway_command_duration_seconds_bucket\\{le="${le}",command="publish"\\} (\\d+)`).exec(text)?.[1];
  assert.equal(line('0.0001'), '1');
  assert.equal(line('0.001'), '1');
  assert.equal(line('0.005'), '2');
  assert.equal(line('5'), '2');
  assert.equal(line('\\+Inf'), '3');
  assert.match(text, /rotor_gateway_command_duration_seconds_count\{command="publish"\} 3/);
  assert.match(text, /rotor_gateway_command_duration_seconds_sum\{command="publish"\} 7\.00205/);
  assert.doesNotMatch(text, /command_duration_seconds_count\{command="connect"\}/, 'commands never seen are not listed');
  assert.match(text, /# TYPE rotor_gateway_command_duration_seconds histogram/);
  m.registry.resetMetrics();
  assert.doesNotMatch(await m.exposition(), /command_duration_seconds_count/);
});
