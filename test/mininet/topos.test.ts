// The Mininet custom topologies, loaded through Mininet's own Python API (Debian's
// python3-mininet): node and link counts, dpids and link parameters as documented.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const python = '/usr/bin/python3';
const hasMininet =
  existsSync(python) && spawnSync(python, ['-c', 'import mininet.topo'], { encoding: 'utf8' }).status === 0;
if (!hasMininet && process.env['CI'] === 'true') throw new Error('CI: Mininet (python3-mininet) is not installed');

interface TopoSummary {
  switches: Record<string, string>;
  hosts: string[];
  links: Array<{ a: string; b: string; bw: number; delay: string | null }>;
}

function describeTopo(name: string, args = ''): TopoSummary {
  const script = `
import json, sys
sys.path.insert(0, 'mininet')
import topos
t = topos.topos[${JSON.stringify(name)}](${args})
print(json.dumps({
  'switches': {s: t.nodeInfo(s)['dpid'] for s in t.switches()},
  'hosts': t.hosts(),
  'links': [{'a': a, 'b': b, 'bw': i['bw'], 'delay': i.get('delay')} for a, b, i in t.links(withInfo=True)],
}))`;
  const r = spawnSync(python, ['-c', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as TopoSummary;
}

function neighbours(t: TopoSummary, node: string): string[] {
  return t.links.flatMap((l) => (l.a === node ? [l.b] : l.b === node ? [l.a] : [])).sort();
}

describe.skipIf(!hasMininet)('mininet/topos.py', () => {
  it('payflow: h1, h2 -- s1 -- s2, s3 -- h3, h4', () => {
    const t = describeTopo('payflow');
    expect(Object.keys(t.switches).sort()).toEqual(['s1', 's2', 's3']);
    expect(t.hosts.sort()).toEqual(['h1', 'h2', 'h3', 'h4']);
    expect(neighbours(t, 's1')).toEqual(['h1', 'h2', 's2', 's3']);
    expect(neighbours(t, 's2')).toEqual(['h3', 's1']);
    expect(neighbours(t, 's3')).toEqual(['h4', 's1']);
    expect(t.switches['s2']).toBe('0000000000000002');
  });

  it('diffserv: 2 edge + 4 core routers, three sources, 1 Mbit/s links, scalable, delay opt-in', () => {
    const t = describeTopo('diffserv');
    expect(Object.keys(t.switches)).toHaveLength(6);
    expect(t.hosts.sort()).toEqual(['sink', 'src12', 'src15', 'src8']);
    expect(t.links).toHaveLength(10);
    for (const l of t.links) expect([l.bw, l.delay]).toEqual([1, null]);
    for (const l of describeTopo('diffserv', "delay='1ms'").links) expect(l.delay).toBe('1ms');
    expect(neighbours(t, 'e1')).toEqual(['c1', 'c3', 'src12', 'src15', 'src8']);
    const scaled = describeTopo('diffserv', 'scale=10');
    for (const l of scaled.links) expect(l.bw).toBe(10);
  });

  it('fattree k=4: 20 switches, 16 hosts, 48 links; every dpid unique', () => {
    const t = describeTopo('fattree');
    expect(Object.keys(t.switches)).toHaveLength(20);
    expect(t.hosts).toHaveLength(16);
    expect(t.links).toHaveLength(48);
    expect(new Set(Object.values(t.switches)).size).toBe(20);
    // every core switch reaches every pod once
    for (const core of Object.keys(t.switches).filter((s) => s.startsWith('c'))) {
      expect(neighbours(t, core)).toHaveLength(4);
    }
  });

  it('fattree refuses an odd k', () => {
    expect(() => describeTopo('fattree', 'k=3')).toThrow(/k must be an even number/);
  });
});
