import { describe, expect, it } from 'vitest';
import { Topology, portKey, type PortInfo, type TopologyEvent, type Link } from '../../src/network/topology.js';
import { formatDpid, parseDpid } from '../../src/util/dpid.js';
import { mulberry32 } from '../../src/util/random.js';

const ports = (n: number, speedKbps?: number): PortInfo[] =>
  Array.from({ length: n }, (_, i) => ({ portNo: i + 1, up: true, ...(speedKbps !== undefined ? { currSpeedKbps: speedKbps } : {}) }));

/** Adds both directions of a link a/pa <-> b/pb. */
function wire(t: Topology, a: bigint, pa: number, b: bigint, pb: number, now = 0): void {
  expect(t.linkSeen({ dpid: a, port: pa }, { dpid: b, port: pb }, now)).toBe(true);
  expect(t.linkSeen({ dpid: b, port: pb }, { dpid: a, port: pa }, now)).toBe(true);
}

function recorder(t: Topology): TopologyEvent[] {
  const events: TopologyEvent[] = [];
  t.on((e) => events.push(e));
  return events;
}

const hopsOf = (t: Topology, src: bigint, dst: bigint) => t.switchPath(src, dst)?.map((l: Link) => `${l.src.dpid}:${l.src.port}>${l.dst.dpid}:${l.dst.port}`);

describe('dpids', () => {
  it('formats and parses', () => {
    expect(formatDpid(1n)).toBe('0000000000000001');
    expect(formatDpid((1n << 64n) - 1n)).toBe('ffffffffffffffff');
    expect(parseDpid('00:00:00:00:00:00:00:0a')).toEqual({ ok: true, dpid: 10n });
    expect(parseDpid('0x1f')).toEqual({ ok: true, dpid: 31n });
    expect(parseDpid('10')).toEqual({ ok: true, dpid: 16n }); // strings are hex
    expect(parseDpid(10)).toEqual({ ok: true, dpid: 10n });
    expect(parseDpid(' FFFFFFFFFFFFFFFF ')).toEqual({ ok: true, dpid: (1n << 64n) - 1n });
    for (const bad of ['', 'xyz', '1'.repeat(17), '1::2', -1, 1.5, 1n << 64n, -1n, null, {}]) expect(parseDpid(bad).ok).toBe(false);
  });
});

