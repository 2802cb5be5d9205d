// Seeded pseudo-random numbers for tests, fuzzers and benchmarks: mulberry32, a 32-bit
// state generator that is deterministic, so a failing randomized case is reproducible from
// its seed. Not for anything secret (keys and nonces use node:crypto).

/** A generator of floats in [0, 1), seeded. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A generator of integers in [0, n), seeded. */
export function mulberry32Below(seed: number): (n: number) => number {
  const random = mulberry32(seed);
  return (n) => Math.floor(random() * n);
}
