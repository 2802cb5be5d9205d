// Memory layout of the data plane: byte offsets of every record that the host and the wasm
// module share (batch descriptors, verdicts, flow keys, flow entries, rules, counters) and the
// verdict/reason codes. Mirrored field for field by src/dataplane/layout.ts; docs/dataplane.md
// draws the same tables. Change one, change both, and bump ABI_VERSION.

export const ABI_VERSION: u32 = 2;
export const MAX_BATCH: u32 = 1024;

// Flow key (52 bytes = 13 little-endian u32 words). Numbers in host order, addresses raw.
export const KEY_BYTES: u32 = 52;
export const KEY_WORDS: u32 = 13;
export const K_IN_PORT: u32 = 0; //     u32
export const K_VLAN_OUTER: u32 = 4; //  u16: VID | 0x1000 when a tag is present
export const K_VLAN_INNER: u32 = 6; //  u16: same, second tag
export const K_ETHERTYPE: u32 = 8; //   u16: after the VLAN tags
export const K_PROTO: u32 = 10; //      u8: the upper-layer protocol (IPv4 protocol or IPv6 next header, after any AH)
export const K_TOS: u32 = 11; //        u8: DSCP << 2 | ECN (IPv4 TOS / IPv6 traffic class)
export const K_SPORT: u32 = 12; //      u16: TCP/UDP source port; ICMP type
export const K_DPORT: u32 = 14; //      u16: TCP/UDP destination port; ICMP code
export const K_FLOW_LABEL: u32 = 16; // u32: IPv6 flow label (20 bits)
export const K_SRC: u32 = 20; //        16 bytes: IPv4 in the first 4, or IPv6
export const K_DST: u32 = 36; //        16 bytes

// Batch descriptor, written by the host (24 bytes).
export const DESC_BYTES: u32 = 24;
export const D_OFFSET: u32 = 0; //  u32: frame offset inside the input buffer
export const D_LENGTH: u32 = 4; //  u32: frame length in bytes
export const D_TIME: u32 = 8; //    u64: timestamp, ns
export const D_IN_PORT: u32 = 16; // u32: ingress port

// Verdict, written by the module (16 bytes).
export const VERDICT_BYTES: u32 = 16;
export const V_ACTION: u32 = 0; //  u8: ACT_*
export const V_COLOR: u32 = 1; //   u8: 0 green, 1 yellow, 2 red
export const V_REASON: u32 = 2; //  u8: R_*
export const V_DSCP: u32 = 3; //    u8: DSCP of the frame as it leaves
export const V_QUEUE: u32 = 4; //   u16
export const V_CLASS: u32 = 6; //   u8: service class the bytes were accounted to
export const V_FLAGS: u32 = 7; //   u8: VF_*
export const V_FLOW: u32 = 8; //    i32: flow id (entry index), -1 if untracked
export const V_RULE: u32 = 12; //   i32: wildcard rule id, -1 none / exact flow

export const ACT_FORWARD: u8 = 0;
export const ACT_DOWNGRADE: u8 = 1; // yellow: forwarded as best effort
export const ACT_DROP: u8 = 2;

export const VF_NEW_FLOW: u8 = 1;
export const VF_REWRITTEN: u8 = 2; // DSCP / traffic class rewritten in the frame
export const VF_UNTRACKED: u8 = 4; // flow table full: no per-flow accounting
export const VF_CACHE_HIT: u8 = 8; // the exact-match entry held a valid decision

// Reason codes: 0 is a parsed frame; the rest are drops, counted per code.
export const R_OK: u8 = 0;
export const R_BAD_DESCRIPTOR: u8 = 1; // offset/length outside the input buffer
export const R_TRUNC_ETH: u8 = 2;
export const R_NOT_ETHERNET_II: u8 = 3; // 802.3 length field
export const R_TRUNC_VLAN: u8 = 4;
export const R_TOO_MANY_TAGS: u8 = 5;
export const R_TRUNC_IPV4: u8 = 6;
export const R_BAD_IPV4: u8 = 7;
export const R_TRUNC_IPV6: u8 = 8;
export const R_BAD_IPV6: u8 = 9;
export const R_TRUNC_EXT: u8 = 10;
export const R_BAD_EXT: u8 = 11;
export const R_TRUNC_L4: u8 = 12;
export const R_BAD_L4: u8 = 13;
export const R_TRUNC_PAYLOAD: u8 = 14; // IP length says more than the frame holds
export const REASON_COUNT: u32 = 16;

