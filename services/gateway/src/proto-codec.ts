// The GatewayCodec on top of @rotor/proto: frame decoding with the configured limits, reply
// encoding, and the encode-once push builders with each channel's name pre-encoded once.
//
// JSON clients can only receive JSON payloads (PROTOCOL.md §1.1). Publications come from any
// backend (b64data may carry binary), so the JSON push of a publication checks its payload once per
// publication — O(payload), never per subscriber — and throws for a non-JSON one; the hub then
// closes its JSON subscribers with 3506.
import { decodeCommands, encodeReply, isJson, joinFrame, joinPush, leavePush, pingFrame, prepareChannel, publicationPush } from '@rotor/proto';
import type { FrameLimits, PreparedChannel } from '@rotor/proto';
import type { ClientInfo, Publication } from '@rotor/core';
import type { DecodedFrame, GatewayCodec } from './codec.ts';
import { Format } from './hub.ts';
import type { Reply } from './wire-types.ts';

const names = ['json', 'protobuf'] as const;

export class NotJsonError extends Error {
  constructor() {
    super('publication payload is not valid JSON');
    this.name = 'NotJsonError';
  }
}

export function protoCodec(limits: FrameLimits): GatewayCodec {
  return {
    decodeCommands(frame: Uint8Array, format: Format): DecodedFrame {
      const r = decodeCommands(frame, names[format], limits);
      return r.ok ? r : { ok: false, error: `${r.error.kind}: ${r.error.message}` };
    },
    reply(reply: Reply, format: Format): Uint8Array {
      return encodeReply(reply, names[format]);
    },
    ping(format: Format): Uint8Array {
      return pingFrame(names[format]);
    },
    prepare(channel: string): PreparedChannel {
      return prepareChannel(channel);
    },
    publication(ch: unknown, pub: Publication, format: Format): Uint8Array {
      if (format === Format.json && !isJson(pub.data)) throw new NotJsonError();
      // Only the client-visible fields: core's publication also carries its acceptance time.
      const wire = pub.tags === undefined ? { data: pub.data, info: pub.info, offset: pub.offset } : { data: pub.data, info: pub.info, offset: pub.offset, tags: pub.tags };
      return publicationPush(ch as PreparedChannel, wire, names[format]);
    },
    join(ch: unknown, info: ClientInfo, format: Format): Uint8Array {
      return joinPush(ch as PreparedChannel, info, names[format]);
    },
    leave(ch: unknown, info: ClientInfo, format: Format): Uint8Array {
      return leavePush(ch as PreparedChannel, info, names[format]);
    },
    frame(parts: readonly Uint8Array[], format: Format): Uint8Array {
      return joinFrame(parts, names[format]);
    },
  };
}
