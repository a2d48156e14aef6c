// Channel-name globs for the `channels` API method, in the syntax of Go's gobwas/glob (what
// Centrifugo compiles `ChannelsRequest.pattern` with, without separators):
//   *        any sequence of characters, including none (`:` and `/` are ordinary characters)
//   ?        exactly one character
//   [abc]    one of the listed characters; [a-z] a range; [!abc] / [!a-z] anything else
//   {a,b*}   any of the comma-separated alternatives, each itself a pattern (they may nest)
//   \x       the character x literally
// Characters are Unicode code points, as Go's runes.
//
// Matching must stay linear whatever the pattern: `{*a*,*b*}*c` style patterns make a naive
// backtracking matcher exponential. The pattern is compiled to a Thompson NFA and simulated with a
// set of active states, so a match costs O(length of name × states) and never recurses.

/** Longest accepted pattern (characters); longer ones are rejected as bad requests. */
export const MAX_GLOB_LENGTH = 1024;

export class GlobSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GlobSyntaxError';
  }
}

// NFA state kinds.
const CHAR = 0; // consumes `cp`
const ANY = 1; // consumes any one character
const CLASS = 2; // consumes a character inside (or, negated, outside) `ranges`
const SPLIT = 3; // epsilon to `out` and `out2`
const MATCH = 4;

interface State {
  kind: number;
  cp: number;
  /** Inclusive [lo, hi] pairs, flattened. */
  ranges: number[] | null;
  negated: boolean;
  out: number;
  out2: number;
}

// Parsed pattern: a sequence of terms.
type Term =
  | { t: 'char'; cp: number }
  | { t: 'any' }
  | { t: 'star' }
  | { t: 'class'; ranges: number[]; negated: boolean }
  | { t: 'alt'; branches: Term[][] };

class Parser {
  readonly cps: number[];
  pos = 0;

  constructor(pattern: string) {
    this.cps = Array.from(pattern, (c) => c.codePointAt(0)!);
  }

  /** Parses terms until the end, or (inside braces) until an unconsumed `,` or `}`. */
  sequence(inAlt: boolean): Term[] {
    const out: Term[] = [];
    while (this.pos < this.cps.length) {
      const c = this.cps[this.pos]!;
      if (inAlt && (c === 0x2c /* , */ || c === 0x7d) /* } */) break;
      this.pos++;
      switch (c) {
        case 0x2a /* * */:
          // Consecutive stars mean the same as one; keeping one keeps the NFA small.
          if (out.length === 0 || out[out.length - 1]!.t !== 'star') out.push({ t: 'star' });
          break;
        case 0x3f /* ? */:
          out.push({ t: 'any' });
          break;
        case 0x5b /* [ */:
          out.push(this.charClass());
          break;
        case 0x7b /* { */:
          out.push(this.alternatives());
          break;
        case 0x5c /* \ */:
          out.push({ t: 'char', cp: this.escaped() });
          break;
        default:
          out.push({ t: 'char', cp: c });
      }
    }
    return out;
  }

  escaped(): number {
    if (this.pos >= this.cps.length) throw new GlobSyntaxError('pattern ends with an escape');
    return this.cps[this.pos++]!;
  }

  charClass(): Term {
    let negated = false;
    if (this.cps[this.pos] === 0x21 /* ! */) {
      negated = true;
      this.pos++;
    }
    const ranges: number[] = [];
    for (;;) {
      if (this.pos >= this.cps.length) throw new GlobSyntaxError('unclosed character class');
      let c = this.cps[this.pos++]!;
      if (c === 0x5d /* ] */) break;
      if (c === 0x5c) c = this.escaped();
      let hi = c;
      if (this.cps[this.pos] === 0x2d /* - */ && this.pos + 1 < this.cps.length && this.cps[this.pos + 1] !== 0x5d) {
        this.pos++;
        hi = this.cps[this.pos++]!;
        if (hi === 0x5c) hi = this.escaped();
        if (hi < c) throw new GlobSyntaxError('character range out of order');
      }
      ranges.push(c, hi);
    }
    if (ranges.length === 0) throw new GlobSyntaxError('empty character class');
    return { t: 'class', ranges, negated };
  }

  alternatives(): Term {
    const branches: Term[][] = [];
    for (;;) {
      branches.push(this.sequence(true));
      if (this.pos >= this.cps.length) throw new GlobSyntaxError('unclosed alternatives');
      const c = this.cps[this.pos++]!;
      if (c === 0x7d /* } */) break;
      // c is ',': another branch follows.
    }
    return { t: 'alt', branches };
  }
}

