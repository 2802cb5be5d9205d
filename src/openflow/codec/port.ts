// Port description (OpenFlow 1.3.5 §7.2.1, struct ofp_port, 64 bytes), carried by
// port-status (§7.4.3) and the port-desc multipart reply (§7.3.5.7). Port numbers,
// config, state and feature bits are the constants in constants.ts (OFPP, OFPPC, OFPPS,
// OFPPF); speeds are in kb/s.
import { mac, pad, str, struct, u32 } from './layout.js';

export const OFP_PORT_LEN = 64;
export const OFP_MAX_PORT_NAME_LEN = 16;

export interface Port {
  portNo: number;
  hwAddr: string;
  name: string;
  config: number;
  state: number;
  curr: number;
  advertised: number;
  supported: number;
  peer: number;
  currSpeed: number;
  maxSpeed: number;
}

/** struct ofp_port (§7.2.1), 64 bytes. */
export const PORT = struct<Port>('ofp_port', [
  ['portNo', u32],
  pad(4),
  ['hwAddr', mac],
  pad(2),
  ['name', str(OFP_MAX_PORT_NAME_LEN)],
  ['config', u32],
  ['state', u32],
  ['curr', u32],
  ['advertised', u32],
  ['supported', u32],
  ['peer', u32],
  ['currSpeed', u32],
  ['maxSpeed', u32],
]);
