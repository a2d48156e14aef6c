// One proxy question from a command handler, with every way it can end mapped to what the client
// gets (PROTOCOL.md §4.1, §4.7): the backend's result, the backend's error (reply), the backend's
// disconnect (close), or — proxy unreachable, timed out, bad status, bad JSON — internal error 100
// (temporary, so the SDKs retry). Never throws.
import { Disconnects, Errors } from '@rotor/core';
import type { Disconnect, ErrorCode } from '@rotor/core';
import type { Session } from '../session.ts';
import type { HttpProxy, ProxyType } from './caller.ts';
import { ProxyFailure } from './caller.ts';
import { PayloadNotJson } from './wire.ts';

export type Asked =
  | { kind: 'result'; result: Record<string, unknown> | null; source: string }
  | { kind: 'error'; error: ErrorCode }
  | { kind: 'disconnect'; disconnect: Disconnect };

const INTERNAL: Asked = { kind: 'error', error: Errors.internal };

/** Asks `proxy`; `body` builds the request (it may throw PayloadNotJson). */
export async function ask(s: Session, proxy: HttpProxy, type: ProxyType, body: () => string): Promise<Asked> {
  const log = s.gw.log;
  let text: string;
  try {
    text = body();
  } catch (err) {
    log.warn('proxy request not sent', { type, proxy: proxy.name, client: s.client, error: err instanceof PayloadNotJson ? err.message : String(err) });
    return INTERNAL;
  }
  try {
    const reply = await proxy.call(type, text, s.proxy?.headers ?? null, s.proxy?.closed);
    switch (reply.kind) {
      case 'result':
        return reply;
      case 'error':
        return { kind: 'error', error: reply.error };
      case 'disconnect':
        return { kind: 'disconnect', disconnect: toDisconnect(s, reply.disconnect.code, reply.disconnect.reason) };
    }
  } catch (err) {
    // The client went away meanwhile: nobody waits for this answer.
    if (err instanceof ProxyFailure && err.result === 'cancelled') return INTERNAL;
    log.warn('proxy call failed', { type, proxy: proxy.name, client: s.client, error: err instanceof ProxyFailure ? err.message : String(err) });
    return INTERNAL;
  }
}

/** A backend disconnect; a code that cannot be a WebSocket close code becomes 3004 internal. */
function toDisconnect(s: Session, code: number, reason: string): Disconnect {
  if (code >= 3000 && code <= 4999) return { code, reason };
  s.gw.log.warn('proxy disconnect code out of range 3000–4999', { code });
  return Disconnects.internal;
}

/** Answers command `id` with a non-result outcome (error reply or disconnect). */
export function answer(s: Session, id: number, asked: Exclude<Asked, { kind: 'result' }>): void {
  if (s.closed) return;
  if (asked.kind === 'disconnect') s.disconnect(asked.disconnect);
  else s.replyError(id, asked.error);
}

/** A malformed field in a result (ProxyFailure from wire.ts readers) → internal error. */
export function badResult(s: Session, type: ProxyType, err: unknown): Asked {
  s.gw.log.warn('proxy result rejected', { type, client: s.client, error: err instanceof ProxyFailure ? err.message : String(err) });
  return INTERNAL;
}
