// Groups (OpenFlow 1.3.5 §7.3.4.2 group-mod and ofp_bucket; §7.3.5.9 group stats,
// §7.3.5.10 group description, §7.3.5.11 group features). Buckets carry their own length
// and a list of actions.
import { OfpEncodeError, Reader, Writer, checkUint, checkUint64 } from './buffer.js';
import { decodeActions, encodeActions, type Action } from './actions.js';

/** ofp_bucket */
export interface Bucket {
  weight: number;
  watchPort: number;
  watchGroup: number;
  actions: Action[];
}

export function decodeBucket(r: Reader): Bucket {
  const start = r.pos;
  r.need(16, 'bucket header');
  const len = r.u16();
  if (len < 16) r.fail(`bucket length ${len} < 16`, start);
  r.pos = start;
  return r.within(len, 'bucket', () => {
    r.pos += 2;
    const weight = r.u16();
    const watchPort = r.u32();
    const watchGroup = r.u32();
    r.skip(4);
    const actions = decodeActions(r, r.remaining());
    return { weight, watchPort, watchGroup, actions };
  });
}

export function decodeBuckets(r: Reader): Bucket[] {
  const out: Bucket[] = [];
  while (r.pos < r.end) out.push(decodeBucket(r));
  return out;
}

export function encodeBucket(w: Writer, b: Bucket, path: string): void {
  if (b === null || typeof b !== 'object') throw new OfpEncodeError(path, 'expected a bucket object');
  const start = w.pos;
  w.u16(0);
  w.u16(checkUint(b.weight, 16, path, 'weight'));
  w.u32(checkUint(b.watchPort, 32, path, 'watchPort'));
  w.u32(checkUint(b.watchGroup, 32, path, 'watchGroup'));
  w.zeros(4);
  encodeActions(w, b.actions, `${path}.actions`);
  const len = w.pos - start;
  if (len > 0xffff) throw new OfpEncodeError(path, 'bucket too long');
  w.patch16(start, len);
}

export function encodeBuckets(w: Writer, buckets: readonly Bucket[], path: string): void {
  if (!Array.isArray(buckets)) throw new OfpEncodeError(path, 'expected a list of buckets');
  for (let i = 0; i < buckets.length; i++) encodeBucket(w, buckets[i]!, `${path}[${i}]`);
}

/** ofp_group_stats (§7.3.5.9) */
export interface GroupStats {
  groupId: number;
  refCount: number;
  packetCount: bigint;
  byteCount: bigint;
  durationSec: number;
  durationNsec: number;
  bucketStats: { packetCount: bigint; byteCount: bigint }[];
}

export function decodeGroupStats(r: Reader): GroupStats {
  const start = r.pos;
  r.need(40, 'group stats');
  const length = r.u16();
  if (length < 40) r.fail(`group stats length ${length} < 40`, start);
  r.pos = start;
  return r.within(length, 'group stats', () => {
    r.pos += 4;
    const groupId = r.u32();
    const refCount = r.u32();
    r.skip(4);
    const packetCount = r.u64();
    const byteCount = r.u64();
    const durationSec = r.u32();
    const durationNsec = r.u32();
    const bucketStats: GroupStats['bucketStats'] = [];
    while (r.pos < r.end) bucketStats.push({ packetCount: r.u64(), byteCount: r.u64() });
    return { groupId, refCount, packetCount, byteCount, durationSec, durationNsec, bucketStats };
  });
}

export function encodeGroupStats(w: Writer, s: GroupStats, path: string): void {
  if (s === null || typeof s !== 'object') throw new OfpEncodeError(path, 'expected a group stats object');
  const start = w.pos;
  w.u16(0);
  w.zeros(2);
  w.u32(checkUint(s.groupId, 32, path, 'groupId'));
  w.u32(checkUint(s.refCount, 32, path, 'refCount'));
  w.zeros(4);
  w.u64(checkUint64(s.packetCount, path, 'packetCount'));
  w.u64(checkUint64(s.byteCount, path, 'byteCount'));
  w.u32(checkUint(s.durationSec, 32, path, 'durationSec'));
  w.u32(checkUint(s.durationNsec, 32, path, 'durationNsec'));
  if (!Array.isArray(s.bucketStats)) throw new OfpEncodeError(`${path}.bucketStats`, 'expected a list');
  s.bucketStats.forEach((b, i) => {
    if (b === null || typeof b !== 'object') throw new OfpEncodeError(`${path}.bucketStats[${i}]`, 'expected an object');
    w.u64(checkUint64(b.packetCount, `${path}.bucketStats[${i}].packetCount`));
    w.u64(checkUint64(b.byteCount, `${path}.bucketStats[${i}].byteCount`));
  });
  w.patch16(start, w.pos - start);
}

/** ofp_group_desc (§7.3.5.10) */
export interface GroupDesc {
  groupType: number;
  groupId: number;
  buckets: Bucket[];
}

export function decodeGroupDesc(r: Reader): GroupDesc {
  const start = r.pos;
  r.need(8, 'group desc');
  const length = r.u16();
  if (length < 8) r.fail(`group desc length ${length} < 8`, start);
  r.pos = start;
  return r.within(length, 'group desc', () => {
    r.pos += 2;
    const groupType = r.u8();
    r.skip(1);
    const groupId = r.u32();
    return { groupType, groupId, buckets: decodeBuckets(r) };
  });
}

export function encodeGroupDesc(w: Writer, d: GroupDesc, path: string): void {
  if (d === null || typeof d !== 'object') throw new OfpEncodeError(path, 'expected a group desc object');
  const start = w.pos;
  w.u16(0);
  w.u8(checkUint(d.groupType, 8, path, 'groupType'));
  w.zeros(1);
  w.u32(checkUint(d.groupId, 32, path, 'groupId'));
  encodeBuckets(w, d.buckets, `${path}.buckets`);
  w.patch16(start, w.pos - start);
}

/** ofp_group_features (§7.3.5.11): per group type (all, select, indirect, ff) */
export interface GroupFeatures {
  types: number;
  capabilities: number;
  maxGroups: [number, number, number, number];
  actions: [number, number, number, number];
}

export function decodeGroupFeatures(r: Reader): GroupFeatures {
  r.need(40, 'group features');
  const types = r.u32();
  const capabilities = r.u32();
  const maxGroups: GroupFeatures['maxGroups'] = [r.u32(), r.u32(), r.u32(), r.u32()];
  const actions: GroupFeatures['actions'] = [r.u32(), r.u32(), r.u32(), r.u32()];
  return { types, capabilities, maxGroups, actions };
}

export function encodeGroupFeatures(w: Writer, f: GroupFeatures, path: string): void {
  w.u32(checkUint(f.types, 32, path, 'types'));
  w.u32(checkUint(f.capabilities, 32, path, 'capabilities'));
  for (const key of ['maxGroups', 'actions'] as const) {
    const list = f[key];
    if (!Array.isArray(list) || list.length !== 4) throw new OfpEncodeError(`${path}.${key}`, 'expected 4 numbers');
    list.forEach((v, i) => w.u32(checkUint(v, 32, `${path}.${key}[${i}]`)));
  }
}
