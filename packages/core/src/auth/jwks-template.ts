// Templated JWKS endpoints (Centrifugo v6 "dynamic JWKS"): `jwks_public_endpoint` may hold
// `{{name}}` variables whose values are the named capture groups of `issuer_regex` (matched
// against the token's `iss`) and `audience_regex` (matched against its `aud`), e.g.
//   jwks_public_endpoint: https://auth.example.com/tenants/{{tenant}}/jwks
//   issuer_regex:         ^https://auth\.example\.com/tenants/(?P<tenant>acme|globex)$
//
// The values come from an unverified token, so they are treated as hostile:
// - variables may only appear after the host (checked at config time), so a claim can never pick
//   the server keys are fetched from;
// - each value is percent-encoded (encodeURIComponent: `/`, `?`, `#`, `%`, `@` … are escaped), so
//   it stays inside its path segment or query value;
// - an empty value, or one that would make a `.`/`..` path segment, is refused, and the resolved
//   URL must keep the template's scheme, host and port (defence in depth).
import { compileGoRegex } from '../channels.ts';

const placeholder = /\{\{([^{}]*)\}\}/g;
const variableName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Where each variable's value comes from. */
export interface TemplateSources {
  issuerRegex: RegExp | null;
  audienceRegex: RegExp | null;
}

export class JwksTemplate {
  /** The template as configured. */
  readonly source: string;
  /** Distinct variable names, in order of first appearance. */
  readonly variables: readonly string[];
  /** scheme://host[:port] every resolved URL must keep. */
  readonly origin: string;
  /** Alternating literal text and variable names: literal, name, literal, …, literal. */
  private readonly parts: readonly string[];
  /** Length of `scheme://authority`, which is literal (variables there are refused). */
  private readonly prefixLength: number;

  private constructor(source: string, parts: string[], origin: string, prefixLength: number) {
    this.source = source;
    this.parts = parts;
    this.origin = origin;
    this.prefixLength = prefixLength;
    this.variables = [...new Set(parts.filter((_, i) => i % 2 === 1))];
  }

