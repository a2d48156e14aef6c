// Channel rules (PROTOCOL.md §9): which namespace a channel belongs to, whether its name is valid,
// whether it is private or user-limited, and the personal channel of a user.
//
// `ChannelRules` is built once from a validated ChannelConfig. `resolve(channel)` is the one call
// the gateway and the api make per command; its result (success or error) is cached per channel
// name in a bounded two-generation cache, so repeated names cost one Map lookup and the cache can
// never hold more than `cacheSize` names whatever clients send.
//
// Resolution, in Centrifugo's order:
// 1. empty name → 107; longer than channel.max_length (UTF-8 bytes, as Go's len) → 107;
// 2. namespace: strip one private prefix (`$`); the text before the first namespace boundary (`:`)
//    names the namespace; none (or an empty one, as in ":x") → channel.without_namespace; a name
//    not configured → 102;
// 3. name: with the namespace's channel_regex the pattern is searched (unanchored, as Go's
//    MatchString) in the part after `ns:` — for channels without namespace, in the whole name;
//    without a regex the whole name must be ASCII. Failure → 107.
// Then: private = starts with the private prefix; user-limited = the namespace allows
// user-limited channels and the name contains the user boundary (`#`); its allowed users are the
// user-separator (`,`) separated list after the last boundary. The anonymous user '' is never in
// that list: an empty entry (as in "chat#") grants nobody.
import { Errors } from './codes.ts';
import type { ErrorCode } from './codes.ts';
import type { ChannelConfig, Namespace, NamespaceOptions } from './config/types.ts';
import type { HistoryOptions } from './types.ts';

export interface ResolvedChannel {
  readonly channel: string;
  readonly namespace: Namespace;
  /** History retention of the namespace, or null when history is off. Shared, frozen. */
  readonly history: HistoryOptions | null;
  /** Starts with the private prefix: a subscription token is required to subscribe. */
  readonly isPrivate: boolean;
  /** Contains the user boundary in a namespace with allow_user_limited_channels. */
  readonly userLimited: boolean;
  /** Users named after the last user boundary (user-limited channels only; else empty). */
  readonly allowedUsers: readonly string[];
}

export type ChannelResolution =
  | { readonly ok: true; readonly channel: ResolvedChannel }
  | { readonly ok: false; readonly error: ErrorCode };

export interface ChannelRulesOptions {
  /** Most channel names whose resolution is remembered. Default 10 000. */
  cacheSize?: number;
}

/** Compiles namespace options into a Namespace (regex compiled, derived facts precomputed). */
export function compileNamespace(name: string, options: NamespaceOptions, globalHistoryMetaTtlMs: number): Namespace {
  const { name: _ignored, ...opts } = options as NamespaceOptions & { name?: string };
  return Object.freeze({
    ...opts,
    allowedDeltaTypes: Object.freeze([...options.allowedDeltaTypes]) as string[],
    name,
    channelPattern: options.channelRegex ? compileGoRegex(options.channelRegex, name) : null,
    historyEnabled: options.historySize > 0 && options.historyTtlMs > 0,
    effectiveHistoryMetaTtlMs: options.historyMetaTtlMs > 0 ? options.historyMetaTtlMs : globalHistoryMetaTtlMs,
  });
}

/**
 * Compiles a channel_regex written for Go's RE2 into a JS RegExp: `(?P<name>` becomes `(?<name>`,
 * and Unicode mode is used when the pattern allows it (RE2 matches code points, not UTF-16 units).
 */
