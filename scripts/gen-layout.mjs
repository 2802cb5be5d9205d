#!/usr/bin/env node
// Generates the two copies of the data plane's memory layout from the one table below:
// assembly/layout.ts (AssemblyScript, typed constants) and src/dataplane/layout.ts
// (TypeScript). Every record the host and the wasm module share (batch descriptors, verdicts,
// flow keys and entries, rules, the region table, the meter and class staging records) and
// the codes they carry are defined here once; docs/dataplane.md draws the same tables.
// `npm run build:wasm` runs it before asc; `node scripts/gen-layout.mjs --check` exits 1 when
// a generated file differs from what the table says (test/dataplane/layout.test.ts runs it).
// Change a record here, run the build, and bump ABI_VERSION.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Sections of [name, value, AssemblyScript type, comment?]. Values are kept as written (hex
 * stays hex) and must be integer literals; the TypeScript copy drops the types.
 */
const TABLE = [
  {
    comment: ['Version of the host ↔ wasm interface: the Engine refuses a module with another.'],
    rows: [
      ['ABI_VERSION', '3', 'u32'],
      ['MAX_BATCH', '1024', 'u32'],
    ],
  },
  {
    comment: ['Flow key (52 bytes = 13 little-endian u32 words). Numbers in host order, addresses raw.'],
    rows: [
      ['KEY_BYTES', '52', 'u32'],
      ['KEY_WORDS', '13', 'u32'],
      ['K_IN_PORT', '0', 'u32', 'u32'],
      ['K_VLAN_OUTER', '4', 'u32', 'u16: VID | 0x1000 when a tag is present'],
      ['K_VLAN_INNER', '6', 'u32', 'u16: same, second tag'],
      ['K_ETHERTYPE', '8', 'u32', 'u16: after the VLAN tags'],
      ['K_PROTO', '10', 'u32', 'u8: the upper-layer protocol (IPv4 protocol or IPv6 next header, after any AH)'],
      ['K_TOS', '11', 'u32', 'u8: DSCP << 2 | ECN (IPv4 TOS / IPv6 traffic class)'],
      ['K_SPORT', '12', 'u32', 'u16: TCP/UDP source port; ICMP type'],
      ['K_DPORT', '14', 'u32', 'u16: TCP/UDP destination port; ICMP code'],
      ['K_FLOW_LABEL', '16', 'u32', 'u32: IPv6 flow label (20 bits)'],
      ['K_SRC', '20', 'u32', '16 bytes: IPv4 in the first 4, or IPv6'],
      ['K_DST', '36', 'u32', '16 bytes'],
    ],
  },
  {
    comment: ['Batch descriptor, written by the host (24 bytes).'],
    rows: [
      ['DESC_BYTES', '24', 'u32'],
      ['D_OFFSET', '0', 'u32', 'u32: frame offset inside the input buffer'],
      ['D_LENGTH', '4', 'u32', 'u32: frame length in bytes'],
      ['D_TIME', '8', 'u32', 'u64: timestamp, ns'],
      ['D_IN_PORT', '16', 'u32', 'u32: ingress port'],
    ],
  },
  {
    comment: ['Verdict, written by the module (16 bytes).'],
    rows: [
      ['VERDICT_BYTES', '16', 'u32'],
      ['V_ACTION', '0', 'u32', 'u8: ACT_*'],
      ['V_COLOR', '1', 'u32', 'u8: 0 green, 1 yellow, 2 red'],
      ['V_REASON', '2', 'u32', 'u8: R_*'],
      ['V_DSCP', '3', 'u32', 'u8: DSCP of the frame as it leaves'],
      ['V_QUEUE', '4', 'u32', 'u16'],
      ['V_CLASS', '6', 'u32', 'u8: service class the bytes were accounted to'],
      ['V_FLAGS', '7', 'u32', 'u8: VF_*'],
      ['V_FLOW', '8', 'u32', 'i32: flow id (entry index), -1 if untracked'],
      ['V_RULE', '12', 'u32', 'i32: wildcard rule id, -1 none / exact flow'],
    ],
  },
  {
    rows: [
      ['ACT_FORWARD', '0', 'u8'],
      ['ACT_DOWNGRADE', '1', 'u8', 'yellow: forwarded as best effort'],
      ['ACT_DROP', '2', 'u8'],
    ],
  },
  {
    rows: [
      ['VF_NEW_FLOW', '1', 'u8'],
      ['VF_REWRITTEN', '2', 'u8', 'DSCP / traffic class rewritten in the frame'],
      ['VF_UNTRACKED', '4', 'u8', 'flow table full: no per-flow accounting'],
      ['VF_CACHE_HIT', '8', 'u8', 'the exact-match entry held a valid decision'],
    ],
  },
  {
    comment: ['Reason codes: 0 is a parsed frame; the rest are drops, counted per code.'],
    rows: [
      ['R_OK', '0', 'u8'],
      ['R_BAD_DESCRIPTOR', '1', 'u8', 'offset/length outside the input buffer'],
      ['R_TRUNC_ETH', '2', 'u8'],
      ['R_NOT_ETHERNET_II', '3', 'u8', '802.3 length field'],
      ['R_TRUNC_VLAN', '4', 'u8'],
      ['R_TOO_MANY_TAGS', '5', 'u8'],
      ['R_TRUNC_IPV4', '6', 'u8'],
      ['R_BAD_IPV4', '7', 'u8'],
      ['R_TRUNC_IPV6', '8', 'u8'],
      ['R_BAD_IPV6', '9', 'u8'],
      ['R_TRUNC_EXT', '10', 'u8'],
      ['R_BAD_EXT', '11', 'u8'],
      ['R_TRUNC_L4', '12', 'u8'],
      ['R_BAD_L4', '13', 'u8'],
      ['R_TRUNC_PAYLOAD', '14', 'u8', 'IP length says more than the frame holds'],
      ['REASON_COUNT', '16', 'u32'],
    ],
  },
  {
    comment: [
      'Exact-match flow entry (128 bytes: two cache lines, the key and decision words in the first',
      'and last 8 bytes, the counters between). The cached decision is packed into 8 bytes.',
    ],
    rows: [
      ['ENTRY_BYTES', '128', 'u32'],
      ['E_KEY', '0', 'u32', '52 bytes'],
      ['E_GEN', '52', 'u32', 'u32: rule generation of the cached decision; next free when unused'],
      ['E_LAST_SEEN', '56', 'u32', 'u64 ns'],
      ['E_PACKETS', '64', 'u32', '3 × u64 by colour'],
      ['E_BYTES', '88', 'u32', '3 × u64 by colour'],
      ['E_CHARGE', '112', 'u32', 'f64 currency units'],
      ['E_METER_QUEUE', '120', 'u32', 'u32: meter id + 1 in bits 0..23 (0 = none), queue in bits 24..31'],
      ['E_RULE', '124', 'u32', 'u16: rule id + 1 (0 = none)'],
      ['E_CLASS', '126', 'u32', 'u8: class in bits 0..5 | EB_DROP | EB_PINNED'],
      ['E_DSCP', '127', 'u32', 'u8: DSCP in bits 0..5 | EB_KEEP | EB_USED'],
      ['EB_DROP', '0x40', 'u32', 'the action is drop'],
      ['EB_PINNED', '0x80', 'u32', 'inserted by the host with its own action: rules never override it'],
      ['EB_KEEP', '0x40', 'u32', 'leave the DSCP as it is'],
      ['EB_USED', '0x80', 'u32'],
      ['MAX_RULES', '65535', 'u32', 'rule ids fit the 16-bit field'],
      ['MAX_METERS', '0xffffff', 'u32', 'meter ids fit the 24-bit field'],
    ],
  },
  {
    comment: ['Rule action (what a rule or a pinned flow says; the colour then decides the verdict).'],
    rows: [
      ['RA_FORWARD', '0', 'u8'],
      ['RA_DROP', '2', 'u8'],
      ['DSCP_KEEP', '0xff', 'u8'],
    ],
  },
  {
    comment: ['Wildcard rule record (136 bytes). The host writes one into the rule staging area, then calls ruleStore.'],
    rows: [
      ['RULE_BYTES', '136', 'u32'],
      ['RL_VALUE', '0', 'u32', 'key, 52 bytes'],
      ['RL_MASK', '52', 'u32', 'key mask, 52 bytes (ports: set by ruleStore from the ranges)'],
      ['RL_PRIORITY', '104', 'u32', 'i32, higher wins; ties: lower id wins'],
      ['RL_SPORT_LO', '108', 'u32', 'u16'],
      ['RL_SPORT_HI', '110', 'u32'],
      ['RL_DPORT_LO', '112', 'u32'],
      ['RL_DPORT_HI', '114', 'u32'],
      ['RL_ACTION', '116', 'u32', 'u8 RA_*'],
      ['RL_CLASS', '117', 'u32', 'u8'],
      ['RL_DSCP', '118', 'u32', 'u8'],
      ['RL_QUEUE', '119', 'u32', 'u8'],
      ['RL_METER', '120', 'u32', 'i32'],
      ['RL_NEXT', '124', 'u32', 'i32: next rule in the same bucket (priority order)'],
      ['RL_TUPLE', '128', 'u32', 'i32'],
      ['RL_ACTIVE', '132', 'u32', 'u32'],
    ],
  },
  {
    rows: [
      ['TUPLE_BYTES', '64', 'u32'],
      ['T_MASK', '0', 'u32', '52 bytes'],
      ['T_MAX_PRI', '52', 'u32', 'i32'],
    ],
  },
  {
    comment: ['Counters (u64 each).'],
    rows: [
      ['C_PACKETS', '0', 'u32'],
      ['C_BYTES', '1', 'u32'],
      ['C_FLOWS_INSERTED', '2', 'u32'],
      ['C_FLOWS_EXPIRED', '3', 'u32'],
      ['C_TABLE_FULL', '4', 'u32'],
      ['C_CACHE_HITS', '5', 'u32'],
      ['C_CACHE_MISSES', '6', 'u32'],
      ['C_REWRITES', '7', 'u32'],
      ['C_ACTION', '8', 'u32', '3 counters by verdict action'],
      ['C_COLOR', '11', 'u32', '3 counters by colour'],
      ['C_REASON', '14', 'u32', 'REASON_COUNT counters'],
      ['COUNTER_COUNT', '30', 'u32'],
    ],
  },
  {
    comment: ['Error codes of the configuration calls.'],
    rows: [
      ['E_OK', '0', 'i32'],
      ['ERR_NOT_CONFIGURED', '-1', 'i32'],
      ['ERR_BAD_ID', '-2', 'i32'],
      ['ERR_BAD_ARGUMENT', '-3', 'i32'],
      ['ERR_TABLE_FULL', '-4', 'i32'],
      ['ERR_NOT_FOUND', '-5', 'i32'],
      ['ERR_ALREADY_CONFIGURED', '-6', 'i32'],
    ],
  },
  {
    comment: [
      'Region table (52 bytes): where the module keeps what the host reads and writes. regionTable()',
      'returns its address; engineInit and inputBuffer keep it current. Addresses are u32 (wasm32).',
    ],
    rows: [
      ['REGION_BYTES', '52', 'u32'],
      ['RG_INPUT', '0', 'u32', 'input buffer (frames of a batch)'],
      ['RG_INPUT_SIZE', '4', 'u32', 'its size in bytes'],
      ['RG_DESCRIPTORS', '8', 'u32', 'MAX_BATCH descriptors'],
      ['RG_VERDICTS', '12', 'u32', 'MAX_BATCH verdicts'],
      ['RG_COUNTERS', '16', 'u32', 'COUNTER_COUNT × u64'],
      ['RG_KEY', '20', 'u32', 'key scratch: the key of flowInsert / flowLookup / flowDelete'],
      ['RG_ENTRIES', '24', 'u32', 'flow entries, ENTRY_BYTES each'],
      ['RG_RULE_STAGING', '28', 'u32', 'one rule record for ruleStore'],
      ['RG_METER_STAGING', '32', 'u32', 'METER_STAGING_RECORDS meter records for metersConfigure'],
      ['RG_CLASS_STAGING', '36', 'u32', 'CLASS_STAGING_RECORDS class records for classesConfigure'],
      ['RG_PRICES', '40', 'u32', 'MAX_CLASSES × f64: current price per class (0 unconfigured)'],
      ['RG_DEMANDS', '44', 'u32', 'MAX_CLASSES × f64: current demand per class, bits/s'],
      ['RG_FLOW_TABLE_BYTES', '48', 'u32', 'bytes of the exact-match table (entries and slots)'],
    ],
  },
  {
    comment: [
      'Meter record (64 bytes), staged by the host; metersConfigure(n) applies records 0..n-1 in order',
      'and writes each one\'s status (0 or a METER_ERR_* code of assembly/meter.ts).',
    ],
    rows: [
      ['METER_RECORD_BYTES', '64', 'u32'],
      ['METER_STAGING_RECORDS', '64', 'u32'],
      ['MR_ID', '0', 'u32', 'u32 meter id'],
      ['MR_OP', '4', 'u32', 'u32 MOP_*'],
      ['MR_MODE', '8', 'u32', 'u32: 0 srTCM (RFC 2697), 1 trTCM (RFC 2698)'],
      ['MR_COLOR_AWARE', '12', 'u32', 'u32: 0 colour-blind, 1 colour-aware'],
      ['MR_CIR', '16', 'u32', 'u64 bytes/s'],
      ['MR_CBS', '24', 'u32', 'u64 bytes'],
      ['MR_EIR_OR_PIR', '32', 'u32', 'u64 bytes/s: srTCM ignores it, trTCM PIR'],
      ['MR_EBS_OR_PBS', '40', 'u32', 'u64 bytes'],
      ['MR_NOW', '48', 'u32', 'u64 ns: both buckets are full at this time'],
      ['MR_STATUS', '56', 'u32', 'i32, written by the module'],
      ['MOP_SET', '0', 'u32'],
      ['MOP_DELETE', '1', 'u32', 'only MR_ID is read'],
      ['METER_ERR_BAD_OP', '-26', 'i32', 'status of a record whose op is neither'],
      ['METER_BYTES', '48', 'u32', 'state per meter inside the module (assembly/meter.ts)'],
    ],
  },
  {
    comment: [
      'Class record (64 bytes), staged by the host; classesConfigure(n) applies records 0..n-1 in order',
      'and writes each one\'s status (0, CLASS_IGNORED, or a CLASS_ERR_* code of assembly/pricing.ts).',
    ],
    rows: [
      ['CLASS_RECORD_BYTES', '64', 'u32'],
      ['CLASS_STAGING_RECORDS', '64', 'u32'],
      ['MAX_CLASSES', '64', 'u32'],
      ['CR_CLASS', '0', 'u32', 'u32 class id'],
      ['CR_OP', '4', 'u32', 'u32 COP_*'],
      ['CR_MODE', '8', 'u32', 'u32: 0 exponential, 1 tatonnement'],
      ['CR_STATUS', '12', 'u32', 'i32, written by the module'],
      ['CR_BASE_PRICE', '16', 'u32', 'f64 per megabit'],
      ['CR_CMAX', '24', 'u32', 'f64 bits/s'],
      ['CR_TARGET', '32', 'u32', 'f64 bits/s'],
      ['CR_MAX_PRICE', '40', 'u32', 'f64 per megabit'],
      ['CR_WINDOW', '48', 'u32', 'u64 ns: EWMA window of the measured rate'],
      ['CR_RESERVED', '56', 'u32', 'f64 bits/s (COP_RESERVED)'],
      ['COP_SET', '0', 'u32', 'configure the class (CR_MODE .. CR_WINDOW)'],
      ['COP_RESERVED', '1', 'u32', 'set the demand committed by reservations (CR_RESERVED)'],
      ['CLASS_ERR_BAD_OP', '-35', 'i32', 'status of a record whose op is neither'],
      ['CLASS_IGNORED', '1', 'i32', 'status of COP_RESERVED on an unconfigured class or a bad value'],
    ],
  },
  {
    comment: [
      'Per-frame results of the first two stages of a batch, inside the module (assembly/pipeline.ts):',
      'a key every STAGE_KEY_BYTES and a STAGE_INFO_BYTES record per frame.',
    ],
    rows: [
      ['STAGE_KEY_BYTES', '56', 'u32'],
      ['STAGE_INFO_BYTES', '16', 'u32'],
      ['S_REASON', '0', 'u32', 'u8 R_*'],
      ['S_IP_VERSION', '1', 'u32', 'u8: 4, 6 or 0'],
      ['S_L3', '2', 'u32', 'u16: offset of the IP header in the frame'],
      ['S_HASH', '4', 'u32', 'u32: hash of the key'],
      ['S_FLOW', '8', 'u32', 'i32: entry found in stage 2, -1 none'],
    ],
  },
  {
    comment: [
      'The OpenFlow switch module (build/payflow-switch.wasm, assembly/switch/): its own interface',
      'version, checked by src/switch/wasm-pipeline.ts. docs/switch.md draws these tables.',
    ],
    rows: [
      ['SW_ABI_VERSION', '2', 'u32'],
      ['SW_MAX_BATCH', '1024', 'u32'],
      ['SW_TABLES', '64', 'u32', 'OpenFlow tables 0..63'],
      ['SW_TUPLES_PER_TABLE', '64', 'u32', 'distinct masks per table'],
      ['SW_MAX_BANDS', '8', 'u32', 'bands per meter'],
      ['SW_STAGING_OPS', '256', 'u32', 'ops one staged rule may carry (apply + write), or one staged group (all buckets)'],
      ['SW_MAX_BUCKETS', '16', 'u32', 'buckets per group'],
    ],
  },
  {
    comment: [
      'OpenFlow field vector (88 bytes, network byte order, 11 u64 words): what a switch rule matches,',
      'the same vector as src/switch/fields.ts F_*. Unset fields are 0.',
    ],
    rows: [
      ['SWF_BYTES', '88', 'u32'],
      ['SWF_WORDS', '11', 'u32'],
      ['SWF_IN_PORT', '0', 'u32', '4 bytes'],
      ['SWF_ETH_DST', '4', 'u32', '6 bytes'],
      ['SWF_ETH_SRC', '10', 'u32', '6 bytes'],
      ['SWF_ETH_TYPE', '16', 'u32', '2 bytes'],
      ['SWF_VLAN_VID', '18', 'u32', '2 bytes: OFPVID_PRESENT | vid'],
      ['SWF_IP_DSCP', '20', 'u32'],
      ['SWF_IP_ECN', '21', 'u32'],
      ['SWF_IP_PROTO', '22', 'u32'],
      ['SWF_ICMP_TYPE', '23', 'u32'],
      ['SWF_ICMP_CODE', '24', 'u32'],
      ['SWF_L4_SRC', '26', 'u32', '2 bytes'],
      ['SWF_L4_DST', '28', 'u32', '2 bytes'],
      ['SWF_IPV4_SRC', '32', 'u32', '4 bytes'],
      ['SWF_IPV4_DST', '36', 'u32', '4 bytes'],
      ['SWF_IPV6_SRC', '40', 'u32', '16 bytes'],
      ['SWF_IPV6_DST', '56', 'u32', '16 bytes'],
      ['SWF_IPV6_FLABEL', '72', 'u32', '4 bytes'],
      ['SWF_METADATA', '76', 'u32', '8 bytes'],
    ],
  },
  {
    comment: ['Switch batch descriptor, written by the host (16 bytes).'],
    rows: [
      ['SWD_BYTES', '16', 'u32'],
      ['SWD_OFFSET', '0', 'u32', 'u32: frame offset inside the input buffer'],
      ['SWD_LENGTH', '4', 'u32', 'u32: frame length'],
      ['SWD_IN_PORT', '8', 'u32', 'u32: OpenFlow ingress port'],
      ['SWD_TABLE', '12', 'u32', 'u32: first table (0; packet-out may start elsewhere)'],
    ],
  },
  {
    comment: ['Switch verdict, written by the module (16 bytes): what one frame became.'],
    rows: [
      ['SWV_BYTES', '16', 'u32'],
      ['SWV_FIRST', '0', 'u32', 'u32: index of its first output record'],
      ['SWV_COUNT', '4', 'u32', 'u16: how many output records'],
      ['SWV_REASON', '6', 'u32', 'u8: parser reason R_* (not R_OK: malformed, switched on the fields it had)'],
      ['SWV_FLAGS', '7', 'u32', 'u8: SWVF_*'],
      ['SWV_QUEUE', '8', 'u32', 'u32: queue id at the end of the pipeline (set_queue)'],
      ['SWV_TABLE', '12', 'u32', 'u8: last table visited'],
      ['SWVF_NO_MATCH', '1', 'u8', 'a table had no matching entry and no table-miss entry: dropped there'],
      ['SWVF_METER_DROP', '2', 'u8', 'a meter drop band dropped it'],
      ['SWVF_REWRITTEN', '4', 'u8', 'the frame in the input buffer was changed'],
      ['SWVF_OVERFLOW', '8', 'u8', 'outputs or snapshots did not fit the batch areas: later outputs dropped'],
    ],
  },
  {
    comment: [
      'Switch output record (24 bytes): one output or packet-in, in action order. SWO_FRAME says which',
      'bytes go out: 0 the frame as received (the host may send its own copy), otherwise an address',
      'in linear memory (the rewritten frame in the input buffer, or a snapshot taken before a later rewrite).',
    ],
    rows: [
      ['SWO_BYTES', '24', 'u32'],
      ['SWO_PORT', '0', 'u32', 'u32: port number, or OFPP_FLOOD / OFPP_ALL / OFPP_CONTROLLER (IN_PORT is resolved)'],
      ['SWO_MAX_LEN', '4', 'u32', 'u16: max_len of a packet-in'],
      ['SWO_TABLE', '6', 'u32', 'u8: table of the rule (packet-in)'],
      ['SWO_PIN_REASON', '7', 'u32', 'u8: OFPR_NO_MATCH (table-miss rule) or OFPR_ACTION'],
      ['SWO_RULE', '8', 'u32', 'i32: rule id, -1 from the action set'],
      ['SWO_FRAME', '12', 'u32', 'u32: 0 or the address of the bytes'],
      ['SWO_QUEUE', '16', 'u32', 'u32: queue id when the output ran'],
      ['SWO_LEN', '20', 'u32', 'u32: frame length when the output ran (push/pop VLAN change it)'],
      ['SW_OUTPUTS', '8192', 'u32', 'output records per batch'],
      ['SW_SNAPSHOT_BYTES', '4194304', 'u32', 'room per batch for frame snapshots, pushed VLAN tags and group bucket copies'],
    ],
  },
  {
    comment: [
      'Switch op (32 bytes): one action of an instruction program. Kinds are those of',
      'src/switch/pipeline.ts; SWOP_NEXT continues in another op block, SWOP_END ends a list.',
    ],
    rows: [
      ['SWOP_BYTES', '32', 'u32'],
      ['SWOP_KIND', '0', 'u32', 'u8'],
      ['SWOP_MAX_LEN', '2', 'u32', 'u16: max_len of an output; the IP protocol a port or ICMP rewrite needs'],
      ['SWOP_ARG', '4', 'u32', 'u32: port, DSCP, ECN, queue id, VLAN id/PCP, L4 port, ICMP type/code, ethertype, group slot, or next block'],
      ['SWOP_MAC', '8', 'u32', '6 bytes'],
      ['SWOP_VALUE', '8', 'u32', 'up to 16 bytes: a MAC, IPv4 or IPv6 address'],
      ['SWOP_END', '0', 'u8'],
      ['SWOP_OUTPUT', '1', 'u8'],
      ['SWOP_SET_DSCP', '2', 'u8'],
      ['SWOP_SET_ECN', '3', 'u8'],
      ['SWOP_SET_ETH_DST', '4', 'u8'],
      ['SWOP_SET_ETH_SRC', '5', 'u8'],
      ['SWOP_SET_QUEUE', '6', 'u8'],
      ['SWOP_SET_VLAN_VID', '7', 'u8'],
      ['SWOP_SET_VLAN_PCP', '8', 'u8'],
      ['SWOP_SET_IPV4_SRC', '9', 'u8'],
      ['SWOP_SET_IPV4_DST', '10', 'u8'],
      ['SWOP_SET_IPV6_SRC', '11', 'u8'],
      ['SWOP_SET_IPV6_DST', '12', 'u8'],
      ['SWOP_SET_L4_SRC', '13', 'u8'],
      ['SWOP_SET_L4_DST', '14', 'u8'],
      ['SWOP_SET_ICMP_TYPE', '15', 'u8'],
      ['SWOP_SET_ICMP_CODE', '16', 'u8'],
      ['SWOP_PUSH_VLAN', '17', 'u8'],
      ['SWOP_POP_VLAN', '18', 'u8'],
      ['SWOP_GROUP', '19', 'u8'],
      ['SW_ACTION_SET_SLOTS', '19', 'u32', 'action set slots, one per op kind, in the execution order of OpenFlow 1.3.5 §5.10'],
      ['SWOP_NEXT', '255', 'u8'],
      ['SW_BLOCK_OPS', '4', 'u32', 'ops per block (the last slot may be SWOP_NEXT)'],
    ],
  },
  {
    comment: ['Switch rule record, staged by the host before ruleAdd(id) / ruleProgram(id).'],
    rows: [
      ['SWR_VALUE', '0', 'u32', 'field vector value, 88 bytes (bits outside the mask are 0)'],
      ['SWR_MASK', '88', 'u32', 'field vector mask, 88 bytes'],
      ['SWR_PRIORITY', '176', 'u32', 'u32'],
      ['SWR_TABLE', '180', 'u32', 'u32'],
      ['SWR_SEQ', '184', 'u32', 'u32: insertion order, lower wins among equal priorities'],
      ['SWR_METER', '188', 'u32', 'u32: meter slot + 1, 0 none'],
      ['SWR_GOTO', '192', 'u32', 'i32: next table, -1 none'],
      ['SWR_FLAGS', '196', 'u32', 'u32 SWRF_*'],
      ['SWR_META_VALUE', '200', 'u32', '8 bytes, vector order'],
      ['SWR_META_MASK', '208', 'u32', '8 bytes'],
      ['SWR_APPLY_COUNT', '216', 'u32', 'u32: apply-actions ops'],
      ['SWR_WRITE_COUNT', '220', 'u32', 'u32: write-actions ops, after them'],
      ['SWR_OPS', '224', 'u32', 'SW_STAGING_OPS ops'],
      ['SWR_STAGING_BYTES', '8416', 'u32'],
      ['SWRF_CLEAR', '1', 'u32', 'clear_actions'],
      ['SWRF_METADATA', '2', 'u32', 'write_metadata'],
      ['SWRF_TABLE_MISS', '4', 'u32', 'priority 0, empty match: packet-ins say OFPR_NO_MATCH'],
      ['SWRF_WRITE', '8', 'u32', 'has a write_actions instruction (possibly empty)'],
    ],
  },
  {
    comment: ['Per-rule counters (24 bytes per rule id), read and written by the host.'],
    rows: [
      ['SWC_BYTES', '24', 'u32'],
      ['SWC_PACKETS', '0', 'u32', 'u64'],
      ['SWC_OCTETS', '8', 'u32', 'u64'],
      ['SWC_LAST_USED', '16', 'u32', 'f64 ms, the host clock'],
    ],
  },
  {
    comment: [
      'OpenFlow meter (32 + SW_MAX_BANDS × 48 bytes per slot), written by the host, then meterSet(slot).',
      'Same arithmetic as src/switch/meters.ts: tokens in bits (or packets), refilled per ms.',
    ],
    rows: [
      ['SWM_BYTES', '416', 'u32'],
      ['SWM_FLAGS', '0', 'u32', 'u32: bit 0 packets per second, bit 1 in use (set by meterSet)'],
      ['SWM_BANDS', '4', 'u32', 'u32: number of bands'],
      ['SWM_LAST', '8', 'u32', 'f64 ms: last refill'],
      ['SWM_PACKETS', '16', 'u32', 'u64 packets in'],
      ['SWM_OCTETS', '24', 'u32', 'u64 bytes in'],
      ['SWM_BAND', '32', 'u32', 'first band'],
      ['SWB_BYTES', '48', 'u32'],
      ['SWB_TYPE', '0', 'u32', 'u32: 1 drop, 2 dscp_remark'],
      ['SWB_PREC', '4', 'u32', 'u32: prec_level'],
      ['SWB_PER_MS', '8', 'u32', 'f64 tokens per ms'],
      ['SWB_DEPTH', '16', 'u32', 'f64'],
      ['SWB_TOKENS', '24', 'u32', 'f64'],
      ['SWB_PACKETS', '32', 'u32', 'u64'],
      ['SWB_OCTETS', '40', 'u32', 'u64'],
      ['SWMF_PKTPS', '1', 'u32'],
      ['SWMF_USED', '2', 'u32'],
    ],
  },
  {
    comment: [
      'OpenFlow group (OpenFlow 1.3.5 §5.6; 32 + SW_MAX_BUCKETS × 32 bytes per slot). The host stages a group',
      'in SWGS_* (bucket weights and op counts; the ops themselves in the rule staging SWR_OPS, bucket after',
      'bucket), then groupSet(slot) stores it; the module keeps the counters.',
    ],
    rows: [
      ['SWG_BYTES', '544', 'u32'],
      ['SWG_TYPE', '0', 'u32', 'u32: OFPGT_ALL 0, OFPGT_SELECT 1, OFPGT_INDIRECT 2'],
      ['SWG_BUCKETS', '4', 'u32', 'u32: number of buckets'],
      ['SWG_TOTAL_WEIGHT', '8', 'u32', 'u32: sum of the bucket weights (select)'],
      ['SWG_FLAGS', '12', 'u32', 'u32: SWGF_*'],
      ['SWG_PACKETS', '16', 'u32', 'u64'],
      ['SWG_OCTETS', '24', 'u32', 'u64'],
      ['SWG_BUCKET', '32', 'u32', 'first bucket'],
      ['SWGB_BYTES', '32', 'u32'],
      ['SWGB_WEIGHT', '0', 'u32', 'u32'],
      ['SWGB_OPS', '4', 'u32', 'i32: first op block, -1 none (module only)'],
      ['SWGB_FLAGS', '8', 'u32', 'u32: SWGBF_* (module only)'],
      ['SWGB_PACKETS', '16', 'u32', 'u64'],
      ['SWGB_OCTETS', '24', 'u32', 'u64'],
      ['SWGF_USED', '1', 'u32'],
      ['SWGBF_REWRITES', '1', 'u32', 'the bucket changes the packet, so it works on its own copy'],
      ['SWGS_BYTES', '136', 'u32'],
      ['SWGS_TYPE', '0', 'u32', 'u32'],
      ['SWGS_BUCKETS', '4', 'u32', 'u32'],
      ['SWGS_WEIGHTS', '8', 'u32', 'SW_MAX_BUCKETS × u32'],
      ['SWGS_COUNTS', '72', 'u32', 'SW_MAX_BUCKETS × u32: ops of each bucket'],
    ],
  },
  {
    comment: ['Switch region table (52 bytes, u32 addresses): regionTable() returns it.'],
    rows: [
      ['SWRG_BYTES', '52', 'u32'],
      ['SWRG_INPUT', '0', 'u32'],
      ['SWRG_INPUT_SIZE', '4', 'u32'],
      ['SWRG_DESCRIPTORS', '8', 'u32', 'SW_MAX_BATCH descriptors'],
      ['SWRG_VERDICTS', '12', 'u32', 'SW_MAX_BATCH verdicts'],
      ['SWRG_OUTPUTS', '16', 'u32', 'SW_OUTPUTS output records'],
      ['SWRG_RULE_STAGING', '20', 'u32'],
      ['SWRG_RULE_COUNTERS', '24', 'u32', 'SWC_BYTES per rule id'],
      ['SWRG_METERS', '28', 'u32', 'SWM_BYTES per meter slot'],
      ['SWRG_TABLE_COUNTERS', '32', 'u32', 'SW_TABLES × (u64 lookups, u64 matched)'],
      ['SWRG_RULE_CAPACITY', '36', 'u32', 'u32: rule ids 0..capacity-1'],
      ['SWRG_GROUPS', '40', 'u32', 'SWG_BYTES per group slot'],
      ['SWRG_GROUP_STAGING', '44', 'u32', 'SWGS_BYTES: the group being staged (its ops in the rule staging SWR_OPS)'],
      ['SWRG_GROUP_CAPACITY', '48', 'u32', 'u32: group slots 0..capacity-1'],
    ],
  },
];

