// Prometheus metrics of one gateway (prom-client 15). Hot paths only bump plain number fields of
// `GatewayMetrics`; prom-client reads them when /metrics is scraped, so fan-out pays no label
// lookups. Labels have small fixed value sets: never a channel, user or client id.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Metric } from 'prom-client';

/** Command kinds as metric label values, indexed by `CommandKind`. */
export const commandNames = [
  'connect',
  'subscribe',
  'unsubscribe',
  'publish',
  'presence',
  'presence_stats',
  'history',
  'rpc',
  'send',
  'refresh',
  'sub_refresh',
  'pong',
  'unknown',
] as const;
export type CommandName = (typeof commandNames)[number];

export const CommandKind = {
  connect: 0,
  subscribe: 1,
  unsubscribe: 2,
  publish: 3,
  presence: 4,
  presenceStats: 5,
  history: 6,
  rpc: 7,
  send: 8,
  refresh: 9,
  subRefresh: 10,
  pong: 11,
  unknown: 12,
} as const;
export type CommandKind = (typeof CommandKind)[keyof typeof CommandKind];

/** How a command ended: a result reply, an error reply, or a disconnect. */
export const CommandResult = { ok: 0, error: 1, disconnect: 2 } as const;
export type CommandResult = (typeof CommandResult)[keyof typeof CommandResult];
const resultNames = ['ok', 'error', 'disconnect'] as const;

export const RecoveryOutcome = { recovered: 0, notRecovered: 1, rejected: 2 } as const;
export type RecoveryOutcome = (typeof RecoveryOutcome)[keyof typeof RecoveryOutcome];
const recoveryNames = ['recovered', 'not_recovered', 'rejected'] as const;

/** How a stream repair ended (a position check that found nothing missing is not counted). */
export const RepairOutcome = { repaired: 0, trimmed: 1, epoch: 2, failed: 3, overflow: 4 } as const;
export type RepairOutcome = (typeof RepairOutcome)[keyof typeof RepairOutcome];
const repairNames = ['repaired', 'trimmed', 'epoch', 'failed', 'overflow'] as const;

const formatNames = ['json', 'protobuf'] as const;

const LATENCY_BUCKETS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5];

/**
 * rotor_gateway_command_duration_seconds: a Prometheus histogram by command, kept in one typed
 * array and turned into prom-client's values only when scraped. prom-client's own Histogram
 * validates and hashes the label set on every observe, which a profile of client publishes at
 * ≈ 100 k/s showed at ≈ 5 % of the gateway's CPU; here an observation is a bucket search over
 * ten bounds and two additions.
 */
interface LatencyValue {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

class CommandLatency {
  readonly name = 'rotor_gateway_command_duration_seconds';
  readonly help = 'Time from decoding a command to its reply';
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  /** Per command kind: a count per bucket (the last one is +Inf), then the sum. */
  private readonly cells = new Float64Array(commandNames.length * (LATENCY_BUCKETS.length + 2));

  observe(kind: CommandKind, seconds: number): void {
    if (!(seconds >= 0)) return; // NaN or negative: a clock problem, not a latency
    const stride = LATENCY_BUCKETS.length + 2;
    let b = 0;
    while (b < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[b]!) b++;
    const base = kind * stride;
    this.cells[base + b]! += 1;
    this.cells[base + stride - 1]! += seconds;
  }

  /** What prom-client's registry reads from a metric at scrape time (its own Histogram's shape). */
  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: LatencyValue[] }> {
    const stride = LATENCY_BUCKETS.length + 2;
    const values: LatencyValue[] = [];
    for (let k = 0; k < commandNames.length; k++) {
      const base = k * stride;
      let count = 0;
      for (let b = 0; b <= LATENCY_BUCKETS.length; b++) count += this.cells[base + b]!;
      if (count === 0) continue;
      const command = commandNames[k]!;
      let acc = 0;
      for (let b = 0; b < LATENCY_BUCKETS.length; b++) {
        acc += this.cells[base + b]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { le: LATENCY_BUCKETS[b]!, command }, value: acc });
      }
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', command }, value: count });
      values.push({ metricName: `${this.name}_sum`, labels: { command }, value: this.cells[base + stride - 1]! });
      values.push({ metricName: `${this.name}_count`, labels: { command }, value: count });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  reset(): void {
    this.cells.fill(0);
  }
}