  /**
   * Parses `endpoint`; null when it has no variables (a plain URL). Throws an Error whose message
   * says what is wrong (without the key path) for a malformed template.
   */
  static parse(endpoint: string): JwksTemplate | null {
    if (!endpoint.includes('{{') && !endpoint.includes('}}')) return null;
    const parts: string[] = [];
    let last = 0;
    for (const m of endpoint.matchAll(placeholder)) {
      const name = (m[1] ?? '').trim();
      if (!variableName.test(name)) throw new Error(`invalid template variable {{${m[1] ?? ''}}} (expected {{name}} with a letter, digit or _ name)`);
      parts.push(endpoint.slice(last, m.index), name);
      last = m.index + m[0].length;
    }
    parts.push(endpoint.slice(last));
    for (let i = 0; i < parts.length; i += 2) {
      if (/[{}]{2}/.test(parts[i] ?? '')) throw new Error('unbalanced {{ or }} in the template');
    }
    const scheme = /^https?:\/\//i.exec(endpoint);
    if (scheme === null) throw new Error('must be an http(s) URL');
    // The authority ends at the first of / \ ? # (WHATWG URL treats \ as / for http(s)).
    const rest = endpoint.slice(scheme[0].length);
    const authorityEnd = rest.search(/[/\\?#]/);
    const authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd);
    if (authority.includes('{{')) throw new Error('variables are not allowed in the scheme, host or port, only in the path or query');
    const prefixLength = scheme[0].length + authority.length;
    let origin: string;
    try {
      origin = new URL(endpoint.slice(0, prefixLength)).origin;
    } catch {
      throw new Error('not a valid URL');
    }
    const template = new JwksTemplate(endpoint, parts, origin, prefixLength);
    // A sample resolution must produce a valid URL (catches templates broken elsewhere).
    const sample = template.build(new Map(template.variables.map((v) => [v, 'x'])));
    if (typeof sample !== 'string') throw new Error(`does not form a valid URL: ${sample.error}`);
    return template;
  }

  /**
   * Checks at config time that every variable is a named group of issuer_regex or audience_regex
   * (Go `(?P<name>…)` or JS `(?<name>…)` syntax) and, when `safe`, that each such group is a list
   * of fixed values (`(?P<tenant>acme|globex)`), so that a client cannot make the server fetch
   * from an endpoint of its choosing. Returns the problem, or null.
   */
  checkSources(issuerRegex: string, audienceRegex: string, safe: boolean): string | null {
    const groups = new Set([...namedGroups(issuerRegex), ...namedGroups(audienceRegex)]);
    const unknown = this.variables.filter((v) => !groups.has(v));
    if (unknown.length > 0) {
      const names = unknown.map((v) => `{{${v}}}`).join(', ');
      return `template variable${unknown.length === 1 ? '' : 's'} ${names} ${unknown.length === 1 ? 'is not a named group' : 'are not named groups'} of issuer_regex or audience_regex (write (?P<name>…) there)`;
    }
    if (!safe) return null;
    const open = this.variables.filter((v) => ![issuerRegex, audienceRegex].every((re) => isFixedList(groupBody(re, v))));
    if (open.length === 0) return null;
    const names = open.map((v) => `{{${v}}}`).join(', ');
    return `the regex group${open.length === 1 ? '' : 's'} of ${names} must list fixed values, e.g. (?P<${open[0] ?? 'name'}>acme|globex): any other value a client sends would make one request to the endpoint (insecure_skip_jwks_endpoint_safety_check allows it)`;
  }

  /**
   * The endpoint URL for a token's (unverified) payload, or why none: iss must match issuer_regex
   * and/or aud audience_regex so that every variable gets a value. Pure: no I/O.
   */
  resolve(payload: Readonly<Record<string, unknown>>, sources: TemplateSources): string | { error: string } {
    const values = new Map<string, string>();
    if (sources.issuerRegex !== null) {
      const iss = payload['iss'];
      const m = typeof iss === 'string' ? sources.issuerRegex.exec(iss) : null;
      if (m?.groups !== undefined) collect(m.groups, values);
    }
    if (sources.audienceRegex !== null) {
      const aud = payload['aud'];
      const auds = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
      for (const a of auds) {
        if (typeof a !== 'string') continue;
        const m = sources.audienceRegex.exec(a);
        if (m === null) continue;
        // The first matching audience supplies the audience variables.
        if (m.groups !== undefined && !collect(m.groups, values)) return { error: 'iss and aud give different values for a JWKS endpoint variable' };
        break;
      }
    }
    for (const v of this.variables) {
      if (!values.has(v)) return { error: `token iss/aud do not match the regex that provides {{${v}}} of the JWKS endpoint` };
    }
    return this.build(values);
  }

  private build(values: ReadonlyMap<string, string>): string | { error: string } {
    let out = '';
    for (let i = 0; i < this.parts.length; i++) {
      const part = this.parts[i] ?? '';
      if (i % 2 === 0) {
        out += part;
        continue;
      }
      const value = values.get(part) ?? '';
      if (value === '') return { error: `empty value for {{${part}}} of the JWKS endpoint` };
      out += encodeURIComponent(value);
    }
    let url: URL;
    try {
      url = new URL(out);
    } catch {
      return { error: 'the resolved JWKS endpoint is not a valid URL' };
    }
    if (url.origin !== this.origin) return { error: 'the resolved JWKS endpoint changes host' };
    // `.`/`..` segments would be collapsed by the URL parser and could reach another path.
    const afterAuthority = out.slice(this.prefixLength);
    const pathEnd = afterAuthority.search(/[?#]/);
    const path = pathEnd < 0 ? afterAuthority : afterAuthority.slice(0, pathEnd);
    for (const segment of path.split(/[/\\]/)) {
      if (/^(\.|%2e){1,2}$/i.test(segment)) return { error: 'the resolved JWKS endpoint has a . or .. path segment' };
    }
    return url.href;
  }
}

/** Adds non-undefined groups to `values`; false when a name already holds a different value. */
function collect(groups: Readonly<Record<string, string | undefined>>, values: Map<string, string>): boolean {
  for (const [name, value] of Object.entries(groups)) {
    if (value === undefined) continue;
    const had = values.get(name);
    if (had !== undefined && had !== value) return false;
    values.set(name, value);
  }
  return true;
}

/** Names of the named capture groups of a (Go or JS syntax) regex; none for '' or a bad regex. */
export function namedGroups(source: string): string[] {
  if (source === '') return [];
  let re: RegExp;
  try {
    re = compileGoRegex(source);
  } catch {
    // The regex key reports its own compile error.
    return [];
  }
  // An empty alternative always matches, and `groups` then lists every named group.
  const probe = new RegExp(`(?:${re.source})|`, re.flags);
  return Object.keys(probe.exec('')?.groups ?? {});
}

/**
 * The source text inside the named group `name` of a regex (Go or JS syntax), or null when the
 * regex has no such group.
 */
export function groupBody(source: string, name: string): string | null {
  for (const opener of [`(?P<${name}>`, `(?<${name}>`]) {
    const start = source.indexOf(opener);
    if (start < 0) continue;
    let depth = 1;
    let inClass = false;
    for (let i = start + opener.length; i < source.length; i++) {
      const c = source[i];
      if (c === '\\') {
        i++;
      } else if (inClass) {
        if (c === ']') inClass = false;
      } else if (c === '[') {
        inClass = true;
      } else if (c === '(') {
        depth++;
      } else if (c === ')' && --depth === 0) {
        return source.slice(start + opener.length, i);
      }
    }
    return null;
  }
  return null;
}

/** A group absent from the regex (null) or an alternation of literal values: `acme|globex|a\.b`. */
function isFixedList(body: string | null): boolean {
  return body === null || /^(?:[A-Za-z0-9_-]|\\\.)+(?:\|(?:[A-Za-z0-9_-]|\\\.)+)*$/.test(body);
}

/**
 * Config-time check of `jwks_public_endpoint` against the regexes (`safe`: groups must list fixed
 * values); the problem without the key path, or null when the endpoint is fine (including when it
 * is not templated).
 */
export function checkJwksEndpoint(endpoint: string, issuerRegex: string, audienceRegex: string, safe = true): string | null {
  let template: JwksTemplate | null;
  try {
    template = JwksTemplate.parse(endpoint);
  } catch (err) {
    return (err as Error).message;
  }
  return template === null ? null : template.checkSources(issuerRegex, audienceRegex, safe);
}
