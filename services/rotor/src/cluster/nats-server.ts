// The local cluster's nats-server: where the binary is, the command line (loopback, JetStream in
// the cluster's store directory, a ports file so port 0 works), and a clean-up of a server left
// behind by a supervisor that was killed (nats-server cannot notice its parent is gone).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tcpConnect } from 'node:net';

/** NATS_SERVER_BIN, else the first nats-server in PATH or the usual install places. */
export function findNatsServer(env: Readonly<Record<string, string | undefined>>): string | null {
  const explicit = env['NATS_SERVER_BIN'];
  if (explicit !== undefined && explicit !== '') return existsSync(explicit) ? explicit : null;
  const dirs = [...(env['PATH'] ?? '').split(':').filter((d) => d !== ''), '/usr/sbin', '/usr/local/bin', '/usr/bin'];
  for (const dir of dirs) {
    const candidate = join(dir, 'nats-server');
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

/** The port of a single loopback NATS URL (`nats://127.0.0.1:4222` → 4222), else null. */
export function loopbackNatsPort(url: string): number | null {
  if (url.includes(',')) return null;
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    // Not a URL at all: the caller reports the configured value as unusable.
    return null;
  }
  if (u.protocol !== 'nats:' || !['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname) || u.username !== '' || u.password !== '') return null;
  return u.port === '' ? 4222 : Number(u.port);
}

export function natsServerArgs(port: number, storeDir: string, portsDir: string): string[] {
  // -p -1 asks the server for a free port; it reports it in the ports file.
  return ['-a', '127.0.0.1', '-p', String(port === 0 ? -1 : port), '-js', '-sd', storeDir, '--ports_file_dir', portsDir];
}

/** The client port from the server's ports file, or null while it is not written yet. */
export function readPortsFile(portsDir: string): number | null {
  if (!existsSync(portsDir)) return null;
  for (const f of readdirSync(portsDir)) {
    if (!f.endsWith('.ports')) continue;
    try {
      const parsed = JSON.parse(readFileSync(join(portsDir, f), 'utf8')) as { nats?: string[] };
      const first = parsed.nats?.[0];
      if (first !== undefined) return Number(new URL(first).port);
    } catch (err) {
      // Read while the server was writing it: try again on the next poll.
      if (!(err instanceof SyntaxError)) throw err;
    }
  }
  return null;
}

export function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = tcpConnect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => {
      sock.destroy();
      resolve(false);
    });
  });
}

/**
 * Kills the nats-server recorded in `pidFile` if it is still running on `storeDir` (left over by
 * a supervisor that was killed with SIGKILL). Returns the pid it killed, or null.
 */
export function killLeftoverServer(pidFile: string, storeDir: string): number | null {
  if (!existsSync(pidFile)) return null;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 1) return null;
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    // No such process (or no /proc): nothing to clean up.
    return null;
  }
  if (!cmdline.includes('nats-server') || !cmdline.includes(storeDir)) return null;
  try {
    process.kill(pid, 'SIGKILL');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    return null;
  }
  return pid;
}
