// Flow-key hashing, with a seed (0 for the exact-match table, tuple index + 1 for the wildcard
// tuples). hashKey/hashMasked: an NH-style sum of independent 32×32→64-bit products over the
// key's 13 words (Black et al., "UMAC", CRYPTO 1999, §3) finished by the MurmurHash3 64-bit
// finaliser: seven independent multiplies instead of a chain of thirteen, which matters on the
// per-packet path. The TypeScript twin hashes with 32-bit MurmurHash3 instead (no 64-bit
// multiply in JS numbers); nothing observable depends on the hash values (flow ids are entry
// indices, rule results do not depend on bucket positions), only on equality of keys.

// NH keys (odd 32-bit constants from the digits of pi and e)
const N0: u64 = 0x243f6a88, N1: u64 = 0x85a308d3, N2: u64 = 0x13198a2e, N3: u64 = 0x03707344;
const N4: u64 = 0xa4093822, N5: u64 = 0x299f31d0, N6: u64 = 0x082efa98, N7: u64 = 0xec4e6c89;
const N8: u64 = 0x452821e6, N9: u64 = 0x38d01377, N10: u64 = 0xbe5466cf, N11: u64 = 0x34e90c6c;
const N12: u64 = 0xc0ac29b7, N13: u64 = 0xc97c50dd;

@inline function nh(a: u64, ka: u64, kb: u64): u64 {
  return (((a & 0xffffffff) + ka) & 0xffffffff) * ((((a >> 32) + kb) & 0xffffffff));
}

@inline function fmix64(k: u64): u32 {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccd;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53;
  k ^= k >> 33;
  return k as u32;
}

@inline function nhKey(w0: u64, w1: u64, w2: u64, w3: u64, w4: u64, w5: u64, w6: u64, seed: u32): u32 {
  const s = (seed as u64) * 0x9e3779b97f4a7c15;
  const a = nh(w0 ^ s, N0, N1) + nh(w1, N2, N3) + nh(w2, N4, N5) + nh(w3, N6, N7);
  const b = nh(w4, N8, N9) + nh(w5, N10, N11) + nh(w6, N12, N13);
  return fmix64(a ^ rotl<u64>(b, 29) ^ s);
}

/** Hash of the key at p. */
export function hashKey(p: usize, seed: u32): u32 {
  return nhKey(load<u64>(p), load<u64>(p, 8), load<u64>(p, 16), load<u64>(p, 24), load<u64>(p, 32), load<u64>(p, 40), load<u32>(p, 48) as u64, seed);
}

/** Hash of (key at p) AND (mask at m), also writing the masked key to out. */
export function hashMasked(p: usize, m: usize, out: usize, seed: u32): u32 {
  const w0 = load<u64>(p) & load<u64>(m), w1 = load<u64>(p, 8) & load<u64>(m, 8);
  const w2 = load<u64>(p, 16) & load<u64>(m, 16), w3 = load<u64>(p, 24) & load<u64>(m, 24);
  const w4 = load<u64>(p, 32) & load<u64>(m, 32), w5 = load<u64>(p, 40) & load<u64>(m, 40);
  const w6 = (load<u32>(p, 48) & load<u32>(m, 48)) as u64;
  store<u64>(out, w0);
  store<u64>(out, w1, 8);
  store<u64>(out, w2, 16);
  store<u64>(out, w3, 24);
  store<u64>(out, w4, 32);
  store<u64>(out, w5, 40);
  store<u32>(out, w6 as u32, 48);
  return nhKey(w0, w1, w2, w3, w4, w5, w6, seed);
}

/** Key equality (13 words). */
@inline export function keyEquals(a: usize, b: usize): bool {
  return load<u64>(a) == load<u64>(b) && load<u64>(a, 8) == load<u64>(b, 8) && load<u64>(a, 16) == load<u64>(b, 16) &&
    load<u64>(a, 24) == load<u64>(b, 24) && load<u64>(a, 32) == load<u64>(b, 32) && load<u64>(a, 40) == load<u64>(b, 40) &&
    load<u32>(a, 48) == load<u32>(b, 48);
}
