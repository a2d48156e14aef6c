// Start-up of a role that needs NATS before it can serve: a stand-in probe server holds the
// role's port first (503 "waiting for nats" on every path), NATS is connected with retries, and
// the caller's real server then binds the same port once the stand-in has closed (uWS refuses
// a second listener on one port inside one process, SO_REUSEPORT or not; across processes it is
// allowed). With port 0 the stand-in's port becomes the role's port, so it is known — and
// logged — from the first second.
import type { Logger, RotorConfig } from '@rotor/core';
import { openNatsSession } from './nats-adapters.ts';
import type { NatsSession } from './nats-adapters.ts';
import { startProbeServer } from './probe-server.ts';
import type { ProbeServer } from './probe-server.ts';

export interface StandInStart {
  session: NatsSession;
  /** The port to serve on (the configured one, or the stand-in's when 0 was configured). */
  port: number;
  /** Closes the stand-in; call right before the real server listens. */
  release(): void;
}

export async function connectBehindStandIn(
  config: Readonly<RotorConfig>,
  log: Logger,
  role: string,
  listen: { address: string; port: number },
  signal: AbortSignal,
): Promise<StandInStart> {
  const standIn = await holdPort(listen.address, listen.port);
  log.info('waiting for nats', { port: standIn.port, nats: config.rotor.nats.url });
  try {
    const session = await openNatsSession(config, log, role, signal);
    return { session, port: standIn.port, release: () => standIn.close() };
  } catch (err) {
    standIn.close();
    throw err;
  }
}

function standInOn(address: string, port: number): Promise<ProbeServer> {
  return startProbeServer({ address, port, ready: () => ({ ok: false, reason: 'waiting for nats' }), unavailableElsewhere: 'waiting for nats' });
}

/**
 * The stand-in on `port`, or for port 0 on a free port bound *explicitly*: the kernel refuses to
 * bind again a port that was auto-assigned (bind to 0) while connections that port served linger
 * in TIME_WAIT — measured with uWS and with node's net alike — so a stand-in that answered a
 * probe on an auto-assigned port would keep the real server off it for a minute. An explicitly
 * bound port does not have that problem.
 */
async function holdPort(address: string, port: number): Promise<ProbeServer> {
  if (port !== 0) return standInOn(address, port);
  for (let attempt = 1; ; attempt++) {
    const probe = await standInOn(address, 0);
    const free = probe.port;
    probe.close();
    try {
      return await standInOn(address, free);
    } catch (err) {
      // Taken by someone else in between (rare): pick another.
      if (attempt >= 5) throw err;
    }
  }
}

/** A copy of `config` with one top-level section replaced (the loaded config is frozen). */
export function withSection<K extends keyof RotorConfig>(config: Readonly<RotorConfig>, key: K, value: RotorConfig[K]): RotorConfig {
  return { ...config, [key]: value } as RotorConfig;
}
