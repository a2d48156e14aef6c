// Command-line flags → a validated BenchConfig. Pure: no I/O, so it is unit-tested directly.
import { parseArgs } from 'node:util';
import { MAX_PAYLOAD_SIZE, MIN_PAYLOAD_SIZE } from '../lib/payload.ts';
import type { ScenarioName } from '../target.ts';
import type { RateSpec } from '../scenarios/fanout/run.ts';

export const SCENARIOS: readonly ScenarioName[] = ['fanout', 'idle', 'connect', 'publish'];

export interface BenchConfig {
  scenarios: ScenarioName[];
  /** Empty: every registered target. */
  targets: string[];
  format: string;
  payloadSize: number;
  durationMs: number;
  warmupMs: number;
  // fanout
  subscribers: number;
  channels: number;
  subChannels: number;
  publishers: number;
  windows: number[];
  rates: RateSpec[];
  messages: number;
  workers: number;
  stallTimeoutMs: number;
  drainTimeoutMs: number;
  connectConcurrency: number;
  // idle
  connections: number;
  perProcess: number;
  settleMs: number;
  // connect / publish
  connects: number;
  concurrency: number;
  /** connect: generator worker threads (0: one per core). */
  connectWorkers: number;
  transports: string[];
  // output
  outDir: string | null;
  quiet: boolean;
  natsServer: string | null;
  /** Node flags for Rotor processes; null: the launch defaults (ROTOR_NODE_FLAGS). */
  rotorFlags: string[] | null;
  clusterGateways: number;
  clusterShards: number;
}

export const HELP = `Usage: pnpm bench <scenario> [options]

Scenarios (bounded in count and time; loopback targets started and stopped by the harness):
  fanout    S subscribers × C channels, P publishers, closed-loop window W: delivered msgs/s,
            publish→receive latency, server and generator CPU, server RSS, loss/dup/disorder
  idle      N idle subscribed connections: server RSS per connection
  connect   connections/s, each with its handshake (JWT for Rotor) and one acknowledged subscribe
  publish   server API publish rate and latency over HTTP and gRPC (targets with a server API)
  all       every scenario in turn, one JSON file each

Common:
  --targets LIST         comma-separated (default: every registered target: %TARGETS%)
  --format json|protobuf wire format for targets that speak several (default json)
  --size BYTES           payload size, ${MIN_PAYLOAD_SIZE}..${MAX_PAYLOAD_SIZE} (default 128)
  --duration TIME        measurement time per phase, e.g. 10s, 500ms, 1m (default 10s)
  --warmup TIME          unmeasured time before each phase (default 2s)
  --out DIR              where the JSON report goes (default loadtest/results)
  --no-json              do not write a JSON report
  --quiet                no per-second progress lines
  --nats-server PATH     nats-server binary (default: /usr/bin, /usr/local/bin, /usr/sbin)
  --rotor-flags=FLAGS    node flags of Rotor processes, space-separated, replacing the launch
                         defaults (%ROTOR_FLAGS%); empty for none. With "=", as the flags start
                         with dashes: "--rotor-flags=--cpu-prof --cpu-prof-dir=DIR"
  --cluster-gateways N   gateway processes of rotor-cluster (default 2)
  --cluster-shards N     history shards of rotor-cluster (default 2)

fanout:
  --subs N               subscribers (default 1000, at most 19000)
  --channels N           channels (default 1)
  --sub-channels K       channels per subscriber (default 1)
  --pubs N               publishers (default 4)
  --window LIST          flow-control windows, one phase each (default 32,256)
  --rate LIST            fixed-rate phases, e.g. 50%,25% or 2000: R publications/s over all
                         publishers, or P% of the best publish rate the windows' phases reached
                         (which then run first; only absolute rates skip them). The largest window
                         caps what is in flight. For latency at part load
  --messages N           per-phase cap on published messages (default 0: time only)
  --workers N            subscriber worker threads (default: cores − 1, at least 1)
  --stall-timeout TIME   end a phase when nothing is delivered this long (default 5s)
  --drain-timeout TIME   wait for in-flight messages after publishing stops (default 5s)
  --connect-concurrency N connections opened at once per worker (default 64)

idle:
  --conns N              idle connections (default 10000)
  --per-process N        connections per client process (default 10000, at most 19000)
  --settle TIME          longest wait for the server's RSS to stabilise (default 10s)

connect / publish:
  --connects N           connections to open (default 0: time only)
  --concurrency N        attempts / requests in flight (default 32)
  --connect-workers N    connect: generator worker threads sharing the attempts (default: cores)
  --transports LIST      publish API transports (default: all the target offers)

Example (the seed's run):
  pnpm bench fanout --subs 1000 --channels 1 --pubs 4 --size 128 --window 32,256 --duration 10s
`;

export class UsageError extends Error {}

