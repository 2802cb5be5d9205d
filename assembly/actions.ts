// Actions by colour (the policing step of the pipeline): green forwards in the class (its queue, its DSCP);
// what yellow and red get is the class's excess policy (classExcessSet): by default yellow is
// downgraded to best effort and red dropped; a class may forward yellow, drop it, or
// downgrade either colour to a class of its own choosing (the next lower one). Downgrading or marking rewrites the
// DSCP in the frame: the IPv4 TOS byte with the header checksum fixed incrementally
// (RFC 1624, eqn. 3: HC' = ~(~HC + ~m + m')), or the IPv6 traffic class (RFC 8200 §7),
// keeping the ECN bits (RFC 3168). Pre-colour for colour-aware meters comes from the AF drop
// precedence of the arriving DSCP (RFC 2597: AFxy, y = 1 green, 2 yellow, 3 red).

/** Best-effort class, queue and DSCP that yellow traffic is moved to (set by the host). */
export let beClass: u8 = 0;
export let beQueue: u8 = 0;
export let beDscp: u8 = 0;

export function setBestEffort(cls: u32, queue: u32, dscp: u32): void {
  beClass = cls as u8;
  beQueue = queue as u8;
  beDscp = (dscp & 63) as u8;
}

// Per class (index & 63) one word of policy; 0 is the default above.
//   bits 0-1  yellow: 0 downgrade, 1 drop, 2 forward in the class
//   bit  2    red:    0 drop, 1 downgrade
//   bit  3    downgrade to the class, queue and DSCP below instead of best effort
//   bits 8-13 class, 16-23 queue, 24-29 DSCP
export const XP_YELLOW_DROP: u32 = 1;
export const XP_YELLOW_FORWARD: u32 = 2;
export const XP_RED_DOWNGRADE: u32 = 4;
export const XP_TARGET: u32 = 8;
const classPolicies = new StaticArray<u32>(64);

export function classExcessSet(cls: u32, word: u32): void {
  classPolicies[cls & 63] = word;
}

/** What a packet of class cls and colour (1 yellow, 2 red) gets: 0 forward, 1 downgrade, 2 drop. */
@inline export function excessAction(cls: u32, color: u32): u32 {
  const w = unchecked(classPolicies[cls & 63]);
  if (color == 1) {
    const y = w & 3;
    return y == 0 ? 1 : y == XP_YELLOW_DROP ? 2 : 0;
  }
  return (w & XP_RED_DOWNGRADE) != 0 ? 1 : 2;
}

/** The policy word of class cls (for the downgrade target). */
@inline export function excessWord(cls: u32): u32 {
  return unchecked(classPolicies[cls & 63]);
}

/** RFC 2597 drop precedence of an AF codepoint as a colour; other codepoints are green. */
@inline export function preColorOf(dscp: u32): u32 {
  const x = dscp >> 3;
  const y = (dscp >> 1) & 3;
  return x >= 1 && x <= 4 && (dscp & 1) == 0 && y >= 1 ? y - 1 : 0;
}

/** One's-complement checksum update for one changed 16-bit word (RFC 1624 eqn. 3). */
@inline export function checksumAdjust(hc: u32, oldWord: u32, newWord: u32): u32 {
  let s: u32 = (~hc & 0xffff) + (~oldWord & 0xffff) + newWord;
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return ~s & 0xffff;
}

/** Writes the DSCP into the IP header at frame + l3 (version 4 or 6). */
export function rewriteDscp(frame: usize, l3: u32, version: u32, dscp: u32): void {
  const ip = frame + l3;
  if (version == 4) {
    const b0 = load<u8>(ip) as u32;
    const tos = load<u8>(ip, 1) as u32;
    const newTos = (dscp << 2) | (tos & 3);
    store<u8>(ip, newTos as u8, 1);
    const hc = ((load<u8>(ip, 10) as u32) << 8) | (load<u8>(ip, 11) as u32);
    const nc = checksumAdjust(hc, (b0 << 8) | tos, (b0 << 8) | newTos);
    store<u8>(ip, (nc >> 8) as u8, 10);
    store<u8>(ip, (nc & 0xff) as u8, 11);
  } else {
    // traffic class = low nibble of byte 0 (high 4 bits) and high nibble of byte 1
    const b0 = load<u8>(ip) as u32;
    const b1 = load<u8>(ip, 1) as u32;
    const tc = ((b0 & 15) << 4) | (b1 >> 4);
    const newTc = (dscp << 2) | (tc & 3);
    store<u8>(ip, ((b0 & 0xf0) | (newTc >> 4)) as u8);
    store<u8>(ip, (((newTc & 15) << 4) | (b1 & 15)) as u8, 1);
  }
}