/** Raw figures, updated in place on hot paths. Index 0 = JSON, 1 = protobuf. */
export class GatewayMetrics {
  readonly registry: Registry;
  connections = [0, 0];
  subscriptions = 0;
  channels = 0;
  messagesIn = [0, 0];
  bytesIn = [0, 0];
  /** Messages delivered to clients (a topic frame counts once per receiving socket and message). */
  messagesOut = [0, 0];
  bytesOut = [0, 0];
  /** Frames handed to uWebSockets' topic publish (one per channel, format and flush). */
  topicFrames = 0;
  slowDisconnects = 0;
  /** Channel-wide outbound buffer checks run after flushes (hub slowCheckBytes). */
  slowChecks = 0;
  readonly disconnects = new Map<number, number>();
  readonly commands: number[][] = commandNames.map(() => resultNames.map(() => 0));
  readonly recoveries = [0, 0, 0];
  stalePublications = 0;
  insufficientState = 0;
  /** Stream repairs by outcome (RepairOutcome). */
  readonly repairs = [0, 0, 0, 0, 0];
  /** Publications a repair read supplied that the live stream had lost. */
  repairedPublications = 0;
  /** Publications that were in flight when a channel took its position from a history read. */
  latePublications = 0;
  positionChecks = 0;
  private readonly latency = new CommandLatency();
  private readonly proxyRequests: Counter<'type' | 'result'>;
  private readonly proxyDuration: Histogram<'type'>;

