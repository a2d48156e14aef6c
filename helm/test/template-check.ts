// Static checks of Helm (Go text/template) files, for a repository without a `helm` binary:
// action parsing, block balance, `.Values` references against values.yaml, `.Values` used
// where `with`/`range` has rebound the dot, and include/template names against defines.

export interface Action {
  /** The action's text between the delimiters, trim markers removed. */
  body: string;
  /** 1-based line of the opening `{{`. */
  line: number;
}

export interface Scan {
  actions: Action[];
  problems: string[];
}

/** Splits a template into its `{{ … }}` actions, skipping strings and comments inside them. */
export function scanActions(text: string): Scan {
  const actions: Action[] = [];
  const problems: string[] = [];
  let i = 0;
  const lineAt = (pos: number): number => text.slice(0, pos).split('\n').length;
  while (i < text.length) {
    const open = text.indexOf('{{', i);
    if (open < 0) break;
    let j = open + 2;
    let close = -1;
    while (j < text.length) {
      const c = text[j];
      if (c === '"') {
        j++;
        while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
        j++;
      } else if (c === '`') {
        j = text.indexOf('`', j + 1);
        if (j < 0) break;
        j++;
      } else if (text.startsWith('/*', j)) {
        const end = text.indexOf('*/', j + 2);
        if (end < 0) break;
        j = end + 2;
      } else if (text.startsWith('}}', j)) {
        close = j;
        break;
      } else {
        j++;
      }
    }
    if (close < 0) {
      problems.push(`line ${lineAt(open)}: "{{" is never closed`);
      break;
    }
    let body = text.slice(open + 2, close);
    if (body.startsWith('-')) body = body.slice(1);
    if (body.endsWith('-')) body = body.slice(0, -1);
    actions.push({ body: body.trim(), line: lineAt(open) });
    i = close + 2;
  }
  return { actions, problems };
}

const openers = new Set(['if', 'range', 'with', 'define', 'block']);

function keyword(body: string): string {
  if (body.startsWith('/*')) return '/*';
  return /^[a-z]+/.exec(body)?.[0] ?? '';
}

/** Every `if/range/with/define/block` has its `end`; `else` only inside if/with/range. */
export function checkBalance(text: string): string[] {
  const { actions, problems } = scanActions(text);
  const stack: Action[] = [];
  for (const a of actions) {
    const k = keyword(a.body);
    if (openers.has(k)) {
      stack.push(a);
    } else if (k === 'else') {
      const top = stack[stack.length - 1];
      if (top === undefined || !['if', 'with', 'range'].includes(keyword(top.body))) {
        problems.push(`line ${a.line}: "else" outside if/with/range`);
      }
    } else if (k === 'end') {
      if (stack.pop() === undefined) problems.push(`line ${a.line}: "end" without an open block`);
    }
  }
  for (const a of stack) problems.push(`line ${a.line}: "${keyword(a.body)}" is never closed with "end"`);
  return problems;
}

/** The `.Values.a.b.c` paths an action text references (both `.Values` and `$.Values`). */
export function valuesPaths(body: string): string[] {
  const out: string[] = [];
  for (const m of body.matchAll(/(?:^|[^\w$])\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) out.push((m[1] as string).slice(1));
  return out;
}

/** Whether `path` (dot-separated) exists in `values`; a key whose value is null exists. */
export function valuesHas(values: unknown, path: string): boolean {
  let node: unknown = values;
  for (const key of path.split('.')) {
    if (typeof node !== 'object' || node === null || Array.isArray(node) || !Object.hasOwn(node, key)) return false;
    node = (node as Record<string, unknown>)[key];
  }
  return true;
}

/** References to paths missing from values.yaml. */
export function missingValues(text: string, values: unknown): string[] {
  const problems: string[] = [];
  for (const a of scanActions(text).actions) {
    for (const path of valuesPaths(a.body)) {
      if (!valuesHas(values, path)) problems.push(`line ${a.line}: .Values.${path} is not in values.yaml`);
    }
  }
  return problems;
}

/**
 * `.Values` (without `$`) inside a `with` or `range` block reads the rebound dot, which has no
 * Values field: helm fails at render time ("nil pointer evaluating interface {}.Values").
 */
export function reboundValues(text: string): string[] {
  const problems: string[] = [];
  const stack: string[] = [];
  for (const a of scanActions(text).actions) {
    const k = keyword(a.body);
    const rebound = stack.includes('with') || stack.includes('range');
    if (rebound && /(?:^|[^\w$])\.Values\b/.test(a.body)) {
      problems.push(`line ${a.line}: .Values inside with/range reads the rebound dot; use $.Values`);
    }
    if (openers.has(k)) stack.push(k);
    else if (k === 'end') stack.pop();
  }
  return problems;
}

export function definedNames(text: string): string[] {
  return scanActions(text)
    .actions.map((a) => /^define\s+"([^"]+)"/.exec(a.body)?.[1])
    .filter((n): n is string => n !== undefined);
}

export function usedNames(text: string): Array<{ name: string; line: number }> {
  const out: Array<{ name: string; line: number }> = [];
  for (const a of scanActions(text).actions) {
    for (const m of a.body.matchAll(/\b(?:include|template)\s+"([^"]+)"/g)) out.push({ name: m[1] as string, line: a.line });
  }
  return out;
}
