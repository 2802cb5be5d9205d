// Memory layout shared with the wasm module: a mirror of assembly/layout.ts (same names,
// same values). docs/dataplane.md draws these tables.

export const ABI_VERSION = 2;
export const MAX_BATCH = 1024;

// Flow key (52 bytes = 13 little-endian u32 words). Numbers in host order, addresses raw.
export const KEY_BYTES = 52;
export const KEY_WORDS = 13;
export const K_IN_PORT = 0; //     u32
export const K_VLAN_OUTER = 4; //  u16: VID | 0x1000 when a tag is present
export const K_VLAN_INNER = 6; //  u16: same, second tag
export const K_ETHERTYPE = 8; //   u16: after the VLAN tags
export const K_PROTO = 10; //      u8: the upper-layer protocol (IPv4 protocol or IPv6 next header, after any AH)
export const K_TOS = 11; //        u8: DSCP << 2 | ECN (IPv4 TOS / IPv6 traffic class)
export const K_SPORT = 12; //      u16: TCP/UDP source port; ICMP type
export const K_DPORT = 14; //      u16: TCP/UDP destination port; ICMP code
export const K_FLOW_LABEL = 16; // u32: IPv6 flow label (20 bits)
export const K_SRC = 20; //        16 bytes: IPv4 in the first 4, or IPv6
export const K_DST = 36; //        16 bytes

// Batch descriptor, written by the host (24 bytes).
export const DESC_BYTES = 24;
export const D_OFFSET = 0; //  u32: frame offset inside the input buffer
export const D_LENGTH = 4; //  u32: frame length in bytes
export const D_TIME = 8; //    u64: timestamp, ns
export const D_IN_PORT = 16; // u32: ingress port

// Verdict, written by the module (16 bytes).
export const VERDICT_BYTES = 16;
export const V_ACTION = 0; //  u8: ACT_*
export const V_COLOR = 1; //   u8: 0 green, 1 yellow, 2 red
export const V_REASON = 2; //  u8: R_*
export const V_DSCP = 3; //    u8: DSCP of the frame as it leaves
export const V_QUEUE = 4; //   u16
export const V_CLASS = 6; //   u8: service class the bytes were accounted to
export const V_FLAGS = 7; //   u8: VF_*
export const V_FLOW = 8; //    i32: flow id (entry index), -1 if untracked
export const V_RULE = 12; //   i32: wildcard rule id, -1 none / exact flow

export const ACT_FORWARD = 0;
export const ACT_DOWNGRADE = 1; // yellow: forwarded as best effort
export const ACT_DROP = 2;

export const VF_NEW_FLOW = 1;
export const VF_REWRITTEN = 2; // DSCP / traffic class rewritten in the frame
export const VF_UNTRACKED = 4; // flow table full: no per-flow accounting
export const VF_CACHE_HIT = 8; // the exact-match entry held a valid decision

// Reason codes: 0 is a parsed frame; the rest are drops, counted per code.
export const R_OK = 0;
export const R_BAD_DESCRIPTOR = 1; // offset/length outside the input buffer
export const R_TRUNC_ETH = 2;
export const R_NOT_ETHERNET_II = 3; // 802.3 length field
export const R_TRUNC_VLAN = 4;
export const R_TOO_MANY_TAGS = 5;
export const R_TRUNC_IPV4 = 6;
export const R_BAD_IPV4 = 7;
export const R_TRUNC_IPV6 = 8;
export const R_BAD_IPV6 = 9;
export const R_TRUNC_EXT = 10;
export const R_BAD_EXT = 11;
export const R_TRUNC_L4 = 12;
export const R_BAD_L4 = 13;
export const R_TRUNC_PAYLOAD = 14; // IP length says more than the frame holds
export const REASON_COUNT = 16;

// Exact-match flow entry (128 bytes: two cache lines, the key and decision words in the first
// and last 8 bytes, the counters between). The cached decision is packed into 8 bytes.
export const ENTRY_BYTES = 128;
export const E_KEY = 0; //          52 bytes
export const E_GEN = 52; //         u32: rule generation of the cached decision; next free when unused
export const E_LAST_SEEN = 56; //   u64 ns
export const E_PACKETS = 64; //     3 × u64 by colour
export const E_BYTES = 88; //       3 × u64 by colour
export const E_CHARGE = 112; //     f64 currency units
export const E_METER_QUEUE = 120; // u32: meter id + 1 in bits 0..23 (0 = none), queue in bits 24..31
export const E_RULE = 124; //       u16: rule id + 1 (0 = none)
export const E_CLASS = 126; //      u8: class in bits 0..5 | EB_DROP | EB_PINNED
export const E_DSCP = 127; //       u8: DSCP in bits 0..5 | EB_KEEP | EB_USED
export const EB_DROP = 0x40; //   the action is drop
export const EB_PINNED = 0x80; // inserted by the host with its own action: rules never override it
export const EB_KEEP = 0x40; //   leave the DSCP as it is
export const EB_USED = 0x80;
export const MAX_RULES = 65535; //      rule ids fit the 16-bit field
export const MAX_METERS = 0xffffff; //  meter ids fit the 24-bit field

// Rule action (what a rule or a pinned flow says; the colour then decides the verdict).
export const RA_FORWARD = 0;
export const RA_DROP = 2;
export const DSCP_KEEP = 0xff;

// Wildcard rule record (136 bytes). The host writes one into the staging area, then calls ruleSet.
export const RULE_BYTES = 136;
export const RL_VALUE = 0; //     key, 52 bytes
export const RL_MASK = 52; //     key mask, 52 bytes (ports: set by ruleSet from the ranges)
export const RL_PRIORITY = 104; // i32, higher wins; ties: lower id wins
export const RL_SPORT_LO = 108; // u16
export const RL_SPORT_HI = 110;
export const RL_DPORT_LO = 112;
export const RL_DPORT_HI = 114;
export const RL_ACTION = 116; //  u8 RA_*
export const RL_CLASS = 117; //   u8
export const RL_DSCP = 118; //    u8
export const RL_QUEUE = 119; //   u8
export const RL_METER = 120; //   i32
export const RL_NEXT = 124; //    i32: next rule in the same bucket (priority order)
export const RL_TUPLE = 128; //   i32
export const RL_ACTIVE = 132; //  u32

export const TUPLE_BYTES = 64;
export const T_MASK = 0; //   52 bytes
export const T_MAX_PRI = 52; // i32

// Counters (u64 each).
export const C_PACKETS = 0;
export const C_BYTES = 1;
export const C_FLOWS_INSERTED = 2;
export const C_FLOWS_EXPIRED = 3;
export const C_TABLE_FULL = 4;
export const C_CACHE_HITS = 5;
export const C_CACHE_MISSES = 6;
export const C_REWRITES = 7;
export const C_ACTION = 8; //  3 counters by verdict action
export const C_COLOR = 11; //  3 counters by colour
export const C_REASON = 14; // REASON_COUNT counters
export const COUNTER_COUNT = 30;

// Error codes of the configuration calls.
export const E_OK = 0;
export const ERR_NOT_CONFIGURED = -1;
export const ERR_BAD_ID = -2;
export const ERR_BAD_ARGUMENT = -3;
export const ERR_TABLE_FULL = -4;
export const ERR_NOT_FOUND = -5;
export const ERR_ALREADY_CONFIGURED = -6;