  constructor(registry?: Registry, defaultMetrics = false) {
    this.registry = registry ?? new Registry();
    const reg = [this.registry];
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry });
    // prom-client calls collect() at scrape time; each reads the raw figures kept on this object.
    const gauge = (name: string, help: string, read: (g: Gauge<string>) => void, labelNames: string[] = []): void => {
      const g: Gauge<string> = new Gauge({ name, help, labelNames, registers: reg, collect: () => read(g) });
    };
    const counter = (name: string, help: string, read: (c: Counter<string>) => void, labelNames: string[] = []): void => {
      const c: Counter<string> = new Counter({
        name,
        help,
        labelNames,
        registers: reg,
        collect: () => {
          c.reset();
          read(c);
        },
      });
    };
    gauge(
      'rotor_gateway_connections',
      'Open client connections by protocol format',
      (g) => {
        for (let f = 0; f < 2; f++) g.set({ format: formatNames[f]! }, this.connections[f] ?? 0);
      },
      ['format'],
    );
    gauge('rotor_gateway_subscriptions', 'Client subscriptions on this node', (g) => g.set(this.subscriptions));
    gauge('rotor_gateway_channels', 'Channels with local subscribers on this node', (g) => g.set(this.channels));
    const perFormat = (name: string, help: string, values: () => number[]): void => {
      counter(
        name,
        help,
        (c) => {
          const v = values();
          for (let f = 0; f < 2; f++) c.inc({ format: formatNames[f]! }, v[f] ?? 0);
        },
        ['format'],
      );
    };
    perFormat('rotor_gateway_messages_received_total', 'Protocol messages received from clients', () => this.messagesIn);
    perFormat('rotor_gateway_bytes_received_total', 'WebSocket payload bytes received from clients', () => this.bytesIn);
    perFormat('rotor_gateway_messages_sent_total', 'Protocol messages sent to clients', () => this.messagesOut);
    perFormat('rotor_gateway_bytes_sent_total', 'WebSocket payload bytes sent to clients', () => this.bytesOut);
    counter('rotor_gateway_topic_frames_total', 'Coalesced frames handed to uWebSockets topic publish', (c) => c.inc(this.topicFrames));
    counter(
      'rotor_gateway_commands_total',
      'Client commands by type and result',
      (c) => {
        this.commands.forEach((row, k) =>
          row.forEach((n, r) => {
            if (n > 0) c.inc({ command: commandNames[k]!, result: resultNames[r]! }, n);
          }),
        );
      },
      ['command', 'result'],
    );
    counter(
      'rotor_gateway_slow_disconnects_total',
      'Connections closed with 3008 slow (outbound buffer over client.queue_max_size)',
      (c) => c.inc(this.slowDisconnects),
    );
    counter(
      'rotor_gateway_disconnects_total',
      'Connections closed by the server, by disconnect code',
      (c) => {
        for (const [code, n] of this.disconnects) c.inc({ code: code === 0 ? 'other' : String(code) }, n);
      },
      ['code'],
    );
    counter(
      'rotor_gateway_recoveries_total',
      'Subscribe recovery attempts by outcome',
      (c) => {
        for (let o = 0; o < 3; o++) c.inc({ outcome: recoveryNames[o]! }, this.recoveries[o] ?? 0);
      },
      ['outcome'],
    );
    counter(
      'rotor_gateway_stale_publications_total',
      'Live publications dropped as duplicates (offset not above the last delivered one)',
      (c) => c.inc(this.stalePublications),
    );
    counter(
      'rotor_gateway_insufficient_state_total',
      'Positioned subscriptions ended because their position could not be continued (gap not repairable, new epoch)',
      (c) => c.inc(this.insufficientState),
    );
    counter(
      'rotor_gateway_stream_repairs_total',
      'Gaps in a live stream (or a lag found by the position check) by how the repair from history ended',
      (c) => {
        for (let o = 0; o < repairNames.length; o++) c.inc({ outcome: repairNames[o]! }, this.repairs[o] ?? 0);
      },
      ['outcome'],
    );
    counter(
      'rotor_gateway_repaired_publications_total',
      'Publications lost on the way to this node and delivered from history instead',
      (c) => c.inc(this.repairedPublications),
    );
    counter(
      'rotor_gateway_late_publications_total',
      'Publications in flight when a channel took its position from a history read, sent to non-positioned subscribers',
      (c) => c.inc(this.latePublications),
    );
    counter('rotor_gateway_position_checks_total', 'Periodic position checks of idle positioned channels', (c) => c.inc(this.positionChecks));
    // The registry only calls get() and reset() (and reads name, help, type): prom-client's typings
    // ask for its own Metric class.
    this.registry.registerMetric(this.latency as unknown as Metric);
    // Proxy calls wait on the network: prom-client's own metrics cost nothing that matters here.
    this.proxyRequests = new Counter({
      name: 'rotor_gateway_proxy_requests_total',
      help: 'Calls to the application backend proxies by type (connect, refresh, subscribe, publish, sub_refresh, rpc) and result',
      labelNames: ['type', 'result'],
      registers: reg,
    });
    this.proxyDuration = new Histogram({
      name: 'rotor_gateway_proxy_request_duration_seconds',
      help: 'Duration of calls to the application backend proxies by type',
      labelNames: ['type'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: reg,
    });
  }

  /** A proxy call ended (ProxyObserver). */
  proxyCall(type: string, result: string, seconds: number): void {
    this.proxyRequests.inc({ type, result });
    this.proxyDuration.observe({ type }, seconds);
  }

  command(kind: CommandKind, result: CommandResult, seconds: number): void {
    const row = this.commands[kind];
    if (row !== undefined) row[result] = (row[result] ?? 0) + 1;
    this.latency.observe(kind, seconds);
  }

  disconnect(code: number): void {
    // Application-defined codes (server API disconnect) collapse into one label value.
    const key = code >= 3000 && code < 4000 ? code : 0;
    this.disconnects.set(key, (this.disconnects.get(key) ?? 0) + 1);
  }

  repair(outcome: RepairOutcome): void {
    this.repairs[outcome] = (this.repairs[outcome] ?? 0) + 1;
  }

  recovery(outcome: RecoveryOutcome): void {
    this.recoveries[outcome] = (this.recoveries[outcome] ?? 0) + 1;
  }

  /** Prometheus text exposition of every metric in the registry. */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
