// Server API clients for the publish scenario: HTTP (`POST /api/publish`, keep-alive) and gRPC
// (`CentrifugoApi.Publish`, with @rotor/proto's generated codecs as (de)serializers). A reply that
// carries an API error rejects, like a transport failure.
import { Agent, request } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { api, grpcServiceDefinition } from '@rotor/proto';
import type { ApiClient } from '../../target.ts';

const DEADLINE_MS = 10_000;

export function httpApiClient(host: string, port: number, key: string): ApiClient {
  const agent = new Agent({ keepAlive: true });
  return {
    publish(channel: string, data: Buffer): Promise<void> {
      // The payload is valid JSON and goes in raw, as the API's `data` expects.
      const body = Buffer.concat([Buffer.from(`{"channel":${JSON.stringify(channel)},"data":`, 'latin1'), data, Buffer.from('}', 'latin1')]);
      return new Promise<void>((resolve, reject) => {
        const req = request(
          { host, port, path: '/api/publish', method: 'POST', agent, timeout: DEADLINE_MS, headers: { 'content-type': 'application/json', 'x-api-key': key, 'content-length': body.length } },
          (res) => {
            const parts: Buffer[] = [];
            res.on('data', (d: Buffer) => parts.push(d));
            res.on('end', () => {
              const text = Buffer.concat(parts).toString('utf8');
              if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`));
              else if (text.includes('"error"')) reject(new Error(`API error: ${text.slice(0, 200)}`));
              else resolve();
            });
            res.on('error', reject);
          },
        );
        req.on('timeout', () => req.destroy(new Error('HTTP API request timed out')));
        req.on('error', reject);
        req.end(body);
      });
    },
    close() {
      agent.destroy();
      return Promise.resolve();
    },
  };
}

const GrpcClient = grpc.makeGenericClientConstructor(grpcServiceDefinition(api.CentrifugoApiMethods) as unknown as grpc.ServiceDefinition, 'CentrifugoApi');

type Unary = (req: api.PublishRequest, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: api.PublishResponse) => void) => void;

export function grpcApiClient(host: string, port: number, key: string): ApiClient {
  const client = new GrpcClient(`${host}:${port}`, grpc.credentials.createInsecure());
  const publish = (client as unknown as Record<string, Unary>)['Publish'];
  if (!publish) throw new Error('CentrifugoApi has no Publish method');
  const md = new grpc.Metadata();
  md.set('authorization', `apikey ${key}`);
  return {
    publish(channel: string, data: Buffer): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        publish.call(client, { channel, data }, md, { deadline: Date.now() + DEADLINE_MS }, (err, res) => {
          if (err) reject(err);
          else if (res?.error) reject(new Error(`API error ${res.error.code ?? 0}: ${res.error.message ?? ''}`));
          else resolve();
        });
      });
    },
    close() {
      client.close();
      return Promise.resolve();
    },
  };
}
