// Controller benchmarks.
//   controller.admission — admission decisions per second on a 100-switch topology (a
//     10×10 grid, one host per switch) with 10k active reservations. One decision is what
//     the controller does for a reservation request: look up both hosts by IP, find the
//     shortest path (BFS trees cached per source switch, as between topology changes),
//     and run admission control over its egress ports; admitted ones are released again
//     so the state stays at 10k. The eastward links out of column 4 run at 100 Mbit/s, so large
//     requests (10 % of them, 50 Mbit/s) that cross there are refused.
import type { BenchSuite, BenchOperation } from './harness.js';
import { Topology, type PortInfo } from '../src/network/topology.js';
import { formatDpid } from '../src/util/dpid.js';
import { defaultConfig } from '../src/config/defaults.js';
import { ServiceClasses } from '../src/qos/classes.js';
import { AdmissionControl } from '../src/qos/admission.js';
import { mulberry32 } from '../src/util/random.js';

const SIDE = 10;
const ACTIVE = 10_000;
const DECISIONS = 1000;


function admissionSetup(): BenchOperation {
  const random = mulberry32(42);
  const id = (r: number, c: number) => BigInt(r * SIDE + c + 1);
  // ports: 1 east, 2 west, 3 south, 4 north, 5 host
  const slow = Array.from({ length: SIDE }, (_, r) => ({ dpid: formatDpid(id(r, 4)), port: 1, capacityBps: 1e8 }));
  const topology = new Topology({ capacity: { defaultCapacityBps: 1e10, usePortSpeed: false, overrides: slow } });
  const ports: PortInfo[] = [1, 2, 3, 4, 5].map((portNo) => ({ portNo, up: true }));
  for (let r = 0; r < SIDE; r++) for (let c = 0; c < SIDE; c++) topology.addSwitch(id(r, c), ports);
  const wire = (a: bigint, pa: number, b: bigint, pb: number) => {
    topology.linkSeen({ dpid: a, port: pa }, { dpid: b, port: pb }, 0);
    topology.linkSeen({ dpid: b, port: pb }, { dpid: a, port: pa }, 0);
  };
  for (let r = 0; r < SIDE; r++) {
    for (let c = 0; c < SIDE; c++) {
      if (c < SIDE - 1) wire(id(r, c), 1, id(r, c + 1), 2);
      if (r < SIDE - 1) wire(id(r, c), 3, id(r + 1, c), 4);
    }
  }
  const ips: string[] = [];
  for (let i = 0; i < SIDE * SIDE; i++) {
    const ip = `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`;
    const mac = `02:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
    topology.learnHost({ mac, dpid: BigInt(i + 1), port: 5, ip, nowMs: 0 });
    ips.push(ip);
  }
  const admission = new AdmissionControl(new ServiceClasses(defaultConfig().classes));
  for (const sw of topology.listSwitches()) for (const p of sw.ports.keys()) admission.capacity.setCapacity(`${formatDpid(sw.dpid)}:${p}`, topology.portCapacityBps(sw.dpid, p));
  const classIds = admission.classes.list().map((c) => c.id);
  const request = () => {
    const a = Math.floor(random() * ips.length);
    let b = Math.floor(random() * (ips.length - 1));
    if (b >= a) b++;
    return { src: ips[a]!, dst: ips[b]!, classId: classIds[Math.floor(random() * classIds.length)]!, rateBps: 10_000 + Math.floor(random() * 90_000) };
  };
  let seeded = 0;
  while (seeded < ACTIVE) {
    const q = request();
    const path = topology.pathBetweenHosts(q.src, q.dst)!;
    if (admission.admit({ id: `seed-${seeded}`, classId: q.classId, rateBps: q.rateBps, resources: path.resources }).ok) seeded++;
  }
  const requests = Array.from({ length: DECISIONS }, () => {
    const q = request();
    return { ...q, rateBps: random() < 0.1 ? 50_000_000 : q.rateBps };
  });
  let admitted = 0;
  let refused = 0;
  let n = 0;
  return {
    run() {
      for (let i = 0; i < DECISIONS; i++) {
        const q = requests[i]!;
        const path = topology.pathBetweenHosts(q.src, q.dst);
        if (!path) throw new Error('no path');
        const id = `bench-${n++}`;
        const r = admission.admit({ id, classId: q.classId, rateBps: q.rateBps, resources: path.resources });
        if (r.ok) {
          admitted++;
          admission.release(id);
        } else refused++;
      }
    },
    extra: () => ({ active: admission.stats().active, refusedPct: Math.round((1000 * refused) / Math.max(1, admitted + refused)) / 10 }),
  };
}

export const controllerSuite: BenchSuite = {
  name: 'controller',
  cases: () => [{ name: 'controller.admission', impl: 'ts', batch: DECISIONS, setup: admissionSetup }],
};
