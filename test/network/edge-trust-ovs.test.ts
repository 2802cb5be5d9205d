// Trust at the network edge against real Open vSwitch (userspace datapath) and real
// namespaces: a host cannot take over another host's address with a gratuitous ARP or an
// unsolicited neighbour advertisement; a second connection claiming a connected switch's
// datapath id is refused while the real switch stays; an allow-list keeps strangers out;
// mutual TLS with OVS's `ssl:` controller target works, and a client without a
// certificate signed by the configured CA is refused.
// Not root, or OVS missing: skipped with the reason, except in CI, where that fails.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import { OpenFlowNetwork } from '../../src/network/network.js';
import { buildArpRequest, buildNeighborAdvertisement } from '../../src/network/hosts.js';
import { FakeSwitch, port as fakePort } from '../openflow/fake-switch.js';
import {
  acquireOvsLock,
  createNetdevBridge,
  deleteBridge,
  ensureOvsRunning,
  eventually,
  OvsLab,
  ovsStatus,
  ping,
  run,
  sendRawFrame,
  sleep,
  startCapture,
  uniqueName,
  vsctl,
  within,
} from '../helpers/ovs.js';
import { makePki } from '../helpers/pki.js';

const ovs = ovsStatus();
if (!ovs.available && !ovs.requiredButMissing) console.warn(`Open vSwitch tests skipped: ${ovs.reason}`);

test.runIf(ovs.requiredButMissing)('Open vSwitch is required when CI=true', () => {
  throw new Error(`CI=true but the Open vSwitch tests cannot run: ${ovs.reason}`);
});

/** A fake switch on the allow-list that advertises a port named `lo`. */
const LO_SWITCH = 0x10fn;

function baseConfig() {
  const config = defaultConfig();
  config.openflow.listen = { host: '127.0.0.1', port: 0 };
  config.openflow.echoIntervalMs = 2000;
  config.topology.lldpIntervalMs = 300;
  config.stats.pollIntervalMs = 1000;
  config.log.level = 'silent';
  return config;
}

