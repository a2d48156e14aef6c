// Public surface of @rotor/proto (see proto/README.md for the API guide).

// Generated messages, one namespace per .proto file (names repeat across packages).
export * as client from './gen/client.ts';
export * as api from './gen/api.ts';
export * as cluster from './gen/cluster.ts';
export { CentrifugoApiMethods } from './gen/api.ts';

// Client-protocol frames: decode commands, encode replies (and the reverse for test clients).
export {
  decodeCommands,
  decodeReplies,
  encodeReply,
  encodeReplies,
  encodeCommand,
  encodeCommands,
  joinFrame,
  pingFrame,
  FrameBuilder,
  ProtocolErrorKind,
  DEFAULT_MAX_MESSAGES,
} from './frames.ts';
export type { ProtocolError, FrameLimits, CommandsResult, RepliesResult } from './frames.ts';

// Incremental decoding of byte streams (HTTP-streaming, test clients).
export { StreamDecoder } from './stream.ts';
export type { StreamResult, StreamDecoderOptions } from './stream.ts';

// Encode-once push builders for fan-out, and per-channel batching.
export {
  prepareChannel,
  publicationPush,
  joinPush,
  leavePush,
  encodePush,
  unsubscribePush,
  subscribePush,
  messagePush,
  disconnectPush,
  ChannelBatcher,
} from './push.ts';
export type { PreparedChannel, ChannelBatcherOptions } from './push.ts';

// Whole-message codecs for any generated type (server API bodies, gRPC, cluster messages).
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
export type { MethodDescriptor } from './wire/runtime.ts';
export { DecodeError, MAX_MESSAGE_DEPTH, MAX_RAW_JSON_DEPTH } from './wire/errors.ts';
export { isJson } from './wire/json-reader.ts';
// The raw protobuf writer, for hand-written encoders of foreign schemas (the API's OTLP exporter).
export { Writer } from './wire/writer.ts';

// grpc-js service definition from a generated service descriptor.
export { grpcServiceDefinition } from './grpc.ts';
export type { GrpcMethodDefinition, GrpcServiceDefinition } from './grpc.ts';
