// hosts.ts: ARP (RFC 826) and IPv6 ND (RFC 4861) parsing from hand-built frames, the
// proxy answers the controller builds, and hostile bytes (every truncation, random frames,
// lying length fields) never throwing.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  buildArpReply,
  buildArpRequest,
  buildNeighborAdvertisement,
  icmpv6ChecksumOk,
  ipv6ToBytes,
  parseFrame,
} from '../../src/network/hosts.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

// An ARP request from 10.0.0.1 (02:00:00:00:00:01) for 10.0.0.2, broadcast.
const ARP_REQUEST = hex(`
  ffffffffffff 020000000001 0806
  0001 0800 06 04 0001 020000000001 0a000001 000000000000 0a000002
  000000000000000000000000000000000000`);

// A Neighbor Solicitation from fd00::1 for fd00::2 to its solicited-node group, with a
// source link-layer address option (checksum as Linux computes it is not checked here).
function neighborSolicitation(src = 'fd00::1', target = 'fd00::2', hopLimit = 255): Uint8Array {
  const f = new Uint8Array(14 + 40 + 32);
  f.set(hex('3333ff000002 020000000001 86dd'), 0);
  f.set([0x60, 0, 0, 0, 0, 32, 58, hopLimit], 14);
  f.set(ipv6ToBytes(src), 22);
  f.set(ipv6ToBytes('ff02::1:ff00:2'), 38);
  f.set([135, 0, 0, 0, 0, 0, 0, 0], 54);
  f.set(ipv6ToBytes(target), 62);
  f.set([1, 1, 2, 0, 0, 0, 0, 1], 78);
  return f;
}

