// What `rotor start` prints on stdout once it listens: where everything is and, in the development
// configuration, the loud warning plus the generated key, secret, a curl command and a token that
// a new user pastes to try it. Printed only here, never logged (the logger redacts such fields).
import type { RotorConfig } from '@rotor/core';
import type { DevSecrets } from './dev-config.ts';
import { DEMO_CHANNEL } from './dev-config.ts';

export interface Endpoints {
  httpPort: number;
  grpcPort: number | null;
}

/** The host name to show in URLs for a listen address. */
export function displayHost(address: string): string {
  if (address === '' || address === '0.0.0.0' || address === '::' || address === '127.0.0.1' || address === '::1') return 'localhost';
  return address.includes(':') ? `[${address}]` : address;
}

function urls(config: RotorConfig, ep: Endpoints): { http: string; ws: string; api: string; grpc: string | null } {
  const host = displayHost(config.httpServer.address);
  const http = `http://${host}:${ep.httpPort}`;
  const prefix = config.httpApi.handlerPrefix.replace(/\/+$/, '');
  return {
    http,
    ws: `ws://${host}:${ep.httpPort}/connection/websocket`,
    api: `${http}${prefix}`,
    grpc: ep.grpcPort === null ? null : `${displayHost(config.grpcApi.address)}:${ep.grpcPort}`,
  };
}

/** Single-quoted for a POSIX shell. */
function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

const RULE = '='.repeat(78);

/** The development-mode text: warning, endpoints, secrets, ready-to-paste commands. */
export function devBanner(config: RotorConfig, ep: Endpoints, secrets: DevSecrets, sampleToken: string): string {
  const u = urls(config, ep);
  const body = JSON.stringify({ channel: DEMO_CHANNEL, data: { text: 'hello from curl' } });
  return [
    '',
    RULE,
    '  !!  INSECURE DEVELOPMENT CONFIGURATION: for trying Rotor on this machine only  !!',
    '',
    '  No --config and no ROTOR_* variables were given, so Rotor runs a throwaway',
    '  configuration: anonymous clients may connect, subscribe to channels without',
    `  namespace and to "chat:" channels, and publish in "chat:" channels. The key and`,
    '  secret below are new on every start. For a real setup:',
    '    pnpm rotor genconfig && pnpm start --config config.json',
    RULE,
    '',
    `  Demo chat      ${u.http}/   (open it in two tabs)`,
    `  WebSocket      ${u.ws}`,
    `  HTTP API       ${u.api}/<method>`,
    `  gRPC API       ${u.grpc ?? 'off (rotor start --dev with ROTOR_GRPC_API_ENABLED=true turns it on)'}`,
    `  API key        ${secrets.apiKey}`,
    `  HMAC secret    ${secrets.hmacSecret}   (client.token.hmac_secret_key)`,
    '',
    '  Publish into the demo chat:',
    `    curl -H ${shellQuote(`X-API-Key: ${secrets.apiKey}`)} -d ${shellQuote(body)} ${u.api}/publish`,
    '',
    '  A connection token (user "demo", valid 24 h), for clients that send one:',
    `    ${sampleToken}`,
    '  More tokens:',
    `    ROTOR_CLIENT_TOKEN_HMAC_SECRET_KEY=${shellQuote(secrets.hmacSecret)} pnpm rotor gentoken --user alice`,
    '',
    '  Ctrl-C stops the server.',
    '',
  ].join('\n');
}

/** The text for a configured start: endpoints only, no secret. */
export function configuredSummary(config: RotorConfig, ep: Endpoints, source: string): string {
  const u = urls(config, ep);
  const lines = [
    '',
    `Rotor (embedded mode, ${source})`,
    `  Demo chat      ${u.http}/`,
    `  WebSocket      ${u.ws}`,
    `  HTTP API       ${u.api}/<method>${config.httpApi.insecure ? '   (INSECURE: no API key checked)' : config.httpApi.key === '' ? '   (no http_api.key: every call is refused)' : ''}`,
    `  gRPC API       ${u.grpc ?? 'off (grpc_api.enabled)'}`,
  ];
  if (config.httpStream.enabled) lines.push(`  HTTP-stream    ${u.http}/connection/http_stream   (commands: ${u.http}/emulation)`);
  if (config.sse.enabled) lines.push(`  SSE            ${u.http}/connection/sse   (commands: ${u.http}/emulation)`);
  const uni = [
    config.uniWebsocket.enabled ? `${u.ws.replace('/connection/websocket', '/connection/uni_websocket')}` : '',
    config.uniHttpStream.enabled ? `${u.http}/connection/uni_http_stream` : '',
    config.uniSse.enabled ? `${u.http}/connection/uni_sse` : '',
  ].filter((x) => x !== '');
  if (uni.length > 0) lines.push(`  Server-push    ${uni.join('  ')}`);
  if (config.client.insecure) lines.push('  WARNING: client.insecure is on: no token checks, every permission granted');
  const t = config.client.token;
  const canVerify = t.hmacSecretKey !== '' || t.rsaPublicKey !== '' || t.ecdsaPublicKey !== '' || t.jwksPublicEndpoint !== '';
  if (!canVerify && !config.client.allowAnonymousConnectWithoutToken && !config.client.insecure) {
    lines.push('  NOTE: no token key is configured and anonymous connections are off: no client can connect.');
    lines.push('        Set client.token.hmac_secret_key, or run `rotor start --dev` for the development setup.');
  }
  lines.push('  Ctrl-C stops the server.', '');
  return lines.join('\n');
}
