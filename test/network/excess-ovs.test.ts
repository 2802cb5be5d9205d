// Excess towards a switch that cannot re-mark: real Open vSwitch (userspace datapath)
// advertises drop bands only (OFPMP_METER_FEATURES), so a class with `excess: degrade`
// falls back to drop there: one log line per switch says so, the controller's view
// (OpenFlowNetwork.excessBySwitch, shown by GET /v1/topology) says so, and the silver
// reservation's meter is the same drop-band meter as before, with the same flows.
// Not root, or OVS missing: skipped with the reason, except in CI, where that fails.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { defaultConfig } from '../../src/config/defaults.js';
import type { EnforcedReservation } from '../../src/network/contracts.js';
import { OpenFlowNetwork } from '../../src/network/network.js';
import { portKey } from '../../src/network/topology.js';
import { acquireOvsLock, ensureOvsRunning, OvsLab, ovsStatus, run, within } from '../helpers/ovs.js';
import { jsonLogSink } from '../helpers/log-sink.js';

const ovs = ovsStatus();
if (!ovs.available && !ovs.requiredButMissing) console.warn(`Open vSwitch tests skipped: ${ovs.reason}`);

test.runIf(ovs.requiredButMissing)('Open vSwitch is required when CI=true', () => {
  throw new Error(`CI=true but the Open vSwitch tests cannot run: ${ovs.reason}`);
});

describe.skipIf(!ovs.available)(`excess: degrade against Open vSwitch${ovs.available ? '' : ` (skipped: ${ovs.reason})`}`, () => {
  const lab = new OvsLab({ switches: 2, links: [{ a: 0, pa: 2, b: 1, pb: 2 }], ipv4Prefix: '10.79.0', ipv6Prefix: 'fd00:79::' });
  const { bridges, hosts } = lab;
  let network: OpenFlowNetwork;
  let releaseLock: (() => void) | undefined;
  const logLines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    releaseLock = await acquireOvsLock();
    await ensureOvsRunning();
    const config = defaultConfig();
    config.openflow.listen = { host: '127.0.0.1', port: 0 };
    config.topology.lldpIntervalMs = 300;
    config.classes[1]!.excess = 'degrade';
    config.classes[1]!.policing = { green: 'forward', yellow: 'downgrade', red: 'downgrade' };
    const sink = jsonLogSink(logLines);
    network = new OpenFlowNetwork(config, { egress: false, logger: pino({ level: 'info' }, sink) });
    await network.start();
    await lab.create(network.address!.port);
    for (const b of bridges) await within(network.switchReady(b.dpid), 60_000, `bridge ${b.name} did not connect`);
  }, 600_000);

  afterAll(async () => {
    await network?.stop();
    await lab.destroy();
    releaseLock?.();
  }, 120_000);

  test('Open vSwitch advertises drop bands only: silver falls back to drop, in one log line per switch and in the view', () => {
    const views = network.excessBySwitch();
    expect(views.map((v) => v.dpid).sort()).toEqual(bridges.map((b) => b.dpidHex).sort());
    for (const v of views) {
      expect(v.meterBands).toEqual(['drop']);
      expect(v.payflowSwitch).toBe(false);
      expect(v.excess.find((e) => e.classId === 'silver')).toEqual({ classId: 'silver', policy: 'degrade', excess: 'dropped', reason: 'the switch has no dscp_remark meter band' });
    }
    const lines = logLines.filter((l) => String(l.msg).startsWith('switch cannot re-mark'));
    expect(lines.map((l) => l.dpid).sort()).toEqual(bridges.map((b) => b.dpidHex).sort());
    expect(lines[0]).toMatchObject({ meterBands: ['drop'], classes: ['silver'] });
  });

  test('a silver reservation gets the drop-band meter and the one-table ingress flow, as before', async () => {
    const r: EnforcedReservation = {
      id: 'silver-on-ovs',
      classId: 'silver',
      dscp: 26,
      rateBps: 2_000_000,
      burstBits: 100_000,
      match: { src: hosts[0]!.ipv4, dst: hosts[1]!.ipv4, proto: 17, dstPort: 5001 },
      path: {
        hops: [
          { dpid: bridges[0]!.dpid, inPort: 1, outPort: 2 },
          { dpid: bridges[1]!.dpid, inPort: 2, outPort: 1 },
        ],
        resources: [portKey(bridges[0]!.dpid, 2), portKey(bridges[1]!.dpid, 1)],
      },
      expiresAtMs: Date.now() + 120_000,
    };
    await network.enforcer.install(r);
    const meters = await run('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-meters', bridges[0]!.name]);
    expect(meters).toMatch(/meter=2 kbps burst stats bands=\s*type=drop rate=2000 burst_size=100/);
    const flows = await run('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-flows', bridges[0]!.name]);
    expect(flows).toMatch(/priority=40000.*actions=meter:2,set_field:26->ip_dscp,output:2/);
    expect(flows).not.toMatch(/table=[23]/);
    await network.enforcer.remove(r.id);
  }, 60_000);
});