export function compileGoRegex(source: string, namespace = ''): RegExp {
  const translated = source.replace(/\(\?P</g, '(?<');
  try {
    return new RegExp(translated, 'u');
  } catch {
    // Patterns with escapes Unicode mode rejects (e.g. "\-" outside a class) still work without it.
    try {
      return new RegExp(translated);
    } catch (err) {
      throw new Error(`channel_regex of namespace ${JSON.stringify(namespace)} does not compile: ${(err as Error).message}`, { cause: err });
    }
  }
}

export class ChannelRules {
  readonly withoutNamespace: Namespace;
  readonly namespaces: ReadonlyMap<string, Namespace>;
  readonly maxLength: number;
  readonly #config: ChannelConfig;
  readonly #history = new Map<Namespace, HistoryOptions | null>();
  readonly #cacheHalf: number;
  #young = new Map<string, ChannelResolution>();
  #old = new Map<string, ChannelResolution>();

  constructor(config: ChannelConfig, options: ChannelRulesOptions = {}) {
    this.#config = config;
    this.maxLength = config.maxLength > 0 ? config.maxLength : Infinity;
    this.withoutNamespace = compileNamespace('', config.withoutNamespace, config.historyMetaTtlMs);
    const namespaces = new Map<string, Namespace>();
    for (const ns of config.namespaces) namespaces.set(ns.name, compileNamespace(ns.name, ns, config.historyMetaTtlMs));
    this.namespaces = namespaces;
    for (const ns of [this.withoutNamespace, ...namespaces.values()]) {
      this.#history.set(
        ns,
        ns.historyEnabled
          ? Object.freeze({ size: ns.historySize, ttlMs: ns.historyTtlMs, metaTtlMs: ns.effectiveHistoryMetaTtlMs })
          : null,
      );
    }
    this.#cacheHalf = Math.max(1, Math.floor((options.cacheSize ?? 10_000) / 2));
  }

  /** Resolves and validates a channel name (see the header for the rules). Cached. */
  resolve(channel: string): ChannelResolution {
    let r = this.#young.get(channel);
    if (r !== undefined) return r;
    r = this.#old.get(channel);
    if (r === undefined) r = this.#compute(channel);
    if (this.#young.size >= this.#cacheHalf) {
      this.#old = this.#young;
      this.#young = new Map();
    }
    this.#young.set(channel, r);
    return r;
  }

  /** The namespace options for a namespace name ('' = without namespace), or undefined. */
  namespace(name: string): Namespace | undefined {
    return name === '' ? this.withoutNamespace : this.namespaces.get(name);
  }

  /** History options of a namespace, or null when its history is off. */
  historyOf(ns: Namespace): HistoryOptions | null {
    return this.#history.get(ns) ?? null;
  }

  /** Whether `user` may subscribe to a user-limited channel without a token. */
  isUserAllowed(resolved: ResolvedChannel, user: string): boolean {
    return resolved.userLimited && user !== '' && resolved.allowedUsers.includes(user);
  }

  /** The personal channel of `user`: `[<namespace>:]#<user>` (client.subscribe_to_user_personal_channel). */
  personalChannel(user: string, namespace = ''): string {
    const c = this.#config;
    return namespace === '' ? c.userBoundary + user : namespace + c.namespaceBoundary + c.userBoundary + user;
  }

  #compute(channel: string): ChannelResolution {
    if (channel.length === 0 || channel.length > this.maxLength) return BAD_REQUEST;
    const ascii = isAscii(channel);
    if (!ascii && Buffer.byteLength(channel, 'utf8') > this.maxLength) return BAD_REQUEST;

    const c = this.#config;
    const isPrivate = c.privatePrefix !== '' && channel.startsWith(c.privatePrefix);
    const trimmed = isPrivate ? channel.slice(c.privatePrefix.length) : channel;
    const at = c.namespaceBoundary === '' ? -1 : trimmed.indexOf(c.namespaceBoundary);
    const nsName = at > 0 ? trimmed.slice(0, at) : '';
    let namespace: Namespace | undefined;
    let rest: string;
    if (nsName === '') {
      namespace = this.withoutNamespace;
      rest = at === 0 ? trimmed.slice(c.namespaceBoundary.length) : channel;
    } else {
      namespace = this.namespaces.get(nsName);
      if (namespace === undefined) return UNKNOWN_CHANNEL;
      rest = trimmed.slice(at + c.namespaceBoundary.length);
    }

    if (namespace.channelPattern !== null) {
      if (!namespace.channelPattern.test(rest)) return BAD_REQUEST;
    } else if (!ascii) {
      return BAD_REQUEST;
    }

    const userLimited = namespace.allowUserLimitedChannels && c.userBoundary !== '' && channel.includes(c.userBoundary);
    let allowedUsers: readonly string[] = NO_USERS;
    if (userLimited) {
      const tail = channel.slice(channel.lastIndexOf(c.userBoundary) + c.userBoundary.length);
      const users = c.userSeparator === '' ? [tail] : tail.split(c.userSeparator);
      allowedUsers = Object.freeze(users.filter((u) => u !== ''));
    }
    const resolved: ResolvedChannel = Object.freeze({
      channel,
      namespace,
      history: this.#history.get(namespace) ?? null,
      isPrivate,
      userLimited,
      allowedUsers,
    });
    return Object.freeze({ ok: true as const, channel: resolved });
  }
}

const NO_USERS: readonly string[] = Object.freeze([]);
const BAD_REQUEST: ChannelResolution = Object.freeze({ ok: false as const, error: Errors.badRequest });
const UNKNOWN_CHANNEL: ChannelResolution = Object.freeze({ ok: false as const, error: Errors.unknownChannel });

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}