const HEADER = [
  '// Memory layout of the data plane: byte offsets of every record that the host and the wasm',
  '// module share, and the codes they carry. GENERATED by scripts/gen-layout.mjs from its table',
  '// (the one source of both assembly/layout.ts and src/dataplane/layout.ts): edit the table,',
  '// not this file. docs/dataplane.md draws the same tables.',
];

function render(typed) {
  const names = new Set();
  const lines = [...HEADER];
  for (const section of TABLE) {
    lines.push('');
    for (const c of section.comment ?? []) lines.push(`// ${c}`);
    for (const [name, value, type, comment] of section.rows) {
      if (names.has(name)) throw new Error(`layout table: ${name} defined twice`);
      if (!/^-?(0x[0-9a-f]+|\d+)$/.test(value)) throw new Error(`layout table: ${name} = ${value} is not an integer literal`);
      names.add(name);
      const decl = typed ? `export const ${name}: ${type} = ${value};` : `export const ${name} = ${value};`;
      lines.push(comment ? `${decl} // ${comment}` : decl);
    }
  }
  return lines.join('\n') + '\n';
}

const outputs = [
  [join(ROOT, 'assembly/layout.ts'), render(true)],
  [join(ROOT, 'src/dataplane/layout.ts'), render(false)],
];

const check = process.argv.includes('--check');
let stale = 0;
for (const [path, text] of outputs) {
  let current = '';
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    // missing: written below, or reported as stale
  }
  if (current === text) continue;
  if (check) {
    process.stderr.write(`${path} is not what scripts/gen-layout.mjs generates: run npm run build:wasm\n`);
    stale++;
  } else {
    writeFileSync(path, text);
  }
}
process.exitCode = stale ? 1 : 0;
