// MemoryControlBus: the ControlBus contract (control-bus.ts) for a single node — the embedded mode.
// Commands are delivered to this node's handler asynchronously (a microtask after send, never
// inside it); nodes() and channels() report what the handler reports.
import type { ControlBus, ControlCommand, ControlHandler, NodeInfo } from './control-bus.ts';

export interface MemoryControlBusOptions {
  onHandlerError?: (err: unknown) => void;
}

export class MemoryControlBus implements ControlBus {
  readonly #onHandlerError: (err: unknown) => void;
  #handler: ControlHandler | null = null;
  #closed = false;

  constructor(options: MemoryControlBusOptions = {}) {
    this.#onHandlerError =
      options.onHandlerError ?? ((err) => console.error('MemoryControlBus: the control handler threw', err));
  }

  setHandler(handler: ControlHandler): void {
    this.#handler = handler;
  }

  send(cmd: ControlCommand): void {
    if (this.#closed) throw new Error('control bus is closed');
    queueMicrotask(() => {
      const h = this.#handler;
      if (h === null || this.#closed) return;
      try {
        h.onCommand(cmd);
      } catch (err) {
        this.#onHandlerError(err);
      }
    });
  }

  nodes(): Promise<NodeInfo[]> {
    const h = this.#handler;
    return Promise.resolve(h && !this.#closed ? [h.nodeInfo()] : []);
  }

  channels(): Promise<Map<string, number>> {
    const h = this.#handler;
    return Promise.resolve(h && !this.#closed ? new Map(h.channels()) : new Map());
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }
}
