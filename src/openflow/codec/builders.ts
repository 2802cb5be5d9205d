// Convenience constructors for the messages a controller sends most (OpenFlow 1.3.5
// §7.3.4.1 flow-mod, §7.3.4.4 meter-mod, §7.3.7 packet-out, §7.3.5 multipart requests),
// filling every field the caller leaves out with the spec's neutral value: cookie 0,
// priority OFP_DEFAULT_PRIORITY (0x8000), buffer OFP_NO_BUFFER, out_port OFPP_ANY,
// out_group OFPG_ANY, table 0 for flow-mods and OFPTT_ALL for stats. The results are
// ordinary message objects: inspect or change them before encodeMessage.
import type { Action } from './actions.js';
import { formatIpv4, formatIpv6 } from '../../util/addresses.js';
import { OFPCML_NO_BUFFER, OFPFC, OFPG, OFPM, OFPMC, OFPMF, OFPP, OFPTT, OFP_NO_BUFFER } from './constants.js';
import type { Instruction } from './instructions.js';
import type { FlowModMessage, MeterModMessage, MultipartRequestMessage, PacketOutMessage } from './messages.js';
import type { MeterBand } from './meter-bands.js';
import type { Match, Oxm } from './oxm.js';

export const OFP_DEFAULT_PRIORITY = 0x8000;

type Options<T extends { type: string }> = Partial<Omit<T, 'type'>>;

export function flowMod(options: Options<FlowModMessage> = {}): FlowModMessage {
  return {
    type: 'flow_mod',
    xid: 0,
    cookie: 0n,
    cookieMask: 0n,
    tableId: 0,
    command: OFPFC.ADD,
    idleTimeout: 0,
    hardTimeout: 0,
    priority: OFP_DEFAULT_PRIORITY,
    bufferId: OFP_NO_BUFFER,
    outPort: OFPP.ANY,
    outGroup: OFPG.ANY,
    flags: 0,
    match: [],
    instructions: [],
    ...options,
  };
}

/**
 * A meter-mod adding meter `meterId` with `bands`. Unless `flags` are given: rates in kb/s,
 * statistics on (OFPMF_KBPS | OFPMF_STATS), plus OFPMF_BURST when a band has a burst size —
 * without that flag a switch ignores burst sizes (§7.3.4.4).
 */
export function meterMod(options: Options<MeterModMessage> & { meterId: number }): MeterModMessage {
  const bands = options.bands ?? [];
  const burst = bands.some((b) => b.burstSize > 0) ? OFPMF.BURST : 0;
  return { type: 'meter_mod', xid: 0, command: OFPMC.ADD, flags: OFPMF.KBPS | OFPMF.STATS | burst, ...options, bands };
}

export function packetOut(options: Options<PacketOutMessage> = {}): PacketOutMessage {
  return { type: 'packet_out', xid: 0, bufferId: OFP_NO_BUFFER, inPort: OFPP.CONTROLLER, actions: [], data: new Uint8Array(0), ...options };
}

/** Flow statistics of every table (or `tableId`), optionally narrowed by match and cookie. */
export function flowStatsRequest(
  options: { xid?: number; tableId?: number; outPort?: number; outGroup?: number; cookie?: bigint; cookieMask?: bigint; match?: Match } = {},
): MultipartRequestMessage {
  return {
    type: 'multipart_request',
    xid: options.xid ?? 0,
    flags: 0,
    body: {
      bodyType: 'flow',
      tableId: options.tableId ?? OFPTT.ALL,
      outPort: options.outPort ?? OFPP.ANY,
      outGroup: options.outGroup ?? OFPG.ANY,
      cookie: options.cookie ?? 0n,
      cookieMask: options.cookieMask ?? 0n,
      match: options.match ?? [],
    },
  };
}

/** Port statistics of `portNo` (default every port, OFPP_ANY). */
export function portStatsRequest(portNo: number = OFPP.ANY, xid = 0): MultipartRequestMessage {
  return { type: 'multipart_request', xid, flags: 0, body: { bodyType: 'port_stats', portNo } };
}

/** Meter statistics of `meterId` (default every meter, OFPM_ALL). */
export function meterStatsRequest(meterId: number = OFPM.ALL, xid = 0): MultipartRequestMessage {
  return { type: 'multipart_request', xid, flags: 0, body: { bodyType: 'meter', meterId } };
}

/** Meter configuration of `meterId` (default every meter, OFPM_ALL). */
export function meterConfigRequest(meterId: number = OFPM.ALL, xid = 0): MultipartRequestMessage {
  return { type: 'multipart_request', xid, flags: 0, body: { bodyType: 'meter_config', meterId } };
}

// ---- actions and instructions -------------------------------------------------------------

export function output(port: number, maxLen: number = OFPCML_NO_BUFFER): Action {
  return { type: 'output', port, maxLen };
}

export function setField(field: Oxm): Action {
  return { type: 'set_field', field };
}

export function applyActions(...actions: Action[]): Instruction {
  return { type: 'apply_actions', actions };
}

export function writeActions(...actions: Action[]): Instruction {
  return { type: 'write_actions', actions };
}

export function meterInstruction(meterId: number): Instruction {
  return { type: 'meter', meterId };
}

export function gotoTable(tableId: number): Instruction {
  return { type: 'goto_table', tableId };
}

/** A drop band: traffic above `rate` (kb/s with OFPMF_KBPS) beyond `burstSize` is dropped. */
export function dropBand(rate: number, burstSize = 0): MeterBand {
  return { type: 'drop', rate, burstSize };
}

// ---- address prefixes -----------------------------------------------------------------------

/** "255.255.255.0" for 24. */
export function ipv4Mask(prefixLength: number): string {
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > 32) throw new RangeError(`bad IPv4 prefix length ${prefixLength}`);
  const m = prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
  return formatIpv4(m);
}

/** "ffff:ffff:ffff:ffff::" for 64. */
export function ipv6Mask(prefixLength: number): string {
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > 128) throw new RangeError(`bad IPv6 prefix length ${prefixLength}`);
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const bits = Math.max(0, Math.min(8, prefixLength - 8 * i));
    bytes[i] = (0xff00 >> bits) & 0xff;
  }
  return formatIpv6(bytes);
}
