// Groups (OpenFlow 1.3.5 §7.3.4.2 group-mod and struct ofp_bucket; §7.3.5.9 group stats,
// §7.3.5.10 group description, §7.3.5.11 group features), as wire layouts. Buckets carry
// their own length and a list of actions.
import { actionList, type Action } from './actions.js';
import { list, ownLength, pad, struct, tuple, u16, u32, u64, u8 } from './layout.js';

/** ofp_bucket */
export interface Bucket {
  weight: number;
  watchPort: number;
  watchGroup: number;
  actions: Action[];
}

export const BUCKET = struct<Bucket>('bucket', [ownLength, ['weight', u16], ['watchPort', u32], ['watchGroup', u32], pad(4), ['actions', actionList]]);
export const bucketList = list(BUCKET);

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

/** ofp_bucket_counter */
const BUCKET_COUNTER = struct<GroupStats['bucketStats'][number]>('bucket counter', [['packetCount', u64], ['byteCount', u64]]);

export const GROUP_STATS = struct<GroupStats>('group stats', [
  ownLength,
  pad(2),
  ['groupId', u32],
  ['refCount', u32],
  pad(4),
  ['packetCount', u64],
  ['byteCount', u64],
  ['durationSec', u32],
  ['durationNsec', u32],
  ['bucketStats', list(BUCKET_COUNTER)],
]);

/** ofp_group_desc (§7.3.5.10) */
export interface GroupDesc {
  groupType: number;
  groupId: number;
  buckets: Bucket[];
}

export const GROUP_DESC = struct<GroupDesc>('group desc', [ownLength, ['groupType', u8], pad(1), ['groupId', u32], ['buckets', bucketList]]);

/** ofp_group_features (§7.3.5.11): per group type (all, select, indirect, ff) */
export interface GroupFeatures {
  types: number;
  capabilities: number;
  maxGroups: [number, number, number, number];
  actions: [number, number, number, number];
}

export const GROUP_FEATURES = struct<GroupFeatures>('group features', [
  ['types', u32],
  ['capabilities', u32],
  ['maxGroups', tuple(4, u32)],
  ['actions', tuple(4, u32)],
]);