// Exact-match flow entry (128 bytes: two cache lines, the key and decision words in the first
// and last 8 bytes, the counters between). The cached decision is packed into 8 bytes.
export const ENTRY_BYTES: u32 = 128;
export const E_KEY: u32 = 0; //          52 bytes
export const E_GEN: u32 = 52; //         u32: rule generation of the cached decision; next free when unused
export const E_LAST_SEEN: u32 = 56; //   u64 ns
export const E_PACKETS: u32 = 64; //     3 × u64 by colour
export const E_BYTES: u32 = 88; //       3 × u64 by colour
export const E_CHARGE: u32 = 112; //     f64 currency units
export const E_METER_QUEUE: u32 = 120; // u32: meter id + 1 in bits 0..23 (0 = none), queue in bits 24..31
export const E_RULE: u32 = 124; //       u16: rule id + 1 (0 = none)
export const E_CLASS: u32 = 126; //      u8: class in bits 0..5 | EB_DROP | EB_PINNED
export const E_DSCP: u32 = 127; //       u8: DSCP in bits 0..5 | EB_KEEP | EB_USED
export const EB_DROP: u32 = 0x40; //   the action is drop
export const EB_PINNED: u32 = 0x80; // inserted by the host with its own action: rules never override it
export const EB_KEEP: u32 = 0x40; //   leave the DSCP as it is
export const EB_USED: u32 = 0x80;
export const MAX_RULES: u32 = 65535; //      rule ids fit the 16-bit field
export const MAX_METERS: u32 = 0xffffff; //  meter ids fit the 24-bit field

// Rule action (what a rule or a pinned flow says; the colour then decides the verdict).
export const RA_FORWARD: u8 = 0;
export const RA_DROP: u8 = 2;
export const DSCP_KEEP: u8 = 0xff;

// Wildcard rule record (136 bytes). The host writes one into the staging area, then calls ruleSet.
export const RULE_BYTES: u32 = 136;
export const RL_VALUE: u32 = 0; //     key, 52 bytes
export const RL_MASK: u32 = 52; //     key mask, 52 bytes (ports: set by ruleSet from the ranges)
export const RL_PRIORITY: u32 = 104; // i32, higher wins; ties: lower id wins
export const RL_SPORT_LO: u32 = 108; // u16
export const RL_SPORT_HI: u32 = 110;
export const RL_DPORT_LO: u32 = 112;
export const RL_DPORT_HI: u32 = 114;
export const RL_ACTION: u32 = 116; //  u8 RA_*
export const RL_CLASS: u32 = 117; //   u8
export const RL_DSCP: u32 = 118; //    u8
export const RL_QUEUE: u32 = 119; //   u8
export const RL_METER: u32 = 120; //   i32
export const RL_NEXT: u32 = 124; //    i32: next rule in the same bucket (priority order)
export const RL_TUPLE: u32 = 128; //   i32
export const RL_ACTIVE: u32 = 132; //  u32

export const TUPLE_BYTES: u32 = 64;
export const T_MASK: u32 = 0; //   52 bytes
export const T_MAX_PRI: u32 = 52; // i32

// Counters (u64 each).
export const C_PACKETS: u32 = 0;
export const C_BYTES: u32 = 1;
export const C_FLOWS_INSERTED: u32 = 2;
export const C_FLOWS_EXPIRED: u32 = 3;
export const C_TABLE_FULL: u32 = 4;
export const C_CACHE_HITS: u32 = 5;
export const C_CACHE_MISSES: u32 = 6;
export const C_REWRITES: u32 = 7;
export const C_ACTION: u32 = 8; //  3 counters by verdict action
export const C_COLOR: u32 = 11; //  3 counters by colour
export const C_REASON: u32 = 14; // REASON_COUNT counters
export const COUNTER_COUNT: u32 = 30;

// Error codes of the configuration calls.
export const E_OK: i32 = 0;
export const ERR_NOT_CONFIGURED: i32 = -1;
export const ERR_BAD_ID: i32 = -2;
export const ERR_BAD_ARGUMENT: i32 = -3;
export const ERR_TABLE_FULL: i32 = -4;
export const ERR_NOT_FOUND: i32 = -5;
export const ERR_ALREADY_CONFIGURED: i32 = -6;
