// Channel → history shard: FNV-1a (32-bit) over the UTF-8 bytes of the channel name, modulo the
// shard count. Stable across processes, versions and platforms (no seed, no runtime hash), so every
// api and gateway node routes a channel to the same shard as long as the shard count is the same.
// Changing the shard count moves channels; their streams then start new epochs on the new owner
// (clients are told `recovered: false` once), which is why the count is a deployment setting.
//
// A lone surrogate in a JS string is encoded as U+FFFD here (TextEncoder); that may put two
// different channels on the same shard, which is harmless: the hash only spreads load.
const encoder = new TextEncoder();

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a 32-bit of a channel name's UTF-8 bytes, as an unsigned integer. */
export function channelHash(channel: string): number {
  let h = FNV_OFFSET;
  let ascii = true;
  for (let i = 0; i < channel.length; i++) {
    if (channel.charCodeAt(i) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    for (let i = 0; i < channel.length; i++) {
      h = Math.imul(h ^ channel.charCodeAt(i), FNV_PRIME);
    }
  } else {
    for (const b of encoder.encode(channel)) {
      h = Math.imul(h ^ b, FNV_PRIME);
    }
  }
  return h >>> 0;
}

/** The shard (0 … shards-1) that owns `channel`. */
export function shardOf(channel: string, shards: number): number {
  if (!Number.isInteger(shards) || shards < 1) throw new RangeError(`invalid shard count ${shards}`);
  return channelHash(channel) % shards;
}