describe('parseFrame', () => {
  it('reads an ARP request', () => {
    const f = parseFrame(ARP_REQUEST);
    expect(f).toMatchObject({ dstMac: 'ff:ff:ff:ff:ff:ff', srcMac: '02:00:00:00:00:01', ethType: 0x0806 });
    expect(f?.arp).toEqual({ op: 1, senderMac: '02:00:00:00:00:01', senderIp: '10.0.0.1', targetMac: '00:00:00:00:00:00', targetIp: '10.0.0.2' });
  });

  it('reads an ARP request behind an 802.1Q tag', () => {
    const tagged = new Uint8Array(ARP_REQUEST.length + 4);
    tagged.set(ARP_REQUEST.subarray(0, 12), 0);
    tagged.set([0x81, 0x00, 0x00, 0x64], 12);
    tagged.set(ARP_REQUEST.subarray(12), 16);
    const f = parseFrame(tagged);
    expect(f?.vlan).toBe(100);
    expect(f?.arp?.targetIp).toBe('10.0.0.2');
  });

  it('ignores ARP for other hardware or protocol types', () => {
    const bad = ARP_REQUEST.slice();
    bad[17] = 0x06; // ptype 0x0806
    expect(parseFrame(bad)?.arp).toBeUndefined();
  });

  it('reads a Neighbor Solicitation with its source link-layer address', () => {
    const f = parseFrame(neighborSolicitation());
    expect(f?.ip).toEqual({ family: 6, src: 'fd00::1', dst: 'ff02::1:ff00:2', proto: 58, dscp: 0 });
    expect(f?.nd).toEqual({ icmpType: 135, target: 'fd00::2', linkAddress: '02:00:00:00:00:01' });
  });

  it('does not take ND from a packet with a hop limit below 255 (RFC 4861 §7.1.1)', () => {
    expect(parseFrame(neighborSolicitation('fd00::1', 'fd00::2', 64))?.nd).toBeUndefined();
  });

  it('stops at a zero-length ND option instead of looping', () => {
    const f = neighborSolicitation();
    f[79] = 0;
    expect(parseFrame(f)?.nd).toEqual({ icmpType: 135, target: 'fd00::2' });
  });

  it('reads IPv4 source, destination, protocol and DSCP', () => {
    const f = new Uint8Array(14 + 28);
    f.set(hex('020000000002 020000000001 0800'), 0);
    f.set(hex('45b8001c 0000 0000 4011 0000 0a000001 0a000002'), 14);
    expect(parseFrame(f)?.ip).toEqual({ family: 4, src: '10.0.0.1', dst: '10.0.0.2', proto: 17, dscp: 46 });
  });

  it('reads and checks the Neighbor Advertisement the controller builds', () => {
    const na = buildNeighborAdvertisement({ target: 'fd00::2', targetMac: '02:00:00:00:00:02', toMac: '02:00:00:00:00:01', toIp: 'fd00::1' });
    expect(icmpv6ChecksumOk(na)).toBe(true);
    const f = parseFrame(na);
    expect(f).toMatchObject({ dstMac: '02:00:00:00:00:01', srcMac: '02:00:00:00:00:02' });
    expect(f?.ip).toMatchObject({ src: 'fd00::2', dst: 'fd00::1', proto: 58 });
    expect(f?.nd).toEqual({ icmpType: 136, target: 'fd00::2', linkAddress: '02:00:00:00:00:02', flags: { router: false, solicited: true, override: true } });
    const corrupted = na.slice();
    corrupted[70] ^= 1;
    expect(icmpv6ChecksumOk(corrupted)).toBe(false);
  });

  it('reads the ARP reply the controller builds', () => {
    const reply = buildArpReply({ senderMac: '02:00:00:00:00:02', senderIp: '10.0.0.2', targetMac: '02:00:00:00:00:01', targetIp: '10.0.0.1' });
    expect(reply.length).toBe(60);
    const f = parseFrame(reply);
    expect(f?.dstMac).toBe('02:00:00:00:00:01');
    expect(f?.arp).toEqual({ op: 2, senderMac: '02:00:00:00:00:02', senderIp: '10.0.0.2', targetMac: '02:00:00:00:00:01', targetIp: '10.0.0.1' });
    expect(() => buildArpReply({ senderMac: 'nope', senderIp: '10.0.0.2', targetMac: '02:00:00:00:00:01', targetIp: '10.0.0.1' })).toThrow(RangeError);
  });

  it('builds the ARP request the controller sends on behalf of a sender', () => {
    const req = buildArpRequest({ senderMac: '02:00:00:00:00:01', senderIp: '10.0.0.1', targetIp: '10.0.0.2' });
    expect(Buffer.from(req).toString('hex')).toBe(Buffer.from(ARP_REQUEST).toString('hex'));
  });

  it('converts IPv6 text to bytes and refuses bad text', () => {
    expect(Buffer.from(ipv6ToBytes('fd00::1')).toString('hex')).toBe('fd000000000000000000000000000001');
    expect(Buffer.from(ipv6ToBytes('::')).toString('hex')).toBe('0'.repeat(32));
    expect(Buffer.from(ipv6ToBytes('1:2:3:4:5:6:7:8')).toString('hex')).toBe('00010002000300040005000600070008');
    for (const bad of ['1::2::3', 'g::1', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::8', '12345::1']) expect(() => ipv6ToBytes(bad)).toThrow(RangeError);
  });

  it('never throws on hostile bytes: every truncation, random frames, lying lengths', () => {
    const samples = [ARP_REQUEST, neighborSolicitation(), buildNeighborAdvertisement({ target: 'fd00::2', targetMac: '02:00:00:00:00:02', toMac: '02:00:00:00:00:01', toIp: 'fd00::1' })];
    for (const s of samples) {
      for (let n = 0; n <= s.length; n++) expect(() => parseFrame(s.subarray(0, n))).not.toThrow();
      for (let n = 0; n < 14; n++) expect(parseFrame(s.subarray(0, n))).toBeUndefined();
    }
    const lying = neighborSolicitation();
    lying[18] = 0xff; // payload length far beyond the frame
    lying[19] = 0xff;
    expect(() => parseFrame(lying)).not.toThrow();
    for (let i = 0; i < 20_000; i++) {
      const len = i % 200;
      const b = randomBytes(len);
      if (len >= 14 && i % 3 === 0) b.writeUInt16BE([0x0806, 0x0800, 0x86dd, 0x8100][i % 4]!, 12);
      if (len >= 54 && i % 5 === 0) {
        b.writeUInt16BE(0x86dd, 12);
        b[14] = 0x60;
        b[20] = 58;
        b[21] = 255;
        b[54] = 135 + (i % 2);
        b[55] = 0;
      }
      expect(() => parseFrame(b)).not.toThrow();
    }
    expect(parseFrame(null as unknown as Uint8Array)).toBeUndefined();
  });
});
