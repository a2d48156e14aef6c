// Public surface of @rotor/proto (see proto/README.md).
export * as client from './gen/client.ts';
export * as api from './gen/api.ts';
export {
  encodeBinary,
  encodeDelimited,
  encodeJson,
  encodeMessage,
  decodeBinary,
  decodeJson,
  decodeMessage,
  tryDecodeMessage,
} from './wire/message.ts';
export type { Format, MessageType, DecodeResult } from './wire/message.ts';
export { DecodeError } from './wire/errors.ts';
export { isJson } from './wire/json-reader.ts';
