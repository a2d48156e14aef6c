// Prometheus metrics of the server API (prom-client 15), registered in a registry the caller
// passes in so the embedded process serves one /metrics for every role. Labels take small fixed
// value sets: protocol (http, grpc, internal), method (the API method names), result ('ok' or the
// numeric API error code), reason (fixed words). Never a channel or user.
import { Counter, Histogram, Registry } from 'prom-client';

export type ApiProtocol = 'http' | 'grpc' | 'internal';

/** Why a request was refused before reaching a method. */
export type RejectReason = 'unauthorized' | 'method_not_allowed' | 'not_found' | 'bad_body' | 'too_large';

const REQUESTS = 'rotor_api_requests_total';
const DURATION = 'rotor_api_request_duration_seconds';
const REJECTED = 'rotor_api_rejected_total';

export class ApiMetrics {
  readonly registry: Registry;
  readonly #requests: Counter<'protocol' | 'method' | 'result'>;
  readonly #duration: Histogram<'protocol' | 'method'>;
  readonly #rejected: Counter<'protocol' | 'reason'>;

  constructor(registry?: Registry) {
    this.registry = registry ?? new Registry();
    // Several services may share one registry (tests, an api role inside the embedded process):
    // reuse what is registered under our names instead of failing on the second registration.
    this.#requests =
      (this.registry.getSingleMetric(REQUESTS) as Counter<'protocol' | 'method' | 'result'> | undefined) ??
      new Counter({
        name: REQUESTS,
        help: 'Server API calls by protocol, method and result (ok or the API error code).',
        labelNames: ['protocol', 'method', 'result'],
        registers: [this.registry],
      });
    this.#duration =
      (this.registry.getSingleMetric(DURATION) as Histogram<'protocol' | 'method'> | undefined) ??
      new Histogram({
        name: DURATION,
        help: 'Server API call latency in seconds by protocol and method.',
        labelNames: ['protocol', 'method'],
        buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
        registers: [this.registry],
      });
    this.#rejected =
      (this.registry.getSingleMetric(REJECTED) as Counter<'protocol' | 'reason'> | undefined) ??
      new Counter({
        name: REJECTED,
        help: 'Server API requests refused before reaching a method (auth, HTTP method, body problems).',
        labelNames: ['protocol', 'reason'],
        registers: [this.registry],
      });
  }

  /** Records one call; `code` is 0 for success, else the API error code. */
  observe(protocol: ApiProtocol, method: string, code: number, seconds: number): void {
    this.#requests.inc({ protocol, method, result: code === 0 ? 'ok' : String(code) });
    this.#duration.observe({ protocol, method }, seconds);
  }

  rejected(protocol: ApiProtocol, reason: RejectReason): void {
    this.#rejected.inc({ protocol, reason });
  }
}
