// OpenFlow datapath ids (OpenFlow 1.3.5 §7.3.1, ofp_switch_features.datapath_id: 64 bits).
// Inside the controller a dpid is a bigint (what the codec decodes, and Map keys compare
// by value); outside — JSON, logs, config, LLDP — it is 16 lower-case hex digits.

export const MAX_DPID = (1n << 64n) - 1n;

export type DpidResult = { ok: true; dpid: bigint } | { ok: false; error: string };

/** "0000000000000001" for 1n. */
export function formatDpid(dpid: bigint): string {
  return dpid.toString(16).padStart(16, '0');
}

/**
 * Reads a dpid: a bigint, a non-negative safe integer (decimal), or a string of hex
 * digits with or without "0x" and with or without colons ("00:00:00:00:00:00:00:01").
 * A string is always hex, even when it holds only decimal digits. Never throws.
 */
export function parseDpid(input: unknown): DpidResult {
  let value: bigint;
  if (typeof input === 'bigint') value = input;
  else if (typeof input === 'number') {
    if (!Number.isSafeInteger(input) || input < 0) return { ok: false, error: 'must be a non-negative integer or a hex string' };
    value = BigInt(input);
  } else if (typeof input === 'string') {
    let text = input.trim().toLowerCase();
    if (text.startsWith('0x')) text = text.slice(2);
    if (text.includes(':')) {
      if (!/^[0-9a-f]{1,2}(:[0-9a-f]{1,2}){0,7}$/.test(text)) return { ok: false, error: 'must be hex bytes separated by colons' };
      text = text.split(':').map((b) => b.padStart(2, '0')).join('');
    }
    if (!/^[0-9a-f]{1,16}$/.test(text)) return { ok: false, error: 'must be 1 to 16 hex digits' };
    value = BigInt(`0x${text}`);
  } else return { ok: false, error: 'must be a hex string or an integer' };
  if (value < 0n || value > MAX_DPID) return { ok: false, error: 'must fit in 64 bits' };
  return { ok: true, dpid: value };
}
