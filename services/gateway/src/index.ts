// Public surface of @rotor/gateway.
export { startGateway, drainOnSignals, GATEWAY_VERSION } from './gateway.ts';
export type { Gateway, GatewayOptions, HealthReporter } from './gateway.ts';
export type { Log, GatewayAdapters } from './context.ts';
export type { GatewayCodec, DecodedFrame } from './codec.ts';
export { Format } from './hub.ts';
export type { FlushMode, RepairOptions } from './hub.ts';
export { GatewayMetrics } from './metrics.ts';
export { WEBSOCKET_PATH } from './server.ts';
export { loadUws } from './uws.ts';
export type { TemplatedApp, HttpRequest, HttpResponse } from './uws.ts';
export type { EmulationRelay } from './emulation/emulation.ts';
export { HTTP_STREAM_PATH, SSE_PATH, EMULATION_PATH, decodeEmulationRequest } from './emulation/routes.ts';
export type { SessionSocket } from './transport.ts';
