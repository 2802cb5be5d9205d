// Host bindings across a controller restart: written to a real SQLite file as the topology
// learns them, restored into a new topology that binds them again as soon as their switch
// port is up (so a spoofer cannot claim them first), released ones deleted.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HostStore } from '../../src/network/host-store.js';
import { Topology, type PortInfo } from '../../src/network/topology.js';
import { Store } from '../../src/store/index.js';

const ports = (n: number): PortInfo[] => Array.from({ length: n }, (_, i) => ({ portNo: i + 1, up: true }));

describe('host bindings survive a restart', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'payflow-hosts-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('are saved as learned, restored when their port comes up, and deleted when released', () => {
    const file = join(dir, 'payflow.db');
    {
      const store = Store.open(file);
      const hosts = new HostStore(store);
      const t = new Topology({ hostTimeoutMs: 1000 });
      hosts.follow(t);
      t.addSwitch(1n, ports(3));
      t.learnHost({ mac: '0a:00:00:00:00:01', dpid: 1n, port: 1, ip: '10.0.0.1', nowMs: 0 });
      t.learnHost({ mac: '0a:00:00:00:00:01', dpid: 1n, port: 1, ip: 'fd00::1', nowMs: 0 });
      t.learnHost({ mac: '0a:00:00:00:00:02', dpid: 1n, port: 2, ip: '10.0.0.2', nowMs: 0 });
      t.learnHost({ mac: '0a:00:00:00:00:03', dpid: 1n, port: 3, ip: '10.0.0.3', nowMs: 0 });
      t.updatePort(1n, { portNo: 3, up: false }); // released: deleted
      t.removeSwitch(1n); // the switch went away: its hosts stay stored
      store.close();
    }
    const store = Store.open(file);
    const hosts = new HostStore(store);
    expect(hosts.load().map((h) => [h.mac, h.port, h.addresses])).toEqual([
      ['0a:00:00:00:00:01', 1, ['10.0.0.1', 'fd00::1']],
      ['0a:00:00:00:00:02', 2, ['10.0.0.2']],
    ]);
    const t = new Topology({ hostTimeoutMs: 1000 });
    t.remember(hosts.load().map((h) => ({ mac: h.mac, dpid: h.dpid, port: h.port, ips: h.addresses })), 5000);
    expect(t.listHosts()).toEqual([]); // the switch is not back yet
    t.addSwitch(1n, ports(3));
    expect(t.hostByIp('fd00::1')).toMatchObject({ mac: '0a:00:00:00:00:01', attachment: { dpid: 1n, port: 1 } });
    expect(t.hostByIp('10.0.0.2')?.mac).toBe('0a:00:00:00:00:02');
    // bound before anyone spoke: a claim from elsewhere is refused
    expect(t.learnHost({ mac: '0a:00:00:00:00:09', dpid: 1n, port: 3, ip: '10.0.0.1', nowMs: 5001 })).toEqual({ ok: false, reason: 'address-bound' });
    store.close();
  });
});

describe('a restored binding keeps its real last sighting and gets a probe window', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'payflow-hosts-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A binding learned at 1 s, seen again at 50 s, written, and the controller restarted at 1000 s. */
  function restarted(options: { probeWindowMs: number; hostTimeoutMs: number }) {
    const file = join(dir, 'payflow.db');
    {
      const store = Store.open(file);
      const hosts = new HostStore(store);
      const t = new Topology({ hostTimeoutMs: options.hostTimeoutMs });
      hosts.follow(t);
      t.addSwitch(1n, ports(3));
      t.learnHost({ mac: '0a:00:00:00:00:01', dpid: 1n, port: 1, ip: '10.0.0.1', nowMs: 1000 });
      t.learnHost({ mac: '0a:00:00:00:00:01', dpid: 1n, port: 1, ip: 'fd00::1', nowMs: 1000 });
      t.learnHost({ mac: '0a:00:00:00:00:01', dpid: 1n, port: 1, ip: '10.0.0.1', nowMs: 50_000 });
      hosts.saveSightings(t.listHosts());
      store.close();
    }
    const store = Store.open(file);
    const stored = new HostStore(store).load();
    store.close();
    let now = 1_000_000;
    const t = new Topology({ hostTimeoutMs: options.hostTimeoutMs, restoredProbeWindowMs: options.probeWindowMs, clock: () => now });
    t.remember(stored.map((h) => ({ mac: h.mac, dpid: h.dpid, port: h.port, ips: h.addresses, lastSeenMs: h.lastSeenMs })), now);
    t.addSwitch(1n, ports(3));
    return { stored, t, advance: (ms: number) => (now += ms) };
  }

  it('stores the last sighting, not the learning time, and restores it, not the restart time', () => {
    const { stored, t } = restarted({ probeWindowMs: 5000, hostTimeoutMs: 10_000 });
    expect(stored.map((h) => h.lastSeenMs)).toEqual([50_000]);
    expect(t.hostByIp('10.0.0.1')?.lastSeenMs).toBe(50_000);
    expect(t.hostByIp('fd00::1')?.mac).toBe('0a:00:00:00:00:01');
  });

  it('is not released right after the reconnect, however old; it is once the probe window passes unanswered', () => {
    const { t } = restarted({ probeWindowMs: 5000, hostTimeoutMs: 10_000 });
    // within the window: a claim from another port is refused and expiry keeps the binding
    expect(t.learnHost({ mac: '0a:00:00:00:00:09', dpid: 1n, port: 3, ip: '10.0.0.1', nowMs: 1_000_001 })).toEqual({ ok: false, reason: 'address-bound' });
    expect(t.expire(1_004_000).hosts).toBe(0);
    expect(t.hostByIp('10.0.0.1')).toBeDefined();
    // nobody answered the probes: released after the window
    expect(t.expire(1_005_001).hosts).toBe(1);
    expect(t.hostByIp('10.0.0.1')).toBeUndefined();
  });

  it('stays bound once its host answers a probe within the window', () => {
    const { t } = restarted({ probeWindowMs: 5000, hostTimeoutMs: 10_000 });
    expect(t.learnHost({ mac: '0a:00:00:00:00:01', dpid: 1n, port: 1, ip: 'fd00::1', nowMs: 1_002_000 })).toMatchObject({ ok: true });
    expect(t.expire(1_005_001).hosts).toBe(0);
    expect(t.expire(1_011_999).hosts).toBe(0);
    expect(t.expire(1_012_001).hosts).toBe(1); // then it ages out as any host does
  });
});
