// The codec operations the gateway needs from @rotor/proto, as one injected object: the session
// decodes command frames and encodes replies through it, the hub builds pushes through it. The
// binding to @rotor/proto lives in proto-codec.ts; unit tests may pass a fake.
import type { Format, HubEncoder } from './hub.ts';
import type { Command, Reply } from './wire-types.ts';

export type DecodedFrame = { ok: true; commands: Command[] } | { ok: false; error: string };

export interface GatewayCodec extends HubEncoder {
  /** All commands of one inbound frame; malformed input is a value, never a throw. */
  decodeCommands(frame: Uint8Array, format: Format): DecodedFrame;
  /** One reply as a message of a frame (protobuf: length-delimited). */
  reply(reply: Reply, format: Format): Uint8Array;
  /** The server ping: an empty reply, framed on its own. */
  ping(format: Format): Uint8Array;
}