/** A compiled glob. `match` is safe to call with any string; it never throws. */
export class Glob {
  readonly #states: State[] = [];
  readonly #start: number;
  /** Non-null when the pattern has no wildcard at all: plain equality. */
  readonly #literal: string | null;
  // Reused per match: marks[s] === generation means s is already in the set being built.
  readonly #marks: Uint32Array;
  #generation = 0;
  readonly #stack: number[] = [];
  #current: number[] = [];
  #next: number[] = [];

  constructor(pattern: string) {
    if (pattern.length > MAX_GLOB_LENGTH) throw new GlobSyntaxError(`pattern longer than ${MAX_GLOB_LENGTH} characters`);
    const terms = new Parser(pattern).sequence(false);
    this.#literal = terms.every((t) => t.t === 'char') ? String.fromCodePoint(...terms.map((t) => (t as { cp: number }).cp)) : null;
    const match = this.#add({ kind: MATCH, cp: 0, ranges: null, negated: false, out: -1, out2: -1 });
    this.#start = this.#compile(terms, match);
    this.#marks = new Uint32Array(this.#states.length);
  }

  #add(s: State): number {
    this.#states.push(s);
    return this.#states.length - 1;
  }

  /** Compiles `terms` so that they continue into state `next`; returns the entry state. */
  #compile(terms: Term[], next: number): number {
    for (let i = terms.length - 1; i >= 0; i--) {
      const t = terms[i]!;
      switch (t.t) {
        case 'char':
          next = this.#add({ kind: CHAR, cp: t.cp, ranges: null, negated: false, out: next, out2: -1 });
          break;
        case 'any':
          next = this.#add({ kind: ANY, cp: 0, ranges: null, negated: false, out: next, out2: -1 });
          break;
        case 'class':
          next = this.#add({ kind: CLASS, cp: 0, ranges: t.ranges, negated: t.negated, out: next, out2: -1 });
          break;
        case 'star': {
          const split = this.#add({ kind: SPLIT, cp: 0, ranges: null, negated: false, out: -1, out2: next });
          this.#states[split]!.out = this.#add({ kind: ANY, cp: 0, ranges: null, negated: false, out: split, out2: -1 });
          next = split;
          break;
        }
        case 'alt': {
          let entry = this.#compile(t.branches[t.branches.length - 1]!, next);
          for (let b = t.branches.length - 2; b >= 0; b--) {
            const first = this.#compile(t.branches[b]!, next);
            entry = this.#add({ kind: SPLIT, cp: 0, ranges: null, negated: false, out: first, out2: entry });
          }
          next = entry;
          break;
        }
      }
    }
    return next;
  }

  match(name: string): boolean {
    if (this.#literal !== null) return name === this.#literal;
    this.#current.length = 0;
    this.#bump();
    this.#addClosure(this.#current, this.#start);
    for (const ch of name) {
      if (this.#current.length === 0) return false;
      const cp = ch.codePointAt(0)!;
      this.#next.length = 0;
      this.#bump();
      for (const s of this.#current) {
        const st = this.#states[s]!;
        if (
          (st.kind === CHAR && st.cp === cp) ||
          st.kind === ANY ||
          (st.kind === CLASS && inRanges(st.ranges!, cp) !== st.negated)
        ) {
          this.#addClosure(this.#next, st.out);
        }
      }
      const swap = this.#current;
      this.#current = this.#next;
      this.#next = swap;
    }
    for (const s of this.#current) if (this.#states[s]!.kind === MATCH) return true;
    return false;
  }

  #bump(): void {
    this.#generation++;
    if (this.#generation === 0xffffffff) {
      this.#marks.fill(0);
      this.#generation = 1;
    }
  }

  /** Adds `from` and every state reachable from it through SPLITs (iteratively). */
  #addClosure(set: number[], from: number): void {
    const stack = this.#stack;
    stack.length = 0;
    stack.push(from);
    while (stack.length > 0) {
      const s = stack.pop()!;
      if (this.#marks[s] === this.#generation) continue;
      this.#marks[s] = this.#generation;
      const st = this.#states[s]!;
      if (st.kind === SPLIT) {
        stack.push(st.out2, st.out);
      } else {
        set.push(s);
      }
    }
  }
}

function inRanges(ranges: number[], cp: number): boolean {
  for (let i = 0; i < ranges.length; i += 2) if (cp >= ranges[i]! && cp <= ranges[i + 1]!) return true;
  return false;
}

/** Compiles a pattern; throws GlobSyntaxError for an invalid one. */
export function compileGlob(pattern: string): Glob {
  return new Glob(pattern);
}