describe.skipIf(!ovs.available)(`edge trust against Open vSwitch${ovs.available ? '' : ` (skipped: ${ovs.reason})`}`, () => {
  // two bridges in a line, a host on each: h0 on s0 port 1, h1 on s1 port 1
  const lab = new OvsLab({ switches: 2, links: [{ a: 0, pa: 2, b: 1, pb: 2 }], ipv4Prefix: '10.78.0', ipv6Prefix: 'fd00:78::' });
  const { bridges, hosts } = lab;
  let network: OpenFlowNetwork;
  let releaseLock: (() => void) | undefined;

  beforeAll(async () => {
    releaseLock = await acquireOvsLock();
    await ensureOvsRunning();
    const config = baseConfig();
    config.openflow.switches = [...bridges.map((b) => b.dpidHex), LO_SWITCH.toString(16).padStart(16, '0')];
    network = new OpenFlowNetwork(config);
    await network.start();
    await lab.create(network.address!.port);
    for (const b of bridges) await within(network.switchReady(b.dpid), 60_000, `bridge ${b.name} did not connect`);
    await eventually('h0 and h1 reach each other', async () => (await ping(hosts[0]!.netns, hosts[1]!.ipv4)) && (await ping(hosts[1]!.netns, hosts[0]!.ipv6)));
  }, 600_000);

  afterAll(async () => {
    await network?.stop();
    await lab.destroy();
    releaseLock?.();
  }, 120_000);

  test('a gratuitous ARP and an unsolicited NA claiming h0\'s addresses from h1 are refused; h0 keeps them', async () => {
    const [h0, h1] = [hosts[0]!, hosts[1]!];
    const before = network.stats().hostMovesRefused ?? 0;
    const arp = buildArpRequest({ senderMac: h1.mac, senderIp: h0.ipv4, targetIp: h0.ipv4 });
    const na = buildNeighborAdvertisement({ target: h0.ipv6, targetMac: h1.mac, toMac: '33:33:00:00:00:01', toIp: 'ff02::1' });
    for (let i = 0; i < 3; i++) {
      await sendRawFrame(h1.netns, `${h1.veth}b`, arp);
      await sendRawFrame(h1.netns, `${h1.veth}b`, na);
    }
    await eventually('the claims counted as refused', () => (network.stats().hostMovesRefused ?? 0) >= before + 2);
    expect(network.topology.hostByIp(h0.ipv4)).toMatchObject({ mac: h0.mac, attachment: { dpid: bridges[0]!.dpid, port: 1 } });
    expect(network.topology.hostByIp(h0.ipv6)).toMatchObject({ mac: h0.mac });
    // and h0 is still reachable at its own port
    expect(await ping(h1.netns, h0.ipv4)).toBe(true);
  });

  /** An IPv4/UDP frame from h0's namespace to h1 with the given TOS, source MAC and source address. */
  function udpFrame(o: { srcMac: string; dstMac: string; src: string; dst: string; tos: number; dport: number }): Uint8Array {
    const f = new Uint8Array(14 + 20 + 8 + 18);
    const mac = (m: string) => m.split(':').map((x) => parseInt(x, 16));
    f.set(mac(o.dstMac), 0);
    f.set(mac(o.srcMac), 6);
    f.set([0x08, 0x00], 12);
    const ip = 14;
    f.set([0x45, o.tos, 0, 20 + 8 + 18, 0, 1, 0x40, 0, 64, 17, 0, 0], ip);
    f.set(o.src.split('.').map(Number), ip + 12);
    f.set(o.dst.split('.').map(Number), ip + 16);
    let sum = 0;
    for (let i = 0; i < 20; i += 2) sum += (f[ip + i]! << 8) | f[ip + i + 1]!;
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
    f.set([(~sum >> 8) & 0xff, ~sum & 0xff], ip + 10);
    f.set([0x30, 0x39, o.dport >> 8, o.dport & 0xff, 0, 8 + 18, 0, 0], ip + 20);
    return f;
  }

  /** The DSCP of every UDP packet to `dport` that h1 receives while `send` runs. */
  async function dscpSeenAtH1(dport: number, send: () => Promise<void>): Promise<number[]> {
    const [h1] = [hosts[1]!];
    const dir = mkdtempSync(join(tmpdir(), 'payflow-edge-'));
    try {
      const capture = await startCapture(h1.netns, `${h1.veth}b`, `udp dst port ${dport}`, join(dir, 'c.pcap'));
      await send();
      const frames = await capture.frames(3, 10_000);
      return frames.map((f) => f[15]! >> 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  test('a host that marks its own packets DSCP 46 is re-marked to best effort at its edge port', async () => {
    const [h0, h1] = [hosts[0]!, hosts[1]!];
    const frame = udpFrame({ srcMac: h0.mac, dstMac: h1.mac, src: h0.ipv4, dst: h1.ipv4, tos: 46 << 2, dport: 7001 });
    const seen = await dscpSeenAtH1(7001, async () => {
      for (let i = 0; i < 3; i++) await sendRawFrame(h0.netns, `${h0.veth}b`, frame);
    });
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(new Set(seen)).toEqual(new Set([0]));
  });

  test('a reserved flow keeps its class; the same addresses from another MAC get best effort', async () => {
    const [h0, h1] = [hosts[0]!, hosts[1]!];
    const path = network.topology.pathBetweenHosts(h0.ipv4, h1.ipv4)!;
    expect(path).toBeDefined();
    await network.enforcer.install({
      id: 'edge-trust-1',
      classId: 'gold',
      dscp: 46,
      rateBps: 50e6,
      burstBits: 1e6,
      match: { src: h0.ipv4, dst: h1.ipv4, proto: 17, dstPort: 7002 },
      path,
      expiresAtMs: Date.now() + 120_000,
    });
    try {
      const paid = await dscpSeenAtH1(7002, async () => {
        const f = udpFrame({ srcMac: h0.mac, dstMac: h1.mac, src: h0.ipv4, dst: h1.ipv4, tos: 0, dport: 7002 });
        for (let i = 0; i < 3; i++) await sendRawFrame(h0.netns, `${h0.veth}b`, f);
      });
      expect(new Set(paid)).toEqual(new Set([46]));
      // the same port and addresses with a MAC that is not the bound host's
      const spoofed = await dscpSeenAtH1(7002, async () => {
        const f = udpFrame({ srcMac: '02:66:66:66:66:66', dstMac: h1.mac, src: h0.ipv4, dst: h1.ipv4, tos: 46 << 2, dport: 7002 });
        for (let i = 0; i < 3; i++) await sendRawFrame(h0.netns, `${h0.veth}b`, f);
      });
      expect(new Set(spoofed)).toEqual(new Set([0]));
    } finally {
      await network.enforcer.remove('edge-trust-1');
    }
  });

  test('an impostor claiming a connected datapath id is refused and the real switch stays', async () => {
    const before = network.stats().switchesRefused ?? 0;
    const impostor = new FakeSwitch({ port: network.address!.port, datapathId: bridges[0]!.dpid });
    await impostor.closed;
    expect(network.stats().switchesRefused).toBe(before + 1);
    expect(network.stats().connectedSwitches).toBe(2);
    expect((await vsctl('get', 'controller', bridges[0]!.name, 'is_connected')).trim()).toBe('true');
    expect(await ping(hosts[0]!.netns, hosts[1]!.ipv4)).toBe(true);
  });

  test('a port advertised as `lo` by a switch never reaches tc: the loopback keeps its qdisc', async () => {
    const before = await run('tc', ['qdisc', 'show', 'dev', 'lo', 'root']);
    const sw = new FakeSwitch({ port: network.address!.port, datapathId: LO_SWITCH, ports: [fakePort(1, 'lo'), fakePort(2, `${hosts[0]!.veth}a`)] });
    try {
      await within(network.switchReady(LO_SWITCH), 30_000, 'the fake switch did not connect');
      await network.egressSettled();
      expect(await run('tc', ['qdisc', 'show', 'dev', 'lo', 'root'])).toBe(before);
      // nor does a real interface that this switch does not own (it is s0's port 1)
      expect(await run('tc', ['qdisc', 'show', 'dev', `${hosts[0]!.veth}a`, 'root'])).toMatch(/htb 5046:/);
    } finally {
      sw.destroy();
    }
  });

  test('a port whose root qdisc someone else set is left alone, and its rate becomes the link capacity', async () => {
    const dev = `${hosts[1]!.veth}a`;
    const s1 = bridges[1]!.dpid;
    await run('tc', ['qdisc', 'del', 'dev', dev, 'root']);
    await run('tc', ['qdisc', 'add', 'dev', dev, 'root', 'handle', '5:', 'tbf', 'rate', '7mbit', 'burst', '32kbit', 'latency', '400ms']);
    // a link flap makes the switch report the port again, and the controller look at it again
    await run('ip', ['link', 'set', dev, 'down']);
    await run('ip', ['link', 'set', dev, 'up']);
    await eventually('the port capacity follows the tbf', async () => {
      await network.egressSettled();
      return network.topology.portCapacityBps(s1, 1) === 7e6;
    });
    expect(await run('tc', ['qdisc', 'show', 'dev', dev, 'root'])).toMatch(/^qdisc tbf 5: root .*rate 7Mbit/);
    const snapshot = network.topology.snapshot();
    expect(snapshot.switches.find((s) => s.dpid === bridges[1]!.dpidHex)!.ports.find((p) => p.portNo === 1)!.capacityBps).toBe(7e6);
  });

  test('a switch whose datapath id is not on the allow-list is refused', async () => {
    const before = network.stats().switchesRefused ?? 0;
    const stranger = new FakeSwitch({ port: network.address!.port, datapathId: 0xdeadn });
    await stranger.closed;
    expect(network.stats().switchesRefused).toBe(before + 1);
    expect(network.topology.hasSwitch(0xdeadn)).toBe(false);
  });
});

describe.skipIf(!ovs.available)(`mutual TLS with Open vSwitch${ovs.available ? '' : ` (skipped: ${ovs.reason})`}`, () => {
  const bridge = uniqueName('pftls');
  const dpidHex = `00000000${Math.floor(Math.random() * 0xffffffff).toString(16).padStart(8, '0')}`;
  let dir = '';
  let network: OpenFlowNetwork;
  let releaseLock: (() => void) | undefined;

  beforeAll(async () => {
    releaseLock = await acquireOvsLock();
    await ensureOvsRunning();
    dir = mkdtempSync(join(tmpdir(), 'payflow-tls-'));
    makePki(dir, 'good', ['controller', 'switch']);
    makePki(dir, 'other', ['rogue']);
    const config = baseConfig();
    config.openflow.tls = { cert: join(dir, 'controller.pem'), key: join(dir, 'controller.key'), ca: join(dir, 'good-ca.pem') };
    network = new OpenFlowNetwork(config);
    await network.start();
    await vsctl('set-ssl', join(dir, 'switch.key'), join(dir, 'switch.pem'), join(dir, 'good-ca.pem'));
    await createNetdevBridge({ name: bridge, controllerPort: network.address!.port, datapathId: dpidHex });
    await vsctl('set-controller', bridge, `ssl:127.0.0.1:${network.address!.port}`);
  }, 600_000);

  afterAll(async () => {
    await network?.stop();
    await deleteBridge(bridge);
    await vsctl('del-ssl').catch(() => {});
    if (dir) rmSync(dir, { recursive: true, force: true });
    releaseLock?.();
  }, 120_000);

  test('Open vSwitch connects over ssl: with a certificate the configured CA signed', async () => {
    await within(network.switchReady(BigInt(`0x${dpidHex}`)), 60_000, 'the TLS switch did not connect');
    expect(network.stats().connectedSwitches).toBe(1);
  });

  test('a client without a certificate, or with one from another CA, never reaches the handshake', async () => {
    const attempt = (options: { key?: string; cert?: string }) =>
      new Promise<string>((resolve) => {
        const socket = tlsConnect({ host: '127.0.0.1', port: network.address!.port, rejectUnauthorized: false, ...options });
        socket.on('error', (err) => resolve(`error: ${err.message}`));
        socket.on('close', () => resolve('closed'));
        // a refused client certificate shows as an alert or a close right after the handshake
        socket.on('secureConnect', () => socket.write(Buffer.from([4, 0, 0, 8, 0, 0, 0, 1])));
      });
    const rogue = await attempt({ key: readFileSync(join(dir, 'rogue.key'), 'utf8'), cert: readFileSync(join(dir, 'rogue.pem'), 'utf8') });
    const anonymous = await attempt({});
    expect(rogue).toMatch(/error|closed/);
    expect(anonymous).toMatch(/error|closed/);
    await sleep(500);
    expect(network.stats().connectedSwitches).toBe(1);
  });
});
