// The exporter's settings from the standard OpenTelemetry environment variables, as Centrifugo
// reads them (it has no config keys for the exporter either). Only what an OTLP/HTTP trace
// exporter needs is read; values are never echoed in warnings (headers carry credentials).
//
//   OTEL_SDK_DISABLED                          "true" → no tracing at all
//   OTEL_SERVICE_NAME                          service.name (wins over OTEL_RESOURCE_ATTRIBUTES)
//   OTEL_RESOURCE_ATTRIBUTES                   k=v,k2=v2 (values percent-decoded)
//   OTEL_EXPORTER_OTLP_TRACES_ENDPOINT         the full URL, used as given
//   OTEL_EXPORTER_OTLP_ENDPOINT                base URL; /v1/traces is appended
//                                              (default http://localhost:4318/v1/traces)
//   OTEL_EXPORTER_OTLP_[TRACES_]HEADERS        k=v,k2=v2 sent with every export
//   OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT        ms per export request (default 10000)
//   OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL       http/protobuf (default, as in the spec and Centrifugo)
//                                              or http/json; grpc or anything else → a warning
//                                              naming the variable, and http/protobuf
//   OTEL_TRACES_SAMPLER[_ARG]                  always_on, always_off, traceidratio,
//                                              parentbased_{always_on,always_off,traceidratio}
//   OTEL_BSP_SCHEDULE_DELAY / _MAX_QUEUE_SIZE / _MAX_EXPORT_BATCH_SIZE / _EXPORT_TIMEOUT

export type Env = Readonly<Record<string, string | undefined>>;

export type SamplerKind = 'always_on' | 'always_off' | 'traceidratio';

export interface SamplerSettings {
  /** Decision for a span without a (valid) parent, or for every span when parentBased is false. */
  readonly root: SamplerKind;
  readonly ratio: number;
  /** Follow the parent's sampled flag when there is a parent (the spec's default sampler). */
  readonly parentBased: boolean;
}

export interface BatchSettings {
  readonly scheduleDelayMs: number;
  readonly maxQueueSize: number;
  readonly maxExportBatchSize: number;
  /** Upper bound of a flush at shutdown. */
  readonly exportTimeoutMs: number;
}

/** The OTLP/HTTP body encodings we speak (OTLP over gRPC is not implemented). */
export type OtlpProtocol = 'http/protobuf' | 'http/json';

export interface OtlpSettings {
  readonly protocol: OtlpProtocol;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly serviceName: string;
  readonly resourceAttributes: Readonly<Record<string, string>>;
  readonly sampler: SamplerSettings;
  readonly batch: BatchSettings;
  /** Problems found (variable names only, never values). */
  readonly warnings: readonly string[];
}

export const DEFAULT_TRACES_URL = 'http://localhost:4318/v1/traces';
export const DEFAULT_PROTOCOL: OtlpProtocol = 'http/protobuf';

function get(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

/** The longest delay Node's timers take: setTimeout fires a larger one after 1 ms, AbortSignal.timeout throws. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function posInt(env: Env, name: string, fallback: number, warnings: string[], min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const raw = get(env, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    warnings.push(`${name} is not an integer in [${min}, ${max}]; using ${fallback}`);
    return fallback;
  }
  return n;
}

/** Header names fetch accepts (RFC 9110 tokens) and values it accepts (no CR, LF, NUL; Latin-1 only). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Drops the headers fetch would refuse: it would fail every export, and its TypeError quotes the
 * value (a credential) into the failure log.
 */
function validHeaders(headers: Record<string, string>, name: string, warnings: string[]): Record<string, string> {
  let bad = 0;
  for (const key of Object.keys(headers)) {
    if (!HEADER_NAME.test(key) || !HEADER_VALUE.test(headers[key]!)) {
      delete headers[key];
      bad++;
    }
  }
  if (bad > 0) warnings.push(`${name}: ${bad} entr${bad === 1 ? 'y is not a valid HTTP header' : 'ies are not valid HTTP headers'}; ignored`);
  return headers;
}

/** `k=v,k2=v2` with percent-encoded values (W3C Baggage octets), as both header and resource variables use. */
export function parseKeyValueList(text: string, name: string, warnings: string[]): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  let bad = 0;
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    const key = eq > 0 ? part.slice(0, eq).trim() : '';
    if (key === '') {
      bad++;
      continue;
    }
    try {
      out[key] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch (err) {
      if (!(err instanceof URIError)) throw err;
      bad++;
    }
  }
  if (bad > 0) warnings.push(`${name}: ${bad} malformed entr${bad === 1 ? 'y' : 'ies'} ignored`);
  return out;
}

