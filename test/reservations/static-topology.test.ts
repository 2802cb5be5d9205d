// topology.static and openflow.enabled in payflow.yaml (a way to know
// hosts without switches) and the StaticNetwork built from them.
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { StaticNetwork } from '../../src/app/main.js';

const good = `
openflow: { enabled: false }
links: { defaultCapacity: 10mbit, overrides: [ { dpid: 2, port: 1, capacity: 1mbit } ] }
topology:
  static:
    links:
      - { a: { dpid: 1, port: 2 }, b: { dpid: "00:00:00:00:00:00:00:02", port: 1 } }
    hosts:
      - { mac: "02:00:00:00:00:01", at: { dpid: 1, port: 1 }, ips: ["10.0.0.1", "FD00:0::1"] }
      - { mac: "02-00-00-00-00-02", at: { dpid: 2, port: 2 }, ips: ["10.0.0.2"] }
`;

describe('static topology', () => {
  it('is read with dpids, MACs and addresses normalised', () => {
    const r = parseConfigText(good);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect(r.config.openflow.enabled).toBe(false);
    expect(r.config.topology.static).toEqual({
      links: [{ a: { dpid: '0000000000000001', port: 2 }, b: { dpid: '0000000000000002', port: 1 } }],
      hosts: [
        { mac: '02:00:00:00:00:01', at: { dpid: '0000000000000001', port: 1 }, ips: ['10.0.0.1', 'fd00::1'] },
        { mac: '02:00:00:00:00:02', at: { dpid: '0000000000000002', port: 2 }, ips: ['10.0.0.2'] },
      ],
    });
    expect(parseConfigText('').ok && parseConfigText('').ok).toBe(true);
  });

  it('gives a StaticNetwork with both link directions, the hosts, capacities and paths', async () => {
    const r = parseConfigText(good);
    if (!r.ok) throw new Error('bad');
    const net = new StaticNetwork(r.config);
    await net.start();
    expect(net.topology.listLinks()).toHaveLength(2);
    const path = net.topology.pathBetweenHosts('10.0.0.1', '10.0.0.2')!;
    expect(path.resources).toEqual(['0000000000000001:2', '0000000000000002:2']);
    expect(net.topology.pathBetweenHosts('fd00::1', '10.0.0.2')).toBeDefined();
    expect(net.topology.portCapacityBps(2n, 1)).toBe(1e6);
    expect(net.topology.portCapacityBps(1n, 2)).toBe(10e6);
    // its enforcer records and installs nothing anywhere; stats say so
    await net.enforcer.install({ id: 'a', classId: 'gold', dscp: 46, rateBps: 1, burstBits: 1, match: { src: '10.0.0.1', dst: '10.0.0.2' }, path, expiresAtMs: 1 });
    expect(net.recordedReservations().map((x) => x.id)).toEqual(['a']);
    expect(net.stats()).toEqual({ connectedSwitches: 0, openflowMessagesIn: 0, openflowMessagesOut: 0, reservationsInstalled: 0 });
    await net.enforcer.remove('a');
    expect(net.recordedReservations()).toEqual([]);
  });

  it('refuses bad entries with the path of each', () => {
    const r = parseConfigText(`
openflow: { enabled: "no" }
topology:
  static:
    links:
      - { a: { dpid: 1, port: 2 }, b: { dpid: 1, port: 3 } }
      - { a: { dpid: 1, port: 0 }, b: { dpid: xyz, port: 1 } }
      - { a: { dpid: 3, port: 1 } }
      - { a: { dpid: 4, port: 1 }, b: { dpid: 5, port: 1 } }
    hosts:
      - { mac: "01:00:5e:00:00:01", at: { dpid: 1, port: 1 }, ips: ["10.0.0.1"] }
      - { mac: "02:00:00:00:00:02", at: { dpid: 4, port: 1 }, ips: ["224.0.0.1", 5] }
      - { mac: "02:00:00:00:00:03", at: { dpid: 1, port: 9 }, ips: [] , extra: 1 }
      - { mac: "02:00:00:00:00:04", ips: ["10.0.0.4"] }
    switches: []
`);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const paths = r.issues.map((i) => i.path);
    for (const p of [
      'openflow.enabled',
      'topology.static.links[0]',
      'topology.static.links[1].a.port',
      'topology.static.links[1].b.dpid',
      'topology.static.links[2].b',
      'topology.static.hosts[0].mac',
      'topology.static.hosts[1].at',
      'topology.static.hosts[1].ips[0]',
      'topology.static.hosts[1].ips[1]',
      'topology.static.hosts[2].ips',
      'topology.static.hosts[2].extra',
      'topology.static.hosts[3].at',
      'topology.static.switches',
    ]) expect(paths, `${p} in ${JSON.stringify(r.issues)}`).toContain(p);
  });
});
