// A spoofed source gets best-effort service, measured with traffic through real Open
// vSwitch: h0 holds a 4 Mbit/s gold reservation to h1 across a 10 Mbit/s link and sends
// at that rate, while a host on another port of h0's switch floods h1 with 12 Mbit/s of
// frames carrying h0's IP (then h0's IP and MAC) and marked DSCP 46 by itself. h0 keeps
// its rate and its class; the forged frames arrive as DSCP 0 and get no more than the
// capacity the reservation leaves. The forger's port has no host the controller accepted
// (all its claims are refused), and is an edge port all the same. The senders and the receiver are the testbed's own
// (mininet/udpflow.py, mininet/spoofflow.py).
// Not root, or OVS missing: skipped with the reason, except in CI, where that fails.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import { OpenFlowNetwork } from '../../src/network/network.js';
import { acquireOvsLock, addVethPortInNetns, ensureOvsRunning, eventually, OvsLab, ovsStatus, ping, python3Available, removeNetns, within, type VethPort } from '../helpers/ovs.js';

const execFileAsync = promisify(execFile);
const MININET = resolve(__dirname, '..', '..', 'mininet');
const PAID_MBIT = 4;
const SPOOF_MBIT = 12;
const CAPACITY_MBIT = 10;
const SECONDS = 8;

const ovs = ovsStatus();
test.runIf(ovs.requiredButMissing)('Open vSwitch is required when CI=true', () => {
  throw new Error(`CI=true but the Open vSwitch tests cannot run: ${ovs.reason}`);
});

interface Report {
  intervals: { sum: { bits_per_second: number } }[];
  ports: { port: number; received: number; firstDscp: number | null; markedDscp: number | null }[];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : 0;
};

describe.skipIf(!ovs.available || !python3Available())(`a spoofed source from another port${ovs.available ? '' : ` (skipped: ${ovs.reason})`}`, () => {
  const lab = new OvsLab({ switches: 2, links: [{ a: 0, pa: 2, b: 1, pb: 2 }], ipv4Prefix: '10.81.0', ipv6Prefix: 'fd00:81::' });
  const { bridges, hosts } = lab;
  const spooferNs = `pfsp${process.pid % 10000}`;
  let spoofer: VethPort;
  let network: OpenFlowNetwork;
  let dir = '';
  let releaseLock: (() => void) | undefined;

  beforeAll(async () => {
    releaseLock = await acquireOvsLock();
    await ensureOvsRunning();
    dir = mkdtempSync(join(tmpdir(), 'payflow-spoof-'));
    const config = defaultConfig();
    config.openflow.listen = { host: '127.0.0.1', port: 0 };
    config.topology.lldpIntervalMs = 300;
    config.log.level = 'silent';
    config.links.usePortSpeed = false;
    config.links.defaultCapacityBps = CAPACITY_MBIT * 1e6;
    network = new OpenFlowNetwork(config);
    await network.start();
    await lab.create(network.address!.port);
    spoofer = await addVethPortInNetns(bridges[0]!.name, 3, { netns: spooferNs, prefix: `${spooferNs}` });
    for (const b of bridges) await within(network.switchReady(b.dpid), 60_000, `bridge ${b.name} did not connect`);
    await eventually('h0 and h1 reach each other', async () => ping(hosts[0]!.netns, hosts[1]!.ipv4));
    await network.egressSettled();
    const path = network.topology.pathBetweenHosts(hosts[0]!.ipv4, hosts[1]!.ipv4)!;
    await network.enforcer.install({
      id: 'spoof-paid',
      classId: 'gold',
      dscp: 46,
      rateBps: PAID_MBIT * 1e6,
      burstBits: 400_000,
      match: { src: hosts[0]!.ipv4, dst: hosts[1]!.ipv4, proto: 17 },
      path,
      expiresAtMs: Date.now() + 300_000,
    });
  }, 600_000);

  afterAll(async () => {
    await network?.enforcer.remove('spoof-paid').catch(() => {});
    await network?.stop();
    await removeNetns(spooferNs, spooferNs);
    await lab.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
    releaseLock?.();
  }, 120_000);

  /** h0 at the paid rate to port 7101 and the spoofer's flood to 7102, both received in h1. */
  async function race(tag: string, forgeMac: boolean): Promise<{ paid: number; spoof: number; paidDscp: number | null; spoofDscp: (number | null)[] }> {
    const [h0, h1] = [hosts[0]!, hosts[1]!];
    const ns = (netns: string, ...args: string[]) => execFileAsync('ip', ['netns', 'exec', netns, ...args], { timeout: 60_000 });
    const recv = (port: number) => ns(h1.netns, 'python3', join(MININET, 'udpflow.py'), 'recv', '--port', String(port), '--seconds', String(SECONDS + 1), '--idle', '5', '--json', join(dir, `${tag}-${port}.json`));
    const receivers = [recv(7101), recv(7102)];
    await new Promise((r) => setTimeout(r, 500));
    const senders = [
      ns(h0.netns, 'python3', join(MININET, 'udpflow.py'), 'send', '--dst', h1.ipv4, '--port', '7101', '--rate', String(PAID_MBIT), '--seconds', String(SECONDS)),
      ns(spooferNs, 'python3', join(MININET, 'spoofflow.py'), '--iface', spoofer.nsSide, '--src-ip', h0.ipv4, ...(forgeMac ? ['--src-mac', h0.mac] : []),
        '--dst-ip', h1.ipv4, '--dst-mac', h1.mac, '--port', '7102', '--rate', String(SPOOF_MBIT), '--seconds', String(SECONDS), '--tos', String(46 << 2)),
    ];
    await Promise.all([...senders, ...receivers]);
    const read = (port: number) => JSON.parse(readFileSync(join(dir, `${tag}-${port}.json`), 'utf8')) as Report;
    const [p, s] = [read(7101), read(7102)];
    const rate = (r: Report) => median(r.intervals.slice(1, -1).map((i) => i.sum.bits_per_second / 1e6));
    return { paid: rate(p), spoof: rate(s), paidDscp: p.ports[0]!.firstDscp, spoofDscp: [s.ports[0]!.firstDscp, s.ports[0]!.markedDscp] };
  }

  for (const [tag, forgeMac] of [['its own MAC', false], ['the paying host\'s MAC', true]] as const) {
    test(`h0's address forged with ${tag}: best effort for the forger, the paid rate for h0`, async () => {
      const r = await race(forgeMac ? 'ipmac' : 'ip', forgeMac);
      console.log(`forged with ${tag}: h0 ${r.paid.toFixed(2)} Mbit/s (DSCP ${r.paidDscp}), forger ${r.spoof.toFixed(2)} Mbit/s (DSCP ${r.spoofDscp.join('/')})`);
      expect(r.paidDscp).toBe(46);
      expect(r.paid).toBeGreaterThanOrEqual(0.85 * PAID_MBIT);
      expect(r.spoofDscp[0]).toBe(0);
      expect(r.spoofDscp[1]).toBeNull();
      // best effort is metered to what the reservation leaves of the link (payload bits here)
      expect(r.spoof).toBeLessThanOrEqual(1.1 * (CAPACITY_MBIT - PAID_MBIT));
      expect(r.spoof).toBeGreaterThan(0.5);
      // the forged frames moved no binding
      expect(network.topology.hostByIp(hosts[0]!.ipv4)).toMatchObject({ mac: hosts[0]!.mac, attachment: { dpid: bridges[0]!.dpid, port: 1 } });
    }, 120_000);
  }
});