function httpUrl(raw: string): URL | null {
  try {
    const u = new URL(raw);
    // fetch refuses URLs with credentials (and would put them in its error message).
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.username === '' && u.password === '' ? u : null;
  } catch (err) {
    if (err instanceof TypeError) return null;
    throw err;
  }
}

function tracesUrl(env: Env, warnings: string[]): string {
  const specific = get(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  if (specific !== undefined) {
    if (httpUrl(specific) !== null) return specific;
    warnings.push('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is not an http(s) URL without credentials (use OTEL_EXPORTER_OTLP_HEADERS); ignored');
  }
  const base = get(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (base !== undefined) {
    if (httpUrl(base) !== null) return `${base.replace(/\/+$/, '')}/v1/traces`;
    warnings.push('OTEL_EXPORTER_OTLP_ENDPOINT is not an http(s) URL without credentials (use OTEL_EXPORTER_OTLP_HEADERS); ignored');
  }
  return DEFAULT_TRACES_URL;
}

function protocol(env: Env, warnings: string[]): OtlpProtocol {
  const name = get(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const value = get(env, name);
  if (value === undefined || value === 'http/protobuf' || value === 'http/json') return value ?? DEFAULT_PROTOCOL;
  // The value itself is not echoed (settings values are never logged); grpc is the likely one.
  warnings.push(
    value === 'grpc'
      ? `${name}: grpc is not supported; spans are sent as ${DEFAULT_PROTOCOL} (OTLP/HTTP, collector port 4318 by default)`
      : `${name} is not one of http/protobuf, http/json, grpc; spans are sent as ${DEFAULT_PROTOCOL}`,
  );
  return DEFAULT_PROTOCOL;
}

function sampler(env: Env, warnings: string[]): SamplerSettings {
  const name = (get(env, 'OTEL_TRACES_SAMPLER') ?? 'parentbased_always_on').toLowerCase();
  const parentBased = name.startsWith('parentbased_');
  const root = parentBased ? name.slice('parentbased_'.length) : name;
  let ratio = 1;
  const arg = get(env, 'OTEL_TRACES_SAMPLER_ARG');
  if (root === 'traceidratio' && arg !== undefined) {
    const r = Number(arg);
    if (Number.isFinite(r) && r >= 0 && r <= 1) ratio = r;
    else warnings.push('OTEL_TRACES_SAMPLER_ARG is not a ratio in [0, 1]; using 1');
  }
  if (root === 'always_on' || root === 'always_off' || root === 'traceidratio') return { root, ratio, parentBased };
  warnings.push('OTEL_TRACES_SAMPLER is not supported; using parentbased_always_on');
  return { root: 'always_on', ratio: 1, parentBased: true };
}

/** Reads the exporter settings; `serviceName` is the default service.name. */
export function otlpSettingsFromEnv(env: Env, serviceName: string): OtlpSettings {
  const warnings: string[] = [];
  const headersVar = get(env, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS') !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_HEADERS' : 'OTEL_EXPORTER_OTLP_HEADERS';
  const headers = validHeaders(parseKeyValueList(get(env, headersVar) ?? '', headersVar, warnings), headersVar, warnings);
  const timeoutVar = get(env, 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT') !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT' : 'OTEL_EXPORTER_OTLP_TIMEOUT';
  const resourceAttributes = parseKeyValueList(get(env, 'OTEL_RESOURCE_ATTRIBUTES') ?? '', 'OTEL_RESOURCE_ATTRIBUTES', warnings);
  const maxQueueSize = posInt(env, 'OTEL_BSP_MAX_QUEUE_SIZE', 2048, warnings);
  let maxExportBatchSize = posInt(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512, warnings);
  if (maxExportBatchSize > maxQueueSize) maxExportBatchSize = maxQueueSize;
  return {
    protocol: protocol(env, warnings),
    url: tracesUrl(env, warnings),
    headers,
    timeoutMs: posInt(env, timeoutVar, 10_000, warnings, 1, MAX_TIMER_MS),
    serviceName: get(env, 'OTEL_SERVICE_NAME') ?? resourceAttributes['service.name'] ?? serviceName,
    resourceAttributes,
    sampler: sampler(env, warnings),
    batch: {
      scheduleDelayMs: posInt(env, 'OTEL_BSP_SCHEDULE_DELAY', 5_000, warnings, 0, MAX_TIMER_MS),
      maxQueueSize,
      maxExportBatchSize,
      exportTimeoutMs: posInt(env, 'OTEL_BSP_EXPORT_TIMEOUT', 30_000, warnings, 1, MAX_TIMER_MS),
    },
    warnings,
  };
}

/** The endpoint as it may be logged: no user info, no query (either may hold a credential). */
export function loggableUrl(url: string): string {
  const u = httpUrl(url);
  return u === null ? '(invalid URL)' : `${u.protocol}//${u.host}${u.pathname}`;
}
