// Port description (OpenFlow 1.3.5 §7.2.1, struct ofp_port, 64 bytes), carried by
// port-status (§7.4.3) and the port-desc multipart reply (§7.3.5.7). Port numbers,
// config, state and feature bits are the constants in constants.ts (OFPP, OFPPC, OFPPS,
// OFPPF); speeds are in kb/s.
import { formatMac, parseMacInto } from '../../util/addresses.js';
import { OfpEncodeError, Reader, Writer, checkUint, show } from './buffer.js';

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

export function decodePort(r: Reader): Port {
  r.need(OFP_PORT_LEN, 'ofp_port');
  const portNo = r.u32();
  r.skip(4);
  const hwAddr = formatMac(r.bytes, r.pos);
  r.skip(8);
  const name = r.fixedString(OFP_MAX_PORT_NAME_LEN);
  return {
    portNo,
    hwAddr,
    name,
    config: r.u32(),
    state: r.u32(),
    curr: r.u32(),
    advertised: r.u32(),
    supported: r.u32(),
    peer: r.u32(),
    currSpeed: r.u32(),
    maxSpeed: r.u32(),
  };
}

const macScratch = new Uint8Array(6);

export function writeMac(w: Writer, mac: string, path: string): void {
  if (!parseMacInto(mac, macScratch, 0)) throw new OfpEncodeError(path, `not a MAC address: ${show(mac)}`);
  w.bytes(macScratch);
}

export function encodePort(w: Writer, p: Port, path: string): void {
  if (p === null || typeof p !== 'object') throw new OfpEncodeError(path, 'expected a port object');
  w.u32(checkUint(p.portNo, 32, path, 'portNo'));
  w.zeros(4);
  writeMac(w, p.hwAddr, `${path}.hwAddr`);
  w.zeros(2);
  w.fixedString(p.name, OFP_MAX_PORT_NAME_LEN, `${path}.name`);
  for (const key of ['config', 'state', 'curr', 'advertised', 'supported', 'peer', 'currSpeed', 'maxSpeed'] as const) {
    w.u32(checkUint(p[key], 32, `${path}.${key}`));
  }
}
