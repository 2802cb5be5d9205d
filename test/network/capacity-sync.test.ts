import { describe, expect, it } from 'vitest';
import { Topology, portKey } from '../../src/network/topology.js';
import { attachCapacitySync } from '../../src/network/capacity-sync.js';
import { formatDpid } from '../../src/util/dpid.js';
import { defaultConfig } from '../../src/config/defaults.js';
import { ServiceClasses } from '../../src/qos/classes.js';
import { AdmissionControl } from '../../src/qos/admission.js';

describe('capacity sync between topology and admission control', () => {
  it('follows switches and ports, and a path from the topology can be admitted', () => {
    const t = new Topology({ capacity: { defaultCapacityBps: 1e9, usePortSpeed: true, overrides: [{ dpid: formatDpid(2n), port: 1, capacityBps: 1e6 }] } });
    t.addSwitch(1n, [{ portNo: 1, up: true, currSpeedKbps: 10_000 }, { portNo: 2, up: true }]);
    const a = new AdmissionControl(new ServiceClasses(defaultConfig().classes));
    const stop = attachCapacitySync(t, a.capacity);
    expect(a.capacity.capacityOf(portKey(1n, 1))).toBe(1e7);
    expect(a.capacity.capacityOf(portKey(1n, 2))).toBe(1e9);
    t.addSwitch(2n, [{ portNo: 1, up: true }, { portNo: 2, up: true }]);
    expect(a.capacity.capacityOf(portKey(2n, 1))).toBe(1e6);
    t.linkSeen({ dpid: 1n, port: 2 }, { dpid: 2n, port: 2 }, 0);
    t.linkSeen({ dpid: 2n, port: 2 }, { dpid: 1n, port: 2 }, 0);
    t.learnHost({ mac: '0a:00:00:00:00:01', dpid: 1n, port: 1, ip: '10.0.0.1', nowMs: 0 });
    t.learnHost({ mac: '0a:00:00:00:00:02', dpid: 2n, port: 1, ip: '10.0.0.2', nowMs: 0 });
    const path = t.pathBetweenHosts('10.0.0.1', '10.0.0.2')!;
    expect(path.resources).toEqual([portKey(1n, 2), portKey(2n, 1)]);
    // host port 2/1 is 1 Mbit/s: gold Cmax there is 400 kbit/s
    const r = a.admit({ id: 'r', classId: 'gold', rateBps: 500_000, resources: path.resources });
    expect(r).toMatchObject({ ok: false, refusal: { code: 'insufficient-capacity', maxFitBps: 400_000, bottleneck: { resource: portKey(2n, 1) } } });
    expect(a.admit({ id: 'r', classId: 'gold', rateBps: 400_000, resources: path.resources }).ok).toBe(true);
    // port speed change
    t.updatePort(1n, { portNo: 1, up: true, currSpeedKbps: 100_000 });
    expect(a.capacity.capacityOf(portKey(1n, 1))).toBe(1e8);
    // a switch leaving: its ports lose capacity, the reservation shows as overcommitted
    t.removeSwitch(2n);
    expect(a.capacity.capacityOf(portKey(2n, 1))).toBeUndefined();
    expect(a.capacity.overcommitted().map((o) => o.resource)).toEqual([portKey(2n, 1)]);
    stop();
    t.addSwitch(3n, [{ portNo: 1, up: true }]);
    expect(a.capacity.capacityOf(portKey(3n, 1))).toBeUndefined();
  });
});
