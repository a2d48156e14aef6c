// A growable ring buffer with O(1) push/shift at both ends and O(1) indexed access. Used where an
// array with `shift()` would move every element (history streams, live buffers).

export class Deque<T> {
  #buf: Array<T | undefined>;
  #head = 0;
  #length = 0;

  constructor(initialCapacity = 8) {
    let cap = 1;
    while (cap < initialCapacity) cap <<= 1;
    this.#buf = new Array<T | undefined>(cap);
  }

  get length(): number {
    return this.#length;
  }

  push(item: T): void {
    if (this.#length === this.#buf.length) this.#grow();
    this.#buf[(this.#head + this.#length) & (this.#buf.length - 1)] = item;
    this.#length++;
  }

  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#buf[this.#head];
    this.#buf[this.#head] = undefined;
    this.#head = (this.#head + 1) & (this.#buf.length - 1);
    this.#length--;
    return item;
  }

  /** Item at position `i` from the front (0 = oldest), or undefined when out of range. */
  at(i: number): T | undefined {
    if (i < 0 || i >= this.#length) return undefined;
    return this.#buf[(this.#head + i) & (this.#buf.length - 1)];
  }

  first(): T | undefined {
    return this.at(0);
  }

  last(): T | undefined {
    return this.at(this.#length - 1);
  }

  clear(): void {
    this.#buf = new Array<T | undefined>(8);
    this.#head = 0;
    this.#length = 0;
  }

  /** Shrinks the backing array when it is mostly empty, so a burst does not pin memory forever. */
  compact(): void {
    if (this.#buf.length <= 8 || this.#length * 4 > this.#buf.length) return;
    let cap = 8;
    while (cap < this.#length * 2) cap <<= 1;
    this.#rebuild(cap);
  }

  #grow(): void {
    this.#rebuild(this.#buf.length * 2);
  }

  #rebuild(cap: number): void {
    const next = new Array<T | undefined>(cap);
    for (let i = 0; i < this.#length; i++) next[i] = this.#buf[(this.#head + i) & (this.#buf.length - 1)];
    this.#buf = next;
    this.#head = 0;
  }
}
