// The switch's group table (OpenFlow Switch Specification 1.3.5 §5.6 "Group Table", §6.5
// group-mod semantics, §7.3.4.2 ofp_group_mod): groups of type all, select and indirect with
// their buckets, counters and the checks a group-mod gets, with the errors §7.4.4 names.
// Fast failover needs bucket liveness the switch does not track, and groups that forward to
// groups are not supported: both are refused with their error codes, and the group features
// (§7.3.5.11) say so. A select group picks a bucket by a hash of the flow's fields in
// proportion to the bucket weights; assembly/switch/fields.ts fieldHash is the same hash.
import { OFPGC, OFPGMFC, OFPGT, OFPG, type Bucket, type GroupDesc, type GroupFeatures, type GroupModMessage } from '../openflow/codec/index.js';
import { F_ETH_DST, F_IP_DSCP, F_IP_ECN, F_METADATA } from './fields.js';

/** Buckets per group (layout.ts SW_MAX_BUCKETS). */
export const MAX_BUCKETS = 16;
/** Groups per switch. */
export const MAX_GROUPS = 4096;
const OFPET_GROUP_MOD_FAILED = 6;

export interface GroupBucket<O> {
  bucket: Bucket;
  ops: O[];
  packets: number;
  bytes: number;
}

export interface Group<O> {
  id: number;
  type: number;
  buckets: GroupBucket<O>[];
  totalWeight: number;
  packets: number;
  bytes: number;
  createdAt: number;
}

export interface GroupError {
  errorType: number;
  code: number;
  reason: string;
}

const groupError = (code: number, reason: string): GroupError => ({ errorType: OFPET_GROUP_MOD_FAILED, code, reason });

/**
 * Checks a group-mod's command, id, type and bucket count (the checks that do not need the
 * actions compiled); undefined when it may proceed.
 */
export function checkGroupMod(msg: GroupModMessage, groups: ReadonlyMap<number, unknown>): GroupError | undefined {
  if (msg.command !== OFPGC.ADD && msg.command !== OFPGC.MODIFY && msg.command !== OFPGC.DELETE) return groupError(OFPGMFC.BAD_COMMAND, `command ${msg.command}`);
  if (msg.command === OFPGC.DELETE) return msg.groupId === OFPG.ALL || msg.groupId <= OFPG.MAX ? undefined : groupError(OFPGMFC.INVALID_GROUP, `group ${msg.groupId}`);
  if (msg.groupId > OFPG.MAX) return groupError(OFPGMFC.INVALID_GROUP, `group ${msg.groupId} is reserved`);
  if (msg.groupType === OFPGT.FF) return groupError(OFPGMFC.BAD_TYPE, 'fast-failover groups are not supported (no bucket liveness)');
  if (msg.groupType !== OFPGT.ALL && msg.groupType !== OFPGT.SELECT && msg.groupType !== OFPGT.INDIRECT) return groupError(OFPGMFC.BAD_TYPE, `group type ${msg.groupType}`);
  if (msg.buckets.length > MAX_BUCKETS) return groupError(OFPGMFC.OUT_OF_BUCKETS, `at most ${MAX_BUCKETS} buckets`);
  if (msg.groupType === OFPGT.INDIRECT && msg.buckets.length !== 1) return groupError(OFPGMFC.INVALID_GROUP, 'an indirect group has exactly one bucket');
  for (const b of msg.buckets) {
    if (b.actions.some((a) => a.type === 'group')) return groupError(OFPGMFC.CHAINING_UNSUPPORTED, 'groups that forward to groups are not supported');
  }
  const exists = groups.has(msg.groupId);
  if (msg.command === OFPGC.ADD && exists) return groupError(OFPGMFC.GROUP_EXISTS, `group ${msg.groupId} exists`);
  if (msg.command === OFPGC.MODIFY && !exists) return groupError(OFPGMFC.UNKNOWN_GROUP, `no group ${msg.groupId}`);
  if (msg.command === OFPGC.ADD && groups.size >= MAX_GROUPS) return groupError(OFPGMFC.OUT_OF_GROUPS, `all ${MAX_GROUPS} groups are in use`);
  return undefined;
}

/** Builds the group a checked add / modify describes (counters of a modified group carry over). */
export function makeGroup<O>(msg: GroupModMessage, ops: O[][], old: Group<O> | undefined, nowMs: number): Group<O> {
  const buckets = msg.buckets.map((bucket, i) => ({ bucket, ops: ops[i]!, packets: 0, bytes: 0 }));
  return {
    id: msg.groupId,
    type: msg.groupType,
    buckets,
    totalWeight: msg.groupType === OFPGT.SELECT ? msg.buckets.reduce((s, b) => s + b.weight, 0) : 0,
    packets: old?.packets ?? 0,
    bytes: old?.bytes ?? 0,
    createdAt: old?.createdAt ?? nowMs,
  };
}

/** The bucket a packet with these fields takes: all buckets (all), one (select, indirect), or none. */
export function selectBucket<O>(g: Group<O>, fields: Uint8Array): GroupBucket<O> | undefined {
  if (g.type === OFPGT.INDIRECT) return g.buckets[0];
  if (g.totalWeight === 0) return undefined;
  let pick = fieldHash(fields) % g.totalWeight;
  for (const b of g.buckets) {
    if (pick < b.bucket.weight) return b;
    pick -= b.bucket.weight;
  }
  return undefined;
}

/** FNV-1a over the fields that name a flow: not in_port, DSCP / ECN or metadata. */
export function fieldHash(fields: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = F_ETH_DST; i < F_METADATA; i++) {
    if (i === F_IP_DSCP || i === F_IP_ECN) continue;
    h = Math.imul(h ^ fields[i]!, 16777619) >>> 0;
  }
  return h;
}

export function groupDesc<O>(g: Group<O>): GroupDesc {
  return { groupType: g.type, groupId: g.id, buckets: g.buckets.map((b) => b.bucket) };
}

/** What the group table supports (§7.3.5.11): all, select and indirect; select by weight. */
export function groupFeatures(actionBits: number): GroupFeatures {
  const OFPGFC_SELECT_WEIGHT = 1;
  return {
    types: (1 << OFPGT.ALL) | (1 << OFPGT.SELECT) | (1 << OFPGT.INDIRECT),
    capabilities: OFPGFC_SELECT_WEIGHT,
    maxGroups: [MAX_GROUPS, MAX_GROUPS, MAX_GROUPS, 0],
    actions: [actionBits, actionBits, actionBits, 0],
  };
}
