// Who subscribes to what and who publishes where, as pure arithmetic so every thread derives the
// same assignment from a few numbers (nothing per subscriber crosses a thread boundary).
//
// Subscriber s subscribes to K consecutive channels (s·K + i) mod C, i < K.
// Channels and publishers: with P ≥ C, channel c is fed by every publisher j with j mod C = c;
// with P < C, publisher j feeds every channel c with c mod P = j.

export interface FanoutShape {
  subscribers: number;
  channels: number;
  /** Channels per subscriber (K). */
  subChannels: number;
  publishers: number;
}

export function validateShape(s: FanoutShape): string | null {
  if (s.subscribers < 1 || s.channels < 1 || s.publishers < 1 || s.subChannels < 1) return 'subscribers, channels, publishers and channels per subscriber must be ≥ 1';
  if (s.subChannels > s.channels) return `a subscriber cannot take ${s.subChannels} distinct channels out of ${s.channels}`;
  if (s.subscribers * s.subChannels < s.channels) return `${s.subscribers} subscribers × ${s.subChannels} channels leave some of the ${s.channels} channels without a subscriber`;
  return null;
}

export function subscriberChannels(s: FanoutShape, sub: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.subChannels; i++) out.push((sub * s.subChannels + i) % s.channels);
  return out;
}

/** The slot (0..K-1) of `channel` in subscriber `sub`'s list, or -1 when it did not subscribe. */
export function channelSlot(s: FanoutShape, sub: number, channel: number): number {
  const first = (sub * s.subChannels) % s.channels;
  const slot = (channel - first + s.channels) % s.channels;
  return slot < s.subChannels ? slot : -1;
}

export function publisherChannels(s: FanoutShape, pub: number): number[] {
  if (s.publishers >= s.channels) return [pub % s.channels];
  const out: number[] = [];
  for (let c = pub; c < s.channels; c += s.publishers) out.push(c);
  return out;
}

/** Subscribers [from, to) handled by worker w of n (contiguous, sizes differ by at most one). */
export function workerRange(total: number, workers: number, w: number): { from: number; to: number } {
  const base = Math.floor(total / workers);
  const extra = total % workers;
  const from = w * base + Math.min(w, extra);
  return { from, to: from + base + (w < extra ? 1 : 0) };
}