describe('switches, ports and links from scripted events', () => {
  it('emits events as the network is discovered and torn down', () => {
    const t = new Topology();
    const ev = recorder(t);
    t.addSwitch(1n, ports(3));
    t.addSwitch(2n, ports(3));
    wire(t, 1n, 1, 2n, 1);
    expect(ev.map((e) => e.type)).toEqual(['switch-added', 'switch-added', 'link-added', 'link-added']);
    expect(t.listLinks().map((l) => [l.src.dpid, l.src.port, l.dst.dpid, l.dst.port])).toEqual([
      [1n, 1, 2n, 1],
      [2n, 1, 1n, 1],
    ]);
    expect(t.isLinkPort(1n, 1)).toBe(true);
    expect(t.isLinkPort(1n, 2)).toBe(false);

    // refreshing the same link emits nothing
    ev.length = 0;
    expect(t.linkSeen({ dpid: 1n, port: 1 }, { dpid: 2n, port: 1 }, 5)).toBe(true);
    expect(ev).toEqual([]);

    // a port going down takes both directions of its link
    t.updatePort(2n, { portNo: 1, up: false });
    expect(ev.map((e) => (e.type === 'link-removed' ? `${e.type}:${e.reason}` : e.type))).toEqual(['link-removed:port-down', 'link-removed:port-down', 'port-changed']);
    expect(t.listLinks()).toEqual([]);
    // LLDP on a down port is ignored
    expect(t.linkSeen({ dpid: 1n, port: 1 }, { dpid: 2n, port: 1 }, 6)).toBe(false);

    t.updatePort(2n, { portNo: 1, up: true });
    wire(t, 1n, 1, 2n, 1, 7);
    ev.length = 0;
    expect(t.removeSwitch(2n)).toBe(true);
    expect(ev.map((e) => e.type)).toEqual(['link-removed', 'link-removed', 'switch-removed']);
    expect(t.listLinks()).toEqual([]);
    expect(t.removeSwitch(2n)).toBe(false);
  });

  it('keeps only physical ports and refuses impossible dpids', () => {
    const t = new Topology();
    expect(t.addSwitch(1n, [{ portNo: 0xfffffffe, up: true }, { portNo: 1, up: true }, { portNo: 0, up: true }])).toBe(true);
    expect([...t.getSwitch(1n)!.ports.keys()]).toEqual([1]);
    expect(t.updatePort(1n, { portNo: 0xfffffffd, up: true })).toBe(false);
    expect(t.addSwitch(-1n, [])).toBe(false);
    expect(t.addSwitch(1n << 64n, [])).toBe(false);
    expect(t.listSwitches()).toHaveLength(1);
  });

  it('refuses links to unknown switches or ports and self-loops', () => {
    const t = new Topology();
    t.addSwitch(1n, ports(2));
    expect(t.linkSeen({ dpid: 1n, port: 1 }, { dpid: 9n, port: 1 }, 0)).toBe(false);
    expect(t.linkSeen({ dpid: 1n, port: 7 }, { dpid: 1n, port: 1 }, 0)).toBe(false);
    expect(t.linkSeen({ dpid: 1n, port: 1 }, { dpid: 1n, port: 1 }, 0)).toBe(false);
    expect(t.listLinks()).toEqual([]);
  });

  it('a recabled port replaces the old link', () => {
    const t = new Topology();
    const ev = recorder(t);
    for (const d of [1n, 2n, 3n]) t.addSwitch(d, ports(2));
    expect(t.linkSeen({ dpid: 1n, port: 1 }, { dpid: 2n, port: 1 }, 0)).toBe(true);
    expect(t.linkSeen({ dpid: 1n, port: 1 }, { dpid: 3n, port: 1 }, 1)).toBe(true);
    expect(t.listLinks().map((l) => l.dst.dpid)).toEqual([3n]);
    expect(ev.some((e) => e.type === 'link-removed' && e.reason === 'replaced')).toBe(true);
    // another link arriving on 3/1 replaces the one from 1/1
    expect(t.linkSeen({ dpid: 2n, port: 2 }, { dpid: 3n, port: 1 }, 2)).toBe(true);
    expect(t.listLinks().map((l) => [l.src.dpid, l.dst.dpid])).toEqual([[2n, 3n]]);
  });

  it('links time out unless LLDP refreshes them', () => {
    const t = new Topology({ linkTimeoutMs: 100 });
    t.addSwitch(1n, ports(1));
    t.addSwitch(2n, ports(1));
    wire(t, 1n, 1, 2n, 1, 0);
    t.linkSeen({ dpid: 1n, port: 1 }, { dpid: 2n, port: 1 }, 80);
    expect(t.expire(150)).toEqual({ links: 1, hosts: 0 });
    expect(t.listLinks().map((l) => l.src.dpid)).toEqual([1n]);
  });

  it('a reconnecting switch with fewer ports loses the missing ones', () => {
    const t = new Topology();
    const ev = recorder(t);
    t.addSwitch(1n, ports(3));
    t.addSwitch(2n, ports(3));
    wire(t, 1n, 3, 2n, 3);
    ev.length = 0;
    t.addSwitch(1n, ports(2));
    expect(ev.map((e) => e.type)).toEqual(['link-removed', 'link-removed', 'port-removed', 'port-changed', 'port-changed']);
    expect([...t.getSwitch(1n)!.ports.keys()]).toEqual([1, 2]);
  });
});