/** "10s", "250ms", "1m", "1.5s" or a bare number of seconds → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new UsageError(`bad duration "${text}" (use e.g. 10s, 500ms, 1m)`);
  const v = Number(m[1]);
  const unit = m[2] ?? 's';
  return Math.round(unit === 'ms' ? v : unit === 's' ? v * 1000 : v * 60_000);
}

function int(name: string, text: string | undefined, dflt: number, min: number, max: number): number {
  if (text === undefined) return dflt;
  const v = Number(text);
  if (!Number.isInteger(v) || v < min || v > max) throw new UsageError(`--${name} must be an integer in ${min}..${max}, got "${text}"`);
  return v;
}

function list(text: string | undefined): string[] {
  return text === undefined ? [] : text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

/** "2000" (publications/s) or "50%" (of the peak of the closed-loop phases); undefined → null. */
export function parseRate(text: string | undefined): RateSpec | null {
  if (text === undefined) return null;
  const m = /^(\d+(?:\.\d+)?)(%|\/s)?$/.exec(text.trim());
  const v = m ? Number(m[1]) : Number.NaN;
  if (!m || !(v > 0)) throw new UsageError(`--rate must be a positive number of publications per second or a percentage (e.g. 2000, 50%), got "${text}"`);
  if (m[2] === '%') {
    if (v > 100) throw new UsageError(`--rate ${text}: a percentage of the peak is at most 100%`);
    return { peakFraction: v / 100 };
  }
  if (v > 10_000_000) throw new UsageError(`--rate ${text}: at most 10000000 publications per second`);
  return { perSecond: v };
}

export type Parsed = { help: true } | { help: false; config: BenchConfig };

export function parseCli(argv: readonly string[], defaultWorkers: number): Parsed {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        targets: { type: 'string' },
        format: { type: 'string' },
        size: { type: 'string' },
        duration: { type: 'string' },
        warmup: { type: 'string' },
        out: { type: 'string' },
        'no-json': { type: 'boolean' },
        quiet: { type: 'boolean' },
        'nats-server': { type: 'string' },
        'rotor-flags': { type: 'string' },
        'cluster-gateways': { type: 'string' },
        'cluster-shards': { type: 'string' },
        subs: { type: 'string' },
        channels: { type: 'string' },
        'sub-channels': { type: 'string' },
        pubs: { type: 'string' },
        window: { type: 'string' },
        rate: { type: 'string' },
        messages: { type: 'string' },
        workers: { type: 'string' },
        'stall-timeout': { type: 'string' },
        'drain-timeout': { type: 'string' },
        'connect-concurrency': { type: 'string' },
        conns: { type: 'string' },
        'per-process': { type: 'string' },
        settle: { type: 'string' },
        connects: { type: 'string' },
        concurrency: { type: 'string' },
        'connect-workers': { type: 'string' },
        transports: { type: 'string' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) return { help: true };
  if (parsed.positionals.length !== 1) throw new UsageError('give exactly one scenario: fanout, idle, connect, publish or all');
  const sc = parsed.positionals[0]!;
  let scenarios: ScenarioName[];
  if (sc === 'all') scenarios = [...SCENARIOS];
  else if ((SCENARIOS as readonly string[]).includes(sc)) scenarios = [sc as ScenarioName];
  else throw new UsageError(`unknown scenario "${sc}" (fanout, idle, connect, publish, all)`);

  const format = v.format ?? 'json';
  if (format !== 'json' && format !== 'protobuf') throw new UsageError(`--format must be json or protobuf, got "${format}"`);
  const windows = v.window === undefined ? [32, 256] : list(v.window).map((w) => int('window', w, 0, 1, 1_000_000));
  if (windows.length === 0) throw new UsageError('--window needs at least one value');
  const subscribers = int('subs', v.subs, 1000, 1, 19_000);
  const rates = v.rate === undefined ? [] : list(v.rate).map((r) => parseRate(r)!);
  if (v.rate !== undefined && rates.length === 0) throw new UsageError('--rate needs at least one value');
  const channels = int('channels', v.channels, 1, 1, 1 << 24);
  const subChannels = int('sub-channels', v['sub-channels'], 1, 1, 10_000);
  if (subChannels > channels) throw new UsageError('--sub-channels cannot exceed --channels');
  const durationMs = parseDuration(v.duration ?? '10s');
  if (durationMs <= 0) throw new UsageError('--duration must be positive');

  return {
    help: false,
    config: {
      scenarios,
      targets: list(v.targets),
      format,
      payloadSize: int('size', v.size, 128, MIN_PAYLOAD_SIZE, MAX_PAYLOAD_SIZE),
      durationMs,
      warmupMs: parseDuration(v.warmup ?? '2s'),
      subscribers,
      channels,
      subChannels,
      publishers: int('pubs', v.pubs, 4, 1, 65_535),
      windows,
      rates,
      messages: int('messages', v.messages, 0, 0, 2 ** 31 - 1),
      workers: int('workers', v.workers, defaultWorkers, 1, 64),
      stallTimeoutMs: parseDuration(v['stall-timeout'] ?? '5s'),
      drainTimeoutMs: parseDuration(v['drain-timeout'] ?? '5s'),
      connectConcurrency: int('connect-concurrency', v['connect-concurrency'], 64, 1, 10_000),
      connections: int('conns', v.conns, 10_000, 1, 1_000_000),
      perProcess: int('per-process', v['per-process'], 10_000, 1, 19_000),
      settleMs: parseDuration(v.settle ?? '10s'),
      connects: int('connects', v.connects, 0, 0, 2 ** 31 - 1),
      concurrency: int('concurrency', v.concurrency, 32, 1, 10_000),
      connectWorkers: int('connect-workers', v['connect-workers'], 0, 0, 64),
      transports: list(v.transports),
      outDir: v['no-json'] ? null : (v.out ?? null),
      quiet: v.quiet ?? false,
      natsServer: v['nats-server'] ?? null,
      rotorFlags: v['rotor-flags'] === undefined ? null : v['rotor-flags'].split(/\s+/).filter((f) => f.length > 0),
      clusterGateways: int('cluster-gateways', v['cluster-gateways'], 2, 1, 16),
      clusterShards: int('cluster-shards', v['cluster-shards'], 2, 1, 64),
    },
  };
}
