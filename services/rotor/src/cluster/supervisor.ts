// The local cluster supervisor behind `rotor cluster`: a nats-server with JetStream, N history
// shards, M gateways sharing one port (SO_REUSEPORT) and the api, each a separate process with
// its output prefixed on stdout and copied to <dir>/logs/<name>.log.
//
// Start: nats-server first (its store is wiped: every run starts empty), then the shards, the api
// and the first gateway together; the other gateways once the first one's port is known (port 0).
// "ready" is printed when every process has logged "rotor started" and answers /health with 200.
// Failures before that stop everything (exit 1): they are configuration problems a restart would
// only repeat.
//
// A process that dies after "ready" is reported and restarted (same ports, same shard, same store
// for nats-server), after a short pause; more than MAX_RESTARTS restarts of one process within
// RESTART_WINDOW_MS stop the cluster (exit 1). Restarting is what a Kubernetes deployment would
// do too, so recovery can be watched locally (kill -9 a gateway: its clients move to the other).
//
// Stop (Ctrl-C/SIGTERM): gateways drain first (SIGTERM, clients get 3001 and reconnect), then the
// api, then the shards, then nats-server. Every child runs in its own process group, so the
// terminal's Ctrl-C reaches only the supervisor and the order holds.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger, RotorConfig } from '@rotor/core';
import { LogSink } from './log-sink.ts';
import { ManagedProcess } from './managed-process.ts';
import type { ExitInfo, ProcessSpec } from './managed-process.ts';
import { acceptsConnections, killLeftoverServer, natsServerArgs, readPortsFile } from './nats-server.ts';

const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;
const RESTART_PAUSE_MS = 1_000;
const START_DEADLINE_MS = 90_000;
const NATS_START_DEADLINE_MS = 15_000;

export interface ClusterPlan {
  config: Readonly<RotorConfig>;
  /** Absolute path of the config file the children load, if any. */
  configFile: string | undefined;
  /** Environment of every child (ROTOR_* of the user and, in development, the dev config). */
  env: Record<string, string | undefined>;
  gateways: number;
  shards: number;
  /** Working directory (.rotor): cluster/ for nats, logs/ for the process logs. */
  dir: string;
  /** nats-server's client port (0 = a free one). */
  natsPort: number;
  natsBin: string;
  /** How to run the CLI in a child: node + its exec args (the tsx loader) + child-main.ts. */
  node: { execPath: string; execArgv: string[]; childMain: string };
  cwd: string;
}

export interface ClusterEndpoints {
  httpPort: number;
  apiPort: number;
  grpcPort: number | null;
  natsUrl: string;
  pids: Record<string, number>;
}

export class ClusterSupervisor {
  private readonly sink: LogSink;
  private readonly processes: ManagedProcess[] = [];
  private nats!: ManagedProcess;
  private natsPort = 0;
  private ready = false;
  private stopping: Promise<number> | null = null;
  private readonly fatal: Promise<string>;
  private failWith!: (reason: string) => void;
  private readonly storeDir: string;
  private readonly portsDir: string;

  constructor(
    private readonly plan: ClusterPlan,
    private readonly log: Logger,
    write: (text: string) => void,
    colour: boolean,
  ) {
    this.sink = new LogSink({ dir: join(plan.dir, 'logs'), write, colour });
    this.storeDir = join(plan.dir, 'cluster', 'nats');
    this.portsDir = join(plan.dir, 'cluster', 'ports');
    this.fatal = new Promise((resolve) => (this.failWith = resolve));
  }

  get logDir(): string {
    return join(this.plan.dir, 'logs');
  }

  get natsStoreDir(): string {
    return this.storeDir;
  }

  /** Resolves with a reason once the cluster cannot go on (a process keeps dying). */
  get failed(): Promise<string> {
    return this.fatal;
  }

