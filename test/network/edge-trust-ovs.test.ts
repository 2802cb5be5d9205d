// Trust at the network edge against real Open vSwitch (userspace datapath) and real
// namespaces: a host cannot take over another host's address with a gratuitous ARP or an
// unsolicited neighbour advertisement; a second connection claiming a connected switch's
// datapath id is refused while the real switch stays; an allow-list keeps strangers out;
// mutual TLS with OVS's `ssl:` controller target works, and a client without a
// certificate signed by the configured CA is refused.
// Not root, or OVS missing: skipped with the reason, except in CI, where that fails.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import { OpenFlowNetwork } from '../../src/network/network.js';
import { buildArpRequest, buildNeighborAdvertisement } from '../../src/network/hosts.js';
import { FakeSwitch } from '../openflow/fake-switch.js';
import {
  acquireOvsLock,
  createNetdevBridge,
  deleteBridge,
  ensureOvsRunning,
  eventually,
  OvsLab,
  ovsStatus,
  ping,
  sendRawFrame,
  sleep,
  uniqueName,
  vsctl,
  within,
} from '../helpers/ovs.js';

const ovs = ovsStatus();
if (!ovs.available && !ovs.requiredButMissing) console.warn(`Open vSwitch tests skipped: ${ovs.reason}`);

test.runIf(ovs.requiredButMissing)('Open vSwitch is required when CI=true', () => {
  throw new Error(`CI=true but the Open vSwitch tests cannot run: ${ovs.reason}`);
});

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
    config.openflow.switches = bridges.map((b) => b.dpidHex);
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

  test('an impostor claiming a connected datapath id is refused and the real switch stays', async () => {
    const before = network.stats().switchesRefused ?? 0;
    const impostor = new FakeSwitch({ port: network.address!.port, datapathId: bridges[0]!.dpid });
    await impostor.closed;
    expect(network.stats().switchesRefused).toBe(before + 1);
    expect(network.stats().connectedSwitches).toBe(2);
    expect((await vsctl('get', 'controller', bridges[0]!.name, 'is_connected')).trim()).toBe('true');
    expect(await ping(hosts[0]!.netns, hosts[1]!.ipv4)).toBe(true);
  });

  test('a switch whose datapath id is not on the allow-list is refused', async () => {
    const before = network.stats().switchesRefused ?? 0;
    const stranger = new FakeSwitch({ port: network.address!.port, datapathId: 0xdeadn });
    await stranger.closed;
    expect(network.stats().switchesRefused).toBe(before + 1);
    expect(network.topology.hasSwitch(0xdeadn)).toBe(false);
  });
});

/** A CA and certificates signed by it, made with openssl in `dir`. */
function makePki(dir: string, name: string, leaves: string[]): void {
  const ossl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name} CA`, '-keyout', `${name}-ca.key`, '-out', `${name}-ca.pem`);
  for (const leaf of leaves) {
    ossl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${leaf}`, '-keyout', `${leaf}.key`, '-out', `${leaf}.csr`);
    ossl('x509', '-req', '-in', `${leaf}.csr`, '-CA', `${name}-ca.pem`, '-CAkey', `${name}-ca.key`, '-CAcreateserial', '-days', '2', '-out', `${leaf}.pem`);
  }
}

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
