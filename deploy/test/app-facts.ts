// Facts about the application that the deployment files depend on, in one place.
import type { RotorConfig } from '../../packages/core/src/index.ts';

/** Port the history role serves /health and /metrics on when no config key says otherwise. */
export const assumedHistoryHttpPort = 8080;

/**
 * The history role's HTTP port: its config key (rotor.history.http_port) once one exists,
 * otherwise the port this repository assumes (deploy/README.md and helm/rotor/README.md say so).
 */
export function historyHttpPort(config: Readonly<RotorConfig>): number {
  const fromConfig = (config.rotor.history as unknown as Record<string, unknown>)['httpPort'];
  return typeof fromConfig === 'number' ? fromConfig : assumedHistoryHttpPort;
}
