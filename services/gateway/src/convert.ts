// Conversions between core's domain types and the client-protocol messages.
import { isJson } from '@rotor/proto';
import type { ClientInfo, Publication } from '@rotor/core';
import type * as W from './wire-types.ts';

export function toWireInfo(info: ClientInfo): W.ClientInfo {
  const out: W.ClientInfo = { user: info.user, client: info.client };
  if (info.connInfo !== undefined) out.connInfo = info.connInfo;
  if (info.chanInfo !== undefined) out.chanInfo = info.chanInfo;
  return out;
}

export function toWirePublication(pub: Publication): W.Publication {
  const out: W.Publication = { data: pub.data };
  if (pub.info !== undefined) out.info = toWireInfo(pub.info);
  if (pub.offset > 0) out.offset = pub.offset;
  if (pub.tags !== undefined) out.tags = pub.tags;
  return out;
}

export function toWirePublications(pubs: readonly Publication[]): W.Publication[] {
  const out = new Array<W.Publication>(pubs.length);
  for (let i = 0; i < pubs.length; i++) out[i] = toWirePublication(pubs[i]!);
  return out;
}

/**
 * Whether every payload can be embedded in the JSON protocol. A JSON client cannot receive any
 * other payload (PROTOCOL.md §1.1: the server closes it with 3506 instead).
 */
export function allJson(pubs: readonly Publication[]): boolean {
  for (const p of pubs) if (!isJson(p.data)) return false;
  return true;
}
