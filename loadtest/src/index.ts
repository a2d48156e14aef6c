// @rotor/loadtest public surface: the target plug-in contract, the registry, and the programmatic
// runner. Rotor targets implement TargetFactory + a driver module and call registerTarget().
export type * from './target.ts';
export { registerTarget, getTarget, listTargets } from './targets/index.ts';
export { runScenario, resolveTargets, DEFAULT_RESULTS_DIR, type ScenarioRun } from './bench.ts';
export { parseCli, parseDuration, HELP, SCENARIOS, type BenchConfig } from './cli/options.ts';
export type { Report, Ratio, AnyResult } from './report.ts';
export type { FanoutResult } from './scenarios/fanout/run.ts';
export type { IdleResult } from './scenarios/idle/run.ts';
export type { ConnectResult } from './scenarios/connect/run.ts';
export type { PublishResult } from './scenarios/publish/run.ts';
export type { SkippedRun } from './scenarios/common.ts';
export { WsClient, type WsHandlers, type WsConnectOptions } from './lib/ws-client.ts';
export { parsePayload, payloadTemplate, stampPayload, PAYLOAD_HEADER, type PayloadHeader } from './lib/payload.ts';
export { forkServer, spawnProcess, reportReady, exitWithParent, type ChildHandle } from './lib/child-server.ts';
export { loadNativeUws } from './lib/uws.ts';