describe('hosts', () => {
  function net(): Topology {
    const t = new Topology({ hostTimeoutMs: 1000 });
    t.addSwitch(1n, ports(3));
    t.addSwitch(2n, ports(3));
    wire(t, 1n, 3, 2n, 3);
    return t;
  }

  it('learns hosts with IPv4 and IPv6 addresses at edge ports', () => {
    const t = net();
    const ev = recorder(t);
    expect(t.learnHost({ mac: '0A:00:00:00:00:01', dpid: 1n, port: 1, ip: '10.0.0.1', nowMs: 0 })).toEqual({ ok: true, change: 'added' });
    expect(t.learnHost({ mac: '0a:00:00:00:00:01', dpid: 1n, port: 1, ip: '2001:0db8:0000::0001', nowMs: 1 })).toEqual({ ok: true, change: 'address-added' });
    expect(t.learnHost({ mac: '0a:00:00:00:00:01', dpid: 1n, port: 1, nowMs: 2 })).toEqual({ ok: true, change: 'refreshed' });
    const h = t.hostByIp('2001:db8::1')!;
    expect(h.mac).toBe('0a:00:00:00:00:01');
    expect([...h.ipv4]).toEqual(['10.0.0.1']);
    expect([...h.ipv6]).toEqual(['2001:db8::1']);
    expect(t.hostByIp('2001:DB8:0:0:0:0:0:1')?.mac).toBe('0a:00:00:00:00:01');
    expect(t.hostByMac('0a-00-00-00-00-01')?.attachment).toEqual({ dpid: 1n, port: 1 });
    expect(ev.map((e) => e.type)).toEqual(['host-added', 'host-address-added']);
  });

  it('refuses sightings that cannot be hosts', () => {
    const t = net();
    expect(t.learnHost({ mac: 'ff:ff:ff:ff:ff:ff', dpid: 1n, port: 1, nowMs: 0 })).toEqual({ ok: false, reason: 'bad-mac' });
    expect(t.learnHost({ mac: '01:00:5e:00:00:01', dpid: 1n, port: 1, nowMs: 0 })).toEqual({ ok: false, reason: 'bad-mac' });
    expect(t.learnHost({ mac: '00:00:00:00:00:00', dpid: 1n, port: 1, nowMs: 0 })).toEqual({ ok: false, reason: 'bad-mac' });
    expect(t.learnHost({ mac: 'nonsense', dpid: 1n, port: 1, nowMs: 0 })).toEqual({ ok: false, reason: 'bad-mac' });
    expect(t.learnHost({ mac: '0a:00:00:00:00:01', dpid: 9n, port: 1, nowMs: 0 })).toEqual({ ok: false, reason: 'unknown-switch' });
    expect(t.learnHost({ mac: '0a:00:00:00:00:01', dpid: 1n, port: 9, nowMs: 0 })).toEqual({ ok: false, reason: 'unknown-port' });
    expect(t.learnHost({ mac: '0a:00:00:00:00:01', dpid: 1n, port: 3, nowMs: 0 })).toEqual({ ok: false, reason: 'link-port' });
    for (const ip of ['0.0.0.0', '224.0.0.1', '::', 'ff02::1', '999.1.1.1', 'fe80::1%eth0', 'host']) {
      expect(t.learnHost({ mac: '0a:00:00:00:00:01', dpid: 1n, port: 1, ip, nowMs: 0 })).toEqual({ ok: false, reason: 'bad-address' });
    }
    expect(t.listHosts()).toEqual([]);
  });

  it('binds a MAC to its first port and an address to its first host: later claims are refused', () => {
    const t = net();
    const ev = recorder(t);
    const h1 = '0a:00:00:00:00:01';
    const h3 = '0a:00:00:00:00:03';
    expect(t.learnHost({ mac: h1, dpid: 1n, port: 1, ip: '10.0.0.1', nowMs: 0 })).toEqual({ ok: true, change: 'added' });
    expect(t.learnHost({ mac: h1, dpid: 1n, port: 1, ip: 'fe80::1', nowMs: 1 })).toEqual({ ok: true, change: 'address-added' });
    const before = JSON.stringify(t.snapshot());
    // a gratuitous ARP from another host claiming h1's address, from another port or the same one
    expect(t.learnHost({ mac: h3, dpid: 1n, port: 2, ip: '10.0.0.1', nowMs: 10 })).toEqual({ ok: false, reason: 'address-bound' });
    expect(t.learnHost({ mac: h3, dpid: 1n, port: 1, ip: '10.0.0.1', nowMs: 10 })).toEqual({ ok: false, reason: 'address-bound' });
    // the same for IPv6 (a neighbour advertisement)
    expect(t.learnHost({ mac: h3, dpid: 2n, port: 1, ip: 'FE80::1', nowMs: 10 })).toEqual({ ok: false, reason: 'address-bound' });
    // h1's MAC spoofed from another port
    expect(t.learnHost({ mac: h1, dpid: 2n, port: 2, ip: '10.0.0.1', nowMs: 10 })).toEqual({ ok: false, reason: 'move-refused' });
    expect(JSON.stringify(t.snapshot())).toBe(before);
    expect(t.hostByIp('10.0.0.1')).toMatchObject({ mac: h1, attachment: { dpid: 1n, port: 1 } });
    expect(ev.filter((e) => e.type !== 'host-added' && e.type !== 'host-address-added')).toEqual([]);
  });

  it('releases a binding when its host ages out or its port goes down', () => {
    const t = net();
    const ev = recorder(t);
    t.learnHost({ mac: '0a:00:00:00:00:01', dpid: 1n, port: 1, ip: '10.0.0.1', nowMs: 0 });
    // silent for longer than the host timeout: the MAC may show up elsewhere, without its old addresses
    expect(t.learnHost({ mac: '0a:00:00:00:00:01', dpid: 2n, port: 2, nowMs: 1001 })).toEqual({ ok: true, change: 'moved' });
    const moved = ev.find((e) => e.type === 'host-moved');
    expect(moved).toMatchObject({ from: { dpid: 1n, port: 1 }, host: { attachment: { dpid: 2n, port: 2 } } });
    expect(t.hostByIp('10.0.0.1')).toBeUndefined();
    // a second host claims an address whose owner aged out
    t.learnHost({ mac: '0a:00:00:00:00:03', dpid: 1n, port: 1, ip: '10.0.0.3', nowMs: 1001 });
    expect(t.learnHost({ mac: '0a:00:00:00:00:02', dpid: 1n, port: 2, ip: '10.0.0.3', nowMs: 1500 })).toEqual({ ok: false, reason: 'address-bound' });
    expect(t.learnHost({ mac: '0a:00:00:00:00:02', dpid: 1n, port: 2, ip: '10.0.0.3', nowMs: 2002 })).toEqual({ ok: true, change: 'added' });
    expect(t.hostByIp('10.0.0.3')?.mac).toBe('0a:00:00:00:00:02');
    expect([...t.hostByMac('0a:00:00:00:00:03')!.ipv4]).toEqual([]);
    // timeouts
    expect(t.expire(2003)).toEqual({ links: 1 - 1, hosts: 2 });
    expect(t.hostByMac('0a:00:00:00:00:01')).toBeUndefined();
    // port down forgets the host there, and its address is free at once
    t.updatePort(1n, { portNo: 2, up: false });
    expect(t.hostByIp('10.0.0.3')).toBeUndefined();
    expect(t.learnHost({ mac: '0a:00:00:00:00:04', dpid: 2n, port: 1, ip: '10.0.0.3', nowMs: 2004 })).toEqual({ ok: true, change: 'added' });
    expect(ev.filter((e) => e.type === 'host-removed').map((e) => (e.type === 'host-removed' ? e.reason : ''))).toEqual(['timeout', 'timeout', 'port-down']);
  });

  it('pins configured hosts: present when their port is up, never released, never moved', () => {
    const t = new Topology({ hostTimeoutMs: 1000, pinnedHosts: [{ mac: '0A:00:00:00:00:09', dpid: 1n, port: 1, ips: ['10.0.0.9', '2001:db8::9'] }] });
    expect(t.hostByIp('10.0.0.9')).toBeUndefined();
    t.addSwitch(1n, ports(3));
    expect(t.hostByIp('2001:db8::9')).toMatchObject({ mac: '0a:00:00:00:00:09', attachment: { dpid: 1n, port: 1 } });
    expect(t.learnHost({ mac: '0a:00:00:00:00:02', dpid: 1n, port: 2, ip: '10.0.0.9', nowMs: 5000 })).toEqual({ ok: false, reason: 'address-bound' });
    expect(t.learnHost({ mac: '0a:00:00:00:00:09', dpid: 1n, port: 2, nowMs: 5000 })).toEqual({ ok: false, reason: 'move-refused' });
    expect(t.expire(1e9).hosts).toBe(0);
    // down and up again: the pinned host comes back with its addresses
    t.updatePort(1n, { portNo: 1, up: false });
    expect(t.hostByIp('10.0.0.9')).toBeUndefined();
    expect(t.learnHost({ mac: '0a:00:00:00:00:02', dpid: 1n, port: 2, ip: '10.0.0.9', nowMs: 5000 })).toEqual({ ok: false, reason: 'address-bound' });
    t.updatePort(1n, { portNo: 1, up: true });
    expect(t.hostByIp('10.0.0.9')?.mac).toBe('0a:00:00:00:00:09');
  });

  it('a port that turns out to be a link is no longer a host attachment', () => {
    const t = net();
    t.learnHost({ mac: '0a:00:00:00:00:01', dpid: 1n, port: 2, nowMs: 0 });
    wire(t, 1n, 2, 2n, 2);
    expect(t.listHosts()).toEqual([]);
  });
});

