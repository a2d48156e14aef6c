// The plug-in contract between the harness and a system it measures. A target is a server the
// harness starts (and stops) plus a client driver that speaks the server's wire protocol.
//
// Two halves, because they live in different places:
// - TargetFactory / RunningTarget live in the main thread: they start the server processes, say
//   which pids are "the server" (for CPU and RSS), and name the driver module.
// - ClientDriver lives wherever clients run: worker threads (fanout subscribers), child processes
//   (idle connections) and the main thread (publishers, connect loop). Functions cannot cross a
//   thread boundary, so a target names its driver by module URL; that module exports
//   `createDriver: CreateDriver`, and the endpoint it receives is plain data (structured-clone safe).
//
// Adding a target (e.g. Rotor embedded, Rotor cluster): write a factory and a driver module, then
// call registerTarget() (targets/index.ts). Set `subject: true` on the system under test so the report
// shows its figures as ratios to every baseline.

/** The scenarios of the harness. */
export type ScenarioName = 'fanout' | 'idle' | 'connect' | 'publish';

/** What a driver needs to reach a running target. Plain data only. */
export interface Endpoint {
  host: string;
  port: number;
  /** Target-specific extras, e.g. a JWT secret, a TCP port for publishers, a path. */
  extra: Readonly<Record<string, string | number | boolean>>;
}

export interface TargetStartOptions {
  /** Requested wire format (e.g. "json" | "protobuf"); targets with one format ignore it. */
  format: string;
  /** Payload size in bytes, for sizing server limits. */
  payloadSize: number;
  /** Largest flow-control window of the run (messages per channel in flight). */
  maxWindow: number;
  /** A private temporary directory, removed by the harness after stop(). */
  tmpDir: string;
  /** Progress/diagnostic lines for the terminal. */
  log(line: string): void;
}

export interface ServerProcess {
  /** Short role label shown in the report (e.g. "uws", "gateway-0", "nats"). */
  label: string;
  pid: number;
}

export interface RunningTarget {
  readonly endpoint: Endpoint;
  /** Every process whose CPU and memory count as the server's. */
  readonly processes: readonly ServerProcess[];
  /** file: URL of the module exporting `createDriver`. */
  readonly driverModule: string;
  /** Wire format actually spoken (e.g. "json", "protobuf", "nats-text", "socket.io"). */
  readonly format: string;
  /** The server publish API for the `publish` scenario; absent when the target has none. */
  readonly api?: PublishApi;
  /** Stops every process; resolves once they have exited. Idempotent. */
  stop(): Promise<void>;
}

export interface TargetFactory {
  readonly name: string;
  readonly description: string;
  /** True for the system under test: its figures are also reported as ratios to each baseline. */
  readonly subject: boolean;
  /** Formats the target can speak; the first is its default. */
  readonly formats: readonly string[];
  /** Scenarios the target supports (others are reported as skipped with a reason). */
  readonly scenarios: readonly ScenarioName[];
  /** A reason the target cannot run on this machine (missing binary…), or null. */
  unavailable(): string | null;
  start(opts: TargetStartOptions): Promise<RunningTarget>;
}

// ---- driver side --------------------------------------------------------------------------------

export interface DriverOptions {
  /** The wire format the running target reported. */
  format: string;
}

export type CreateDriver = (endpoint: Endpoint, options: DriverOptions) => ClientDriver;

/** Receives what a subscriber connection decodes. Called synchronously from socket events; keep it
 *  allocation-free. */
export interface MessageSink {
  /** Once per socket read, before any frame in it (the harness reads the clock here). */
  onChunk(): void;
  /** Once per protocol frame that carried publications. */
  onFrame(): void;
  /** Once per publication: its payload bytes are buf[start, end). */
  onPayload(buf: Uint8Array, start: number, end: number): void;
  /** Once, when the connection ends after it was established (error null for a clean close). */
  onClose(error: Error | null): void;
}

export interface SubscriberConn {
  /** Graceful close. */
  close(): void;
  /** Immediate close with a TCP reset (no TIME_WAIT). */
  abort(): void;
}

export interface PublisherConn {
  /** Publishes one payload (the harness's JSON string literal) into a channel. */
  publish(channel: string, payload: Buffer): void;
  /** Bytes queued locally and not yet written; the harness pauses a publisher above a limit. */
  readonly bufferedAmount: number;
  onceDrain(cb: () => void): void;
  close(): void;
}

export interface SubscribeOptions {
  localAddress?: string;
}

export interface ClientDriver {
  /** The channel name used for channel index i. */
  channelName(index: number): string;
  /** Opens a connection and subscribes it to every channel; resolves once the server confirmed all
   *  subscriptions (so the connection is counted only when it will receive). */
  subscribe(channels: readonly string[], sink: MessageSink, options?: SubscribeOptions): Promise<SubscriberConn>;
  /** Opens a publisher connection. */
  publisher(): Promise<PublisherConn>;
  /** Optional: client-side work that belongs to no single connection (e.g. signing the tokens the
   *  connections will present), done before a timed run so it stays out of the measurement. */
  prepare?(): Promise<void>;
}

// ---- server API (publish scenario) ----------------------------------------------------------------

export interface PublishApi {
  /** e.g. ["http", "grpc"]. */
  readonly transports: readonly string[];
  /** The channel name used for channel index i (same naming as the client driver). */
  channelName(index: number): string;
  open(transport: string): Promise<ApiClient>;
}

export interface ApiClient {
  /** Resolves when the server acknowledged the publication. */
  publish(channel: string, data: Buffer): Promise<void>;
  close(): Promise<void>;
}
