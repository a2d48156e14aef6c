// Results whose bytes fields are written as raw JSON over HTTP (publication `data`, client
// `conn_info` / `chan_info`, rpc `data`) may hold bytes that are not JSON: a publication made with
// `b64data`, connection info from a `b64info` claim. Written verbatim they would corrupt the whole
// response (Centrifugo fails such a response). There is no b64 twin for these fields in the API
// schema, so over HTTP a non-JSON payload is sent as a JSON string holding its base64; callers
// that need the exact bytes use gRPC, where every payload travels as bytes.
import { isJson } from '@rotor/proto';
import type { api } from '@rotor/proto';
import type { ApiMethod } from './service.ts';

const encoder = new TextEncoder();

function safeBytes(b: Uint8Array | undefined): Uint8Array | undefined {
  if (b === undefined || b.length === 0 || isJson(b)) return b;
  return encoder.encode(JSON.stringify(Buffer.from(b.buffer, b.byteOffset, b.length).toString('base64')));
}

function safeInfo(info: api.ClientInfo | undefined): api.ClientInfo | undefined {
  if (info === undefined) return undefined;
  const connInfo = safeBytes(info.connInfo);
  const chanInfo = safeBytes(info.chanInfo);
  if (connInfo === info.connInfo && chanInfo === info.chanInfo) return info;
  return { ...info, connInfo, chanInfo };
}

function safeHistory(r: api.HistoryResult): api.HistoryResult {
  const pubs = r.publications;
  if (pubs === undefined) return r;
  return {
    ...r,
    publications: pubs.map((p) => {
      const data = safeBytes(p.data);
      const info = safeInfo(p.info);
      return data === p.data && info === p.info ? p : { ...p, data, info };
    }),
  };
}

function safePresence(r: api.PresenceResult): api.PresenceResult {
  const presence = r.presence;
  if (presence === undefined) return r;
  const out = Object.create(null) as Record<string, api.ClientInfo>;
  for (const k in presence) out[k] = safeInfo(presence[k])!;
  return { presence: out };
}

function safeRpc(r: api.RPCResult): api.RPCResult {
  const data = safeBytes(r.data);
  return data === r.data ? r : { data };
}

function safeReply(r: api.Reply): api.Reply {
  if (r.history) return { ...r, history: safeHistory(r.history) };
  if (r.presence) return { ...r, presence: safePresence(r.presence) };
  if (r.rpc) return { ...r, rpc: safeRpc(r.rpc) };
  return r;
}

/** The result of `method` with every raw-JSON bytes field made valid JSON (see the header). */
export function jsonSafeResult(method: ApiMethod, result: unknown): unknown {
  switch (method) {
    case 'history':
      return safeHistory(result as api.HistoryResult);
    case 'presence':
      return safePresence(result as api.PresenceResult);
    case 'rpc':
      return safeRpc(result as api.RPCResult);
    case 'batch': {
      const b = result as api.BatchResponse;
      return b.replies === undefined ? b : { replies: b.replies.map(safeReply) };
    }
    default:
      return result;
  }
}