  async start(signal: AbortSignal): Promise<ClusterEndpoints> {
    const pidFile = join(this.plan.dir, 'cluster', 'nats.pid');
    const leftover = killLeftoverServer(pidFile, this.storeDir);
    if (leftover !== null) this.log.warn('killed a nats-server left over by an earlier run', { pid: leftover });
    await this.refuseTakenPorts();
    rmSync(join(this.plan.dir, 'cluster'), { recursive: true, force: true });
    mkdirSync(this.storeDir, { recursive: true });
    mkdirSync(this.portsDir, { recursive: true });

    const startFailure = new Promise<never>((_, reject) => {
      void this.fatal.then((reason) => reject(new Error(reason)));
      signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
    });
    startFailure.catch(() => undefined);
    const race = <T>(p: Promise<T>): Promise<T> => Promise.race([p, startFailure]);

    // nats-server
    this.nats = this.add({
      name: 'nats',
      command: this.plan.natsBin,
      args: natsServerArgs(this.plan.natsPort, this.storeDir, this.portsDir),
      env: { PATH: this.plan.env['PATH'] },
      cwd: this.plan.cwd,
      stdinGuard: false,
    });
    this.nats.start();
    writeFileSync(pidFile, `${this.nats.pid ?? ''}\n`);
    this.natsPort = await race(this.waitForNats());
    // Restarts reuse the port (clients reconnect to the same URL).
    this.nats.spec = { ...this.nats.spec, args: natsServerArgs(this.natsPort, this.storeDir, this.portsDir) };
    const natsUrl = `nats://127.0.0.1:${this.natsPort}`;
    this.log.info('nats-server ready', { url: natsUrl, pid: this.nats.pid, store: this.storeDir });

    const c = this.plan.config;
    const base: Record<string, string | undefined> = {
      ...this.plan.env,
      ROTOR_NATS_URL: natsUrl,
      ROTOR_HISTORY_SHARDS: String(this.plan.shards),
      ROTOR_HISTORY_HTTP_PORT: '0',
      // The supervisor's readiness checks need /health on every role.
      ROTOR_HEALTH_ENABLED: 'true',
    };
    const shards = Array.from({ length: this.plan.shards }, (_, k) => this.role(`history-${k}`, ['history', '--shard', String(k)], base));
    const api = this.role('api', ['api'], base);
    const gateways = Array.from({ length: this.plan.gateways }, (_, i) => this.role(`gateway-${i + 1}`, ['gateway'], base));
    const [first, ...others] = gateways as [ManagedProcess, ...ManagedProcess[]];

    for (const p of [...shards, api, first]) p.start();
    const fixedPort = c.httpServer.port !== 0;
    if (fixedPort) for (const p of others) p.start();
    const firstUp = await race(this.whenHealthy(first));
    const httpPort = firstUp.httpPort;
    // The whole group shares the first gateway's port, also when 0 was configured.
    for (const g of gateways) g.spec = { ...g.spec, env: { ...g.spec.env, ROTOR_HTTP_SERVER_PORT: String(httpPort) } };
    if (!fixedPort) for (const p of others) p.start();
    const [apiUp] = await race(Promise.all([this.whenHealthy(api), ...shards.map((s) => this.whenHealthy(s)), ...others.map((g) => this.whenHealthy(g))]));
    // A restarted api comes back on the same ports.
    api.spec = {
      ...api.spec,
      env: { ...api.spec.env, ROTOR_API_PORT: String(apiUp.httpPort), ...(apiUp.grpcPort === null ? {} : { ROTOR_GRPC_API_PORT: String(apiUp.grpcPort) }) },
    };
    this.ready = true;
    const pids: Record<string, number> = {};
    for (const p of this.processes) if (p.pid !== null) pids[p.name] = p.pid;
    return { httpPort, apiPort: apiUp.httpPort, grpcPort: apiUp.grpcPort, natsUrl, pids };
  }

  /**
   * Fixed ports something already answers on: another cluster's gateways would even share theirs
   * with ours (SO_REUSEPORT), splitting clients between two clusters. Refuse up front instead.
   */
  private async refuseTakenPorts(): Promise<void> {
    const c = this.plan.config;
    const ports: Array<[string, number, string]> = [
      ['nats-server', this.plan.natsPort, 'rotor.nats.url'],
      ['the gateways', c.httpServer.port, 'http_server.port'],
      ['the api', c.rotor.apiPort, 'rotor.api_port'],
      ...(c.grpcApi.enabled ? [['gRPC', c.grpcApi.port, 'grpc_api.port'] as [string, number, string]] : []),
    ];
    for (const [what, port, key] of ports) {
      if (port !== 0 && (await acceptsConnections(port))) {
        throw new Error(`port ${port} (${key}, for ${what}) is already in use — another Rotor or nats-server? Stop it, or choose another port (0 = a free one)`);
      }
    }
  }

  private add(spec: ProcessSpec): ManagedProcess {
    this.sink.add(spec.name);
    const p = new ManagedProcess(
      spec,
      (name, line) => this.sink.line(name, line),
      (proc, info) => this.onExit(proc, info),
    );
    this.processes.push(p);
    return p;
  }

  private role(name: string, args: string[], env: Record<string, string | undefined>): ManagedProcess {
    const { execPath, execArgv, childMain } = this.plan.node;
    const configArgs = this.plan.configFile === undefined ? [] : ['--config', this.plan.configFile];
    return this.add({
      name,
      command: execPath,
      args: [...execArgv, childMain, ...args, ...configArgs],
      env: { ...env, ROTOR_NODE_NAME: name },
      cwd: this.plan.cwd,
      stdinGuard: true,
    });
  }

  private async waitForNats(): Promise<number> {
    const deadline = Date.now() + NATS_START_DEADLINE_MS;
    let port = this.plan.natsPort;
    while (Date.now() < deadline) {
      if (!this.nats.running) throw new Error(`nats-server exited during start-up (see ${this.sink.fileOf('nats')})`);
      if (port === 0) port = readPortsFile(this.portsDir) ?? 0;
      if (port !== 0 && (await acceptsConnections(port))) return port;
      await delay(50);
    }
    throw new Error(`nats-server did not accept connections within ${NATS_START_DEADLINE_MS} ms (see ${this.sink.fileOf('nats')})`);
  }

