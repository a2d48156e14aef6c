// What `rotor cluster` prints on stdout once every process is healthy: the endpoints, where the
// logs are and, in the development configuration, the generated key and secret with a curl
// command and a sample token. Printed only here, never logged.
import { relative } from 'node:path';
import type { RotorConfig } from '@rotor/core';
import { displayHost } from '../embedded/banner.ts';
import { DEMO_CHANNEL } from '../embedded/dev-config.ts';
import type { DevSecrets } from '../embedded/dev-config.ts';
import type { ClusterEndpoints } from './supervisor.ts';

const RULE = '='.repeat(78);

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

export interface BannerInput {
  config: Readonly<RotorConfig>;
  endpoints: ClusterEndpoints;
  gateways: number;
  shards: number;
  logDir: string;
  storeDir: string;
  cwd: string;
  source: string;
  /** Development configuration: the generated secrets and a sample token. */
  dev: { secrets: DevSecrets; token: string } | null;
}

export function clusterBanner(b: BannerInput): string {
  const { config, endpoints: ep } = b;
  const host = displayHost(config.httpServer.address);
  const prefix = config.httpApi.handlerPrefix.replace(/\/+$/, '');
  const api = `http://${host}:${ep.apiPort}${prefix}`;
  const gateways = Array.from({ length: b.gateways }, (_, i) => `gateway-${i + 1}`).join(', ');
  const rel = (p: string): string => {
    const r = relative(b.cwd, p);
    return r.startsWith('..') ? p : r;
  };
  const lines = [''];
  if (b.dev !== null) {
    lines.push(
      RULE,
      '  !!  INSECURE DEVELOPMENT CONFIGURATION: for trying Rotor on this machine only  !!',
      '  Anonymous clients may connect; the key and secret below are new on every start.',
      '  For a real setup: pnpm rotor genconfig && pnpm cluster --config config.json',
      RULE,
      '',
    );
  }
  lines.push(
    `Rotor local cluster (${b.dev !== null ? 'development configuration' : b.source}): ${b.gateways} gateways, ${b.shards} history shards, 1 api, nats-server`,
    `  WebSocket      ws://${host}:${ep.httpPort}/connection/websocket   (${gateways} share the port)`,
    `  HTTP API       ${api}/<method>`,
    `  gRPC API       ${ep.grpcPort === null ? 'off (grpc_api.enabled)' : `${displayHost(config.grpcApi.address)}:${ep.grpcPort}`}`,
    `  NATS           ${ep.natsUrl}   (JetStream store ${rel(b.storeDir)}, emptied on every start)`,
    `  Logs           ${rel(b.logDir)}/<process>.log   (and below, prefixed)`,
    `  Processes      ${Object.entries(ep.pids)
      .map(([name, pid]) => `${name}=${pid}`)
      .join(' ')}`,
  );
  const origin = `http://${host}:${ep.httpPort}`;
  if (config.httpStream.enabled) lines.push(`  HTTP-stream    ${origin}/connection/http_stream   (commands: ${origin}/emulation, routed to the stream's gateway)`);
  if (config.sse.enabled) lines.push(`  SSE            ${origin}/connection/sse   (commands: ${origin}/emulation, routed to the stream's gateway)`);
  const uni = [
    config.uniWebsocket.enabled ? `ws://${host}:${ep.httpPort}/connection/uni_websocket` : '',
    config.uniHttpStream.enabled ? `${origin}/connection/uni_http_stream` : '',
    config.uniSse.enabled ? `${origin}/connection/uni_sse` : '',
  ].filter((x) => x !== '');
  if (uni.length > 0) lines.push(`  Server-push    ${uni.join('  ')}`);
  if (b.dev !== null) {
    const { secrets, token } = b.dev;
    const body = JSON.stringify({ channel: DEMO_CHANNEL, data: { text: 'hello from curl' } });
    lines.push(
      `  API key        ${secrets.apiKey}   (HTTP X-API-Key and gRPC "authorization: apikey <key>")`,
      `  HMAC secret    ${secrets.hmacSecret}   (client.token.hmac_secret_key)`,
      '',
      '  Publish:',
      `    curl -H ${shellQuote(`X-API-Key: ${secrets.apiKey}`)} -d ${shellQuote(body)} ${api}/publish`,
      '  A connection token (user "demo", valid 24 h):',
      `    ${token}`,
    );
  } else if (config.httpApi.key === '' && !config.httpApi.insecure) {
    lines.push('  NOTE: no http_api.key is configured: every HTTP API call is refused.');
  }
  lines.push('', '  A process that dies is restarted; Ctrl-C stops the cluster (gateways drain first).', '', 'cluster ready', '');
  return lines.join('\n');
}
