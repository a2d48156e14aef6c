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