  /** Waits for the process's "rotor started" line and a 200 from its /health. */
  private async whenHealthy(p: ManagedProcess): Promise<{ httpPort: number; grpcPort: number | null }> {
    const deadline = Date.now() + START_DEADLINE_MS;
    const host = this.healthHost();
    while (Date.now() < deadline) {
      if (!p.running) throw new Error(`${p.name} exited during start-up (see ${this.sink.fileOf(p.name)})`);
      const s = p.started;
      if (s !== null && typeof s['httpPort'] === 'number') {
        const httpPort = s['httpPort'];
        if (await healthOk(host, httpPort)) {
          const grpcPort = typeof s['grpcPort'] === 'number' ? s['grpcPort'] : null;
          this.log.info('process ready', { name: p.name, pid: p.pid, httpPort, ...(grpcPort === null ? {} : { grpcPort }) });
          return { httpPort, grpcPort };
        }
      }
      await delay(50);
    }
    throw new Error(`${p.name} was not healthy within ${START_DEADLINE_MS} ms (see ${this.sink.fileOf(p.name)})`);
  }

  private healthHost(): string {
    const a = this.plan.config.httpServer.address;
    return a === '' || a === '0.0.0.0' || a === '::' ? '127.0.0.1' : a.includes(':') ? `[${a}]` : a;
  }

  private onExit(p: ManagedProcess, info: ExitInfo): void {
    const how = info.signal !== null ? `signal ${info.signal}` : `code ${info.code}`;
    if (p.stopping || this.stopping !== null) {
      this.log.info('process stopped', { name: p.name, exit: how });
      return;
    }
    this.log.error('process exited unexpectedly', { name: p.name, exit: how, log: this.sink.fileOf(p.name) });
    if (!this.ready) {
      this.failWith(`${p.name} exited during start-up (${how}; see ${this.sink.fileOf(p.name)})`);
      return;
    }
    const now = Date.now();
    while (p.restartTimes.length > 0 && (p.restartTimes[0] as number) < now - RESTART_WINDOW_MS) p.restartTimes.shift();
    if (p.restartTimes.length >= MAX_RESTARTS) {
      this.failWith(`${p.name} died ${MAX_RESTARTS + 1} times within ${RESTART_WINDOW_MS / 1000} s`);
      return;
    }
    p.restartTimes.push(now);
    p.restarts++;
    setTimeout(() => {
      if (this.stopping !== null || p.running) return;
      this.log.warn('restarting process', { name: p.name, restarts: p.restarts });
      p.start();
      if (p === this.nats) writeFileSync(join(this.plan.dir, 'cluster', 'nats.pid'), `${p.pid ?? ''}\n`);
      else this.whenHealthy(p).catch((err: unknown) => this.log.error('restarted process not healthy', { name: p.name, error: (err as Error).message }));
    }, RESTART_PAUSE_MS).unref();
  }

  /** Stops everything in order; resolves with 0 when each process stopped by itself, else 1. */
  stop(): Promise<number> {
    this.stopping ??= (async () => {
      const grace = this.plan.config.shutdown.timeoutMs + 2_000;
      let clean = true;
      const group = async (names: (n: string) => boolean): Promise<void> => {
        const procs = this.processes.filter((p) => names(p.name) && p.running);
        const exits = await Promise.all(procs.map((p) => p.stop('SIGTERM', grace)));
        exits.forEach((e, i) => {
          // nats-server exits with code 1 after a SIGTERM it handled: only a SIGKILL is unclean there.
          const expectedCode = procs[i] === this.nats ? e.code === 0 || e.code === 1 : e.code === 0;
          if (e.signal === 'SIGKILL' || (e.code !== null && !expectedCode)) {
            clean = false;
            this.log.warn('process did not stop cleanly', { name: procs[i]?.name, code: e.code, signal: e.signal });
          }
        });
      };
      await group((n) => n.startsWith('gateway-'));
      await group((n) => n === 'api');
      await group((n) => n.startsWith('history-'));
      await group((n) => n === 'nats');
      rmSync(join(this.plan.dir, 'cluster', 'nats.pid'), { force: true });
      await this.sink.close();
      return clean ? 0 : 1;
    })();
    return this.stopping;
  }

  /** SIGKILL to every process (second Ctrl-C). */
  killAll(): void {
    for (const p of this.processes) {
      p.stopping = true;
      p.signal('SIGKILL');
    }
  }
}

async function healthOk(host: string, port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://${host}:${port}/health`, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch (err) {
    // Not listening yet, or a slow answer: the caller polls again until its deadline.
    if (err instanceof Error) return false;
    throw err;
  }
}