describe('capacities', () => {
  it('override, then curr_speed, then the default', () => {
    const t = new Topology({ capacity: { defaultCapacityBps: 5e6, usePortSpeed: true, overrides: [{ dpid: formatDpid(1n), port: 1, capacityBps: 1e6 }] } });
    t.addSwitch(1n, [
      { portNo: 1, up: true, currSpeedKbps: 10_000_000 },
      { portNo: 2, up: true, currSpeedKbps: 100_000 },
      { portNo: 3, up: true, currSpeedKbps: 0 },
    ]);
    expect(t.portCapacityBps(1n, 1)).toBe(1e6);
    expect(t.portCapacityBps(1n, 2)).toBe(1e8);
    expect(t.portCapacityBps(1n, 3)).toBe(5e6);
    expect(t.portCapacityBps(7n, 1)).toBe(5e6);
    const noSpeed = new Topology({ capacity: { defaultCapacityBps: 5e6, usePortSpeed: false, overrides: [] } });
    noSpeed.addSwitch(1n, [{ portNo: 2, up: true, currSpeedKbps: 100_000 }]);
    expect(noSpeed.portCapacityBps(1n, 2)).toBe(5e6);
  });
});

describe('shortest paths', () => {
  it('hop count, deterministic tie-break, hops and resources', () => {
    // a square 1-2-4 and 1-3-4 (two equal paths) plus a long detour 1-5-6-4
    const t = new Topology();
    for (const d of [1n, 2n, 3n, 4n, 5n, 6n]) t.addSwitch(d, ports(4));
    wire(t, 1n, 2, 3n, 1); // added first, but 2 has the lower dpid
    wire(t, 3n, 2, 4n, 2);
    wire(t, 1n, 1, 2n, 1);
    wire(t, 2n, 2, 4n, 1);
    wire(t, 1n, 3, 5n, 1);
    wire(t, 5n, 2, 6n, 1);
    wire(t, 6n, 2, 4n, 3);
    expect(hopsOf(t, 1n, 4n)).toEqual(['1:1>2:1', '2:2>4:1']);
    expect(hopsOf(t, 4n, 1n)).toEqual(['4:1>2:2', '2:1>1:1']);
    expect(t.switchPath(1n, 1n)).toEqual([]);
    expect(t.switchPath(1n, 99n)).toBeUndefined();

    const p = t.pathBetweenPorts({ dpid: 1n, port: 4 }, { dpid: 4n, port: 4 })!;
    expect(p.hops).toEqual([
      { dpid: 1n, inPort: 4, outPort: 1 },
      { dpid: 2n, inPort: 1, outPort: 2 },
      { dpid: 4n, inPort: 1, outPort: 4 },
    ]);
    expect(p.resources).toEqual([portKey(1n, 1), portKey(2n, 2), portKey(4n, 4)]);
    expect(portKey(1n, 1)).toBe('0000000000000001:1');

    // the same network built in another order gives the same path
    const u = new Topology();
    for (const d of [6n, 5n, 4n, 3n, 2n, 1n]) u.addSwitch(d, ports(4));
    wire(u, 6n, 2, 4n, 3);
    wire(u, 2n, 2, 4n, 1);
    wire(u, 1n, 1, 2n, 1);
    wire(u, 1n, 3, 5n, 1);
    wire(u, 3n, 2, 4n, 2);
    wire(u, 1n, 2, 3n, 1);
    wire(u, 5n, 2, 6n, 1);
    expect(hopsOf(u, 1n, 4n)).toEqual(hopsOf(t, 1n, 4n));

    // losing switch 2 moves the path to 3; losing 3 too leaves the detour
    t.removeSwitch(2n);
    expect(hopsOf(t, 1n, 4n)).toEqual(['1:2>3:1', '3:2>4:2']);
    t.updatePort(3n, { portNo: 1, up: false });
    expect(hopsOf(t, 1n, 4n)).toEqual(['1:3>5:1', '5:2>6:1', '6:2>4:3']);
    t.updatePort(6n, { portNo: 2, up: false });
    expect(t.switchPath(1n, 4n)).toBeUndefined();
  });

  it('parallel links: the lower port wins', () => {
    const t = new Topology();
    t.addSwitch(1n, ports(3));
    t.addSwitch(2n, ports(3));
    wire(t, 1n, 3, 2n, 3);
    wire(t, 1n, 2, 2n, 2);
    expect(hopsOf(t, 1n, 2n)).toEqual(['1:2>2:2']);
  });

  it('uses only the directions LLDP has seen', () => {
    const t = new Topology();
    t.addSwitch(1n, ports(1));
    t.addSwitch(2n, ports(1));
    t.linkSeen({ dpid: 1n, port: 1 }, { dpid: 2n, port: 1 }, 0);
    expect(t.switchPath(1n, 2n)).toHaveLength(1);
    expect(t.switchPath(2n, 1n)).toBeUndefined();
  });

  it('paths between hosts by IP or MAC, on one switch and across', () => {
    const t = new Topology();
    t.addSwitch(1n, ports(3));
    t.addSwitch(2n, ports(3));
    wire(t, 1n, 3, 2n, 3);
    t.learnHost({ mac: '0a:00:00:00:00:01', dpid: 1n, port: 1, ip: '10.0.0.1', nowMs: 0 });
    t.learnHost({ mac: '0a:00:00:00:00:02', dpid: 1n, port: 2, ip: 'fd00::2', nowMs: 0 });
    t.learnHost({ mac: '0a:00:00:00:00:03', dpid: 2n, port: 1, ip: '10.0.0.3', nowMs: 0 });
    expect(t.pathBetweenHosts('10.0.0.1', 'fd00::2')?.hops).toEqual([{ dpid: 1n, inPort: 1, outPort: 2 }]);
    expect(t.pathBetweenHosts('10.0.0.1', '0a:00:00:00:00:03')?.hops).toEqual([
      { dpid: 1n, inPort: 1, outPort: 3 },
      { dpid: 2n, inPort: 3, outPort: 1 },
    ]);
    expect(t.pathBetweenHosts('10.0.0.1', '10.0.0.99')).toBeUndefined();
    expect(t.pathBetweenHosts('10.0.0.1', '10.0.0.1')).toBeUndefined();
    const snap = t.snapshot();
    expect(snap.hosts.map((h) => [h.mac, h.dpid, h.port])).toEqual([
      ['0a:00:00:00:00:01', '0000000000000001', 1],
      ['0a:00:00:00:00:02', '0000000000000001', 2],
      ['0a:00:00:00:00:03', '0000000000000002', 1],
    ]);
    expect(snap.links).toHaveLength(2);
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap); // JSON-ready: no bigints
  });

  it('a 100-switch grid: shortest paths have Manhattan length and are stable', () => {
    const t = new Topology();
    const id = (r: number, c: number) => BigInt(r * 10 + c + 1);
    // ports: 1 east, 2 west, 3 south, 4 north, 5 host
    for (let r = 0; r < 10; r++) for (let c = 0; c < 10; c++) t.addSwitch(id(r, c), ports(5));
    for (let r = 0; r < 10; r++) {
      for (let c = 0; c < 10; c++) {
        if (c < 9) wire(t, id(r, c), 1, id(r, c + 1), 2);
        if (r < 9) wire(t, id(r, c), 3, id(r + 1, c), 4);
      }
    }
    expect(t.listSwitches()).toHaveLength(100);
    expect(t.listLinks()).toHaveLength(2 * 2 * 9 * 10);
    let checked = 0;
    for (let a = 0; a < 100; a += 7) {
      for (let b = 0; b < 100; b += 11) {
        const [ra, ca, rb, cb] = [Math.floor(a / 10), a % 10, Math.floor(b / 10), b % 10];
        const path = t.pathBetweenPorts({ dpid: id(ra, ca), port: 5 }, { dpid: id(rb, cb), port: 5 })!;
        expect(path.hops.length - 1).toBe(Math.abs(ra - rb) + Math.abs(ca - cb));
        // consecutive hops are joined by real links
        for (let i = 0; i + 1 < path.hops.length; i++) {
          const link = t.listLinks().find((l) => l.src.dpid === path.hops[i]!.dpid && l.src.port === path.hops[i]!.outPort)!;
          expect(link.dst).toEqual({ dpid: path.hops[i + 1]!.dpid, port: path.hops[i + 1]!.inPort });
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
    // the corner-to-corner path is the same every time (cached or recomputed)
    const first = hopsOf(t, id(0, 0), id(9, 9));
    t.updatePort(id(5, 5), { portNo: 5, up: true }); // a change that invalidates the cache
    expect(hopsOf(t, id(0, 0), id(9, 9))).toEqual(first);
    // tie-break prefers the lower dpid at each step: along row 0 first (east), then down column 9
    expect(first![0]).toBe('1:1>2:2');
    expect(first!.at(-1)).toBe('90:3>100:4');
  });
});

describe('property: cached paths stay correct under random changes', () => {

  /** Plain BFS distances over the current link list, for comparison. */
  function distances(t: Topology, src: bigint): Map<bigint, number> {
    const links = t.listLinks().filter((l) => t.getSwitch(l.src.dpid)?.ports.get(l.src.port)?.up && t.getSwitch(l.dst.dpid)?.ports.get(l.dst.port)?.up);
    const dist = new Map<bigint, number>([[src, 0]]);
    const queue = [src];
    while (queue.length) {
      const at = queue.shift()!;
      for (const l of links) if (l.src.dpid === at && !dist.has(l.dst.dpid)) {
        dist.set(l.dst.dpid, dist.get(at)! + 1);
        queue.push(l.dst.dpid);
      }
    }
    return dist;
  }

  it('every path is made of live links and has the fewest hops', () => {
    const random = mulberry32(99);
    const t = new Topology({ linkTimeoutMs: 50 });
    const N = 12;
    for (let d = 1; d <= N; d++) t.addSwitch(BigInt(d), ports(6));
    const pick = () => BigInt(1 + Math.floor(random() * N));
    for (let step = 0; step < 600; step++) {
      const roll = random();
      const a = pick();
      const pa = 1 + Math.floor(random() * 6);
      if (roll < 0.55) {
        const b = pick();
        const pb = 1 + Math.floor(random() * 6);
        t.linkSeen({ dpid: a, port: pa }, { dpid: b, port: pb }, step);
        if (random() < 0.8) t.linkSeen({ dpid: b, port: pb }, { dpid: a, port: pa }, step);
      } else if (roll < 0.7) t.updatePort(a, { portNo: pa, up: false });
      else if (roll < 0.85) t.updatePort(a, { portNo: pa, up: true });
      else if (roll < 0.9) t.removeSwitch(a);
      else if (roll < 0.95) t.addSwitch(a, ports(6));
      else t.expire(step); // links not refreshed in the last 50 steps go
      const src = pick();
      const dist = t.hasSwitch(src) ? distances(t, src) : new Map<bigint, number>();
      for (let d = 1; d <= N; d++) {
        const dst = BigInt(d);
        const path = t.switchPath(src, dst);
        if (!t.hasSwitch(src) || !t.hasSwitch(dst) || !dist.has(dst)) {
          expect(path).toBeUndefined();
          continue;
        }
        expect(path).toBeDefined();
        expect(path!.length).toBe(dist.get(dst));
        let at = src;
        for (const l of path!) {
          expect(l.src.dpid).toBe(at);
          expect(t.listLinks()).toContainEqual(l);
          at = l.dst.dpid;
        }
        expect(at).toBe(dst);
      }
    }
  });
});
