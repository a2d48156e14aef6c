// Small-buffer allocation. Creating a Uint8Array costs ~350 ns in Node 20 (each one gets its own
// ArrayBuffer), more than encoding a whole publication push; a view into a shared slab costs
// ~25 ns. Encoders therefore return outputs of up to MAX_POOLED bytes as views into a 16 KiB slab,
// the way Buffer.allocUnsafe pools (8 KiB) in Node itself. A slab is never written again once its
// space is handed out, so views stay valid; the cost is that keeping one small output alive keeps
// its slab alive. Code that stores many encoded messages for a long time should copy them
// (`bytes.slice()`).
const SLAB_SIZE = 16 * 1024;
const MAX_POOLED = 2048;

let slab = new Uint8Array(SLAB_SIZE);
let slabPos = 0;

/** n fresh bytes (contents unspecified; callers overwrite them all). */
export function allocBytes(n: number): Uint8Array {
  if (n > MAX_POOLED) return new Uint8Array(n);
  if (slabPos + n > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    slabPos = 0;
  }
  const v = slab.subarray(slabPos, slabPos + n);
  slabPos = (slabPos + n + 7) & ~7;
  return v;
}

/** A copy of src[start, end) in pooled memory. */
export function copyBytes(src: Uint8Array, start = 0, end = src.length): Uint8Array {
  const out = allocBytes(end - start);
  out.set(src.subarray(start, end));
  return out;
}
