// The twin of assembly/hash.ts: MurmurHash3 x86_32 over the 13 words of a key, with a seed.
// Math.imul and >>> 0 keep every step in 32-bit unsigned arithmetic, as in wasm.
const KEY_WORDS = 13;

function mixWord(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finish(h: number): number {
  h ^= KEY_WORDS * 4;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hash of the 13 words words[at .. at + 13). */
export function hashKey(words: Uint32Array, at: number, seed: number): number {
  let h = seed | 0;
  for (let i = 0; i < KEY_WORDS; i++) h = mixWord(h, words[at + i]!);
  return finish(h);
}

/** Hash of key AND mask, writing the masked key to out[0 .. 13). */
export function hashMasked(key: Uint32Array, keyAt: number, mask: Uint32Array, maskAt: number, out: Uint32Array, seed: number): number {
  let h = seed | 0;
  for (let i = 0; i < KEY_WORDS; i++) {
    const w = (key[keyAt + i]! & mask[maskAt + i]!) >>> 0;
    out[i] = w;
    h = mixWord(h, w);
  }
  return finish(h);
}

export function wordsEqual(a: Uint32Array, aAt: number, b: Uint32Array, bAt: number): boolean {
  for (let i = 0; i < KEY_WORDS; i++) if (a[aAt + i] !== b[bAt + i]) return false;
  return true;
}
