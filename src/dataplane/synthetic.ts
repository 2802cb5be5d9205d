// Synthetic traffic for benchmarks and tests: well-formed Ethernet/IPv4/UDP and
// Ethernet/IPv6/UDP frames for flow number i (distinct 5-tuples), and a small seeded PRNG.
// The IPv4 header checksum is correct so that rewrites can be checked.

/** xorshift32: deterministic, seedable, allocation-free. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  /** integer in [0, n) */
  below(n: number): number {
    return Math.floor((this.next() / 4294967296) * n);
  }
}

export interface SyntheticFlow {
  /** IPv6 instead of IPv4 */
  v6?: boolean;
  dscp?: number;
  flowLabel?: number;
  vlan?: number;
  payload?: number;
}

/** Source address, destination address and ports of flow i (distinct for i < 2^32). */
export function flowTuple(i: number): { src: number; dst: number; sport: number; dport: number } {
  return { src: (0x0a000000 | (i & 0xffffff)) >>> 0, dst: (0xc0a80000 | ((i >>> 24) & 0xff)) >>> 0, sport: 1024 + (i % 50000), dport: 5000 + (i % 7) };
}

export function udpFrame(i: number, opts: SyntheticFlow = {}): Uint8Array {
  const t = flowTuple(i);
  const payload = opts.payload ?? 18;
  const l2 = opts.vlan !== undefined ? 18 : 14;
  const l3 = opts.v6 ? 40 : 20;
  const f = new Uint8Array(l2 + l3 + 8 + payload);
  const dv = new DataView(f.buffer);
  f.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]);
  let o = 12;
  if (opts.vlan !== undefined) {
    dv.setUint16(o, 0x8100);
    dv.setUint16(o + 2, opts.vlan & 0xfff);
    o += 4;
  }
  dv.setUint16(o, opts.v6 ? 0x86dd : 0x0800);
  o += 2;
  const dscp = opts.dscp ?? 0;
  if (opts.v6) {
    dv.setUint32(o, (6 << 28) | ((dscp << 2) << 20) | ((opts.flowLabel ?? i) & 0xfffff));
    dv.setUint16(o + 4, 8 + payload);
    f[o + 6] = 17;
    f[o + 7] = 64;
    dv.setUint32(o + 8, 0x20010db8);
    dv.setUint32(o + 20, t.src);
    dv.setUint32(o + 24, 0x20010db8);
    dv.setUint32(o + 36, t.dst);
  } else {
    f[o] = 0x45;
    f[o + 1] = dscp << 2;
    dv.setUint16(o + 2, 20 + 8 + payload);
    f[o + 8] = 64;
    f[o + 9] = 17;
    dv.setUint32(o + 12, t.src);
    dv.setUint32(o + 16, t.dst);
    let sum = 0;
    for (let k = 0; k < 20; k += 2) sum += dv.getUint16(o + k);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    dv.setUint16(o + 10, ~sum & 0xffff);
  }
  o += l3;
  dv.setUint16(o, t.sport);
  dv.setUint16(o + 2, t.dport);
  dv.setUint16(o + 4, 8 + payload);
  return f;
}

/** IPv4 text of a 32-bit address. */
export function ipv4Text(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}
