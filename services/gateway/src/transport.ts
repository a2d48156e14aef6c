// SessionSocket: what a Session writes its output through. uWebSockets' own WebSocket satisfies it
// as it is (the hot path calls the native methods directly, no wrapper); the emulated transports
// (HTTP-streaming, SSE: emulation/stream.ts) implement it in JavaScript over a streaming HTTP
// response. A gateway without emulated connections only ever sees the native shape at these call
// sites, so their inline caches stay monomorphic.
export interface SessionSocket {
  /**
   * Writes one frame (JSON: messages joined by '\n'; protobuf: varint-delimited messages). Returns
   * 1 when written, 0 when it was buffered behind backpressure, 2 when it was dropped.
   */
  send(frame: Uint8Array, isBinary: boolean, compress: boolean): number;
  /** Runs `cb` with the writes it makes coalesced into one I/O operation. */
  cork(cb: () => void): unknown;
  /** Bytes written but not yet handed to the kernel (an upper bound on emulated transports). */
  getBufferedAmount(): number;
  /**
   * Ends the connection with a disconnect (WebSocket: close frame; emulated: disconnect push, then
   * the end of the stream). Runs the session's `onClose` synchronously.
   */
  end(code: number, reason: string | Uint8Array): unknown;
  /** Joins a fan-out topic of the hub (uWS native topics, or the emulated topic table). */
  subscribe(topic: string): unknown;
  unsubscribe(topic: string): unknown;
}
