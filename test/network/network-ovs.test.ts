// OpenFlowNetwork against real Open vSwitch (userspace datapath): three netdev bridges in a
// triangle (a cyclic topology) linked by veth pairs, one host per bridge in a network
// namespace of its own. The controller discovers the links by LLDP, learns the hosts from
// ARP / ND, the hosts ping each other over IPv4 and IPv6 through proactive routes, an
// EnforcedReservation puts exactly the expected flows and meters in the switches (read
// back with ovs-ofctl), remove() takes them out, and after ovs-vswitchd is SIGKILLed and
// restarted the switches are brought back to the stored reservations. The topology is the
// shared OVS lab (bench/support/ovs-lab.ts), which test/app/e2e-ovs.test.ts and the
// controller.reserve_latency_ovs benchmark build too.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { defaultConfig } from '../../src/config/defaults.js';
import type { EnforcedReservation } from '../../src/network/contracts.js';
import { EnforcementError } from '../../src/network/enforcement.js';
import { reservationCookie } from '../../src/network/flows.js';
import { OpenFlowNetwork } from '../../src/network/network.js';
import {
  acquireOvsLock,
  ensureOvsRunning,
  eventually,
  killVswitchd,
  ofctl,
  OvsLab,
  ovsStatus,
  ping,
  run,
  startCapture,
  startOvs,
  within,
} from '../helpers/ovs.js';

const ovs = ovsStatus();
if (!ovs.available && !ovs.requiredButMissing) console.warn(`controller Open vSwitch tests skipped: ${ovs.reason}`);

test.runIf(ovs.requiredButMissing)('Open vSwitch is required when CI=true', () => {
  throw new Error(`CI=true but the controller Open vSwitch tests cannot run: ${ovs.reason}`);
});

describe.skipIf(!ovs.available)(`OpenFlowNetwork against Open vSwitch${ovs.available ? '' : ` (skipped: ${ovs.reason})`}`, () => {
  // triangle: s1:2–s2:2, s2:3–s3:2, s3:3–s1:3; host i on s(i+1) port 1 (bench/support/ovs-lab.ts)
  const lab = new OvsLab({
    switches: 3,
    links: [
      { a: 0, pa: 2, b: 1, pb: 2 },
      { a: 1, pa: 3, b: 2, pb: 2 },
      { a: 2, pa: 3, b: 0, pb: 3 },
    ],
  });
  const { bridges, hosts, links } = lab;
  let network: OpenFlowNetwork;
  let releaseLock: (() => void) | undefined;
  let captureDir = '';

  beforeAll(async () => {
    releaseLock = await acquireOvsLock();
    captureDir = mkdtempSync(join(tmpdir(), 'payflow-net-'));
    await ensureOvsRunning();
    const config = defaultConfig();
    config.openflow.listen = { host: '127.0.0.1', port: 0 };
    config.openflow.echoIntervalMs = 2000;
    config.topology.lldpIntervalMs = 300;
    config.topology.linkTimeoutMs = 10_000;
    config.stats.pollIntervalMs = 500;
    config.log.level = 'silent';
    // the s1 → s2 link is a 10 Mbit/s bottleneck
    config.links.overrides = [{ dpid: bridges[0]!.dpidHex, port: 2, capacityBps: 10e6 }];
    const logger = process.env.PAYFLOW_TEST_LOG ? pino({ level: process.env.PAYFLOW_TEST_LOG }, pino.destination(2)) : undefined;
    network = new OpenFlowNetwork(config, logger ? { logger } : {});
    await network.start();
    const port = network.address!.port;
    await lab.create(port);
    for (const b of bridges) await within(network.switchReady(b.dpid), 60_000, `bridge ${b.name} did not connect`);
  }, 600_000);

  afterAll(async () => {
    await network?.stop();
    await ensureOvsRunning().catch((e: Error) => console.error(`could not restart Open vSwitch: ${e.message}`));
    await lab.destroy();
    if (captureDir) rmSync(captureDir, { recursive: true, force: true });
    releaseLock?.();
  }, 120_000);

  test('LLDP discovers all six link directions of the triangle', async () => {
    await eventually('six links', () => network.topology.listLinks().length === 6);
    const seen = network.topology.listLinks().map((l) => `${l.src.dpid}:${l.src.port}>${l.dst.dpid}:${l.dst.port}`).sort();
    const expected = links.flatMap((l) => {
      const a = bridges[l.a]!.dpid;
      const b = bridges[l.b]!.dpid;
      return [`${a}:${l.pa}>${b}:${l.pb}`, `${b}:${l.pb}>${a}:${l.pa}`];
    });
    expect(seen).toEqual(expected.sort());
  });

  test('hosts are learned and ping each other over IPv4 and IPv6 (no loops in the triangle)', async () => {
    await eventually('six links', () => network.topology.listLinks().length === 6);
    for (const [from, to] of [[0, 1], [1, 2], [2, 0]] as const) {
      await eventually(`ping ${hosts[from]!.ipv4} → ${hosts[to]!.ipv4}`, () => ping(hosts[from]!.netns, hosts[to]!.ipv4)).catch(async (e: unknown) => {
        if (process.env.PAYFLOW_TEST_LOG) {
          console.error(JSON.stringify(network.topology.snapshot(), null, 1));
          for (const b of bridges) console.error(await ofctl('dump-flows', b.name));
        }
        throw e;
      });
      await eventually(`ping ${hosts[from]!.ipv6} → ${hosts[to]!.ipv6}`, () => ping(hosts[from]!.netns, hosts[to]!.ipv6));
    }
    for (const [i, h] of hosts.entries()) {
      const host = network.topology.hostByIp(h.ipv4);
      expect(host?.mac).toBe(h.mac);
      expect(host?.attachment).toEqual({ dpid: bridges[i]!.dpid, port: 1 });
      expect(network.topology.hostByIp(h.ipv6)?.mac).toBe(h.mac);
    }
    // proactive routes: s1 reaches h2's addresses straight over the s1–s2 link (port 2)
    const flows = await ofctl('dump-flows', bridges[0]!.name, 'table=1');
    expect(flows).toMatch(new RegExp(`priority=100,ip,nw_dst=${hosts[1]!.ipv4.replace(/\./g, '\\.')} actions=output:(2|"[^"]+")`));
    expect(flows).toMatch(new RegExp(`priority=100,ipv6,ipv6_dst=${hosts[1]!.ipv6} actions=output:`));
    expect(network.stats().connectedSwitches).toBe(3);
    expect(network.stats().openflowMessagesIn).toBeGreaterThan(0);
    expect(network.stats().openflowMessagesOut).toBeGreaterThan(0);
  });

  function reservation(id: string, expiresInMs = 600_000): EnforcedReservation {
    const path = network.topology.pathBetweenHosts(hosts[0]!.ipv4, hosts[1]!.ipv4);
    if (!path) throw new Error('no path h1 → h2');
    return {
      id,
      classId: 'gold',
      dscp: 46,
      rateBps: 4_000_000,
      burstBits: 400_000,
      match: { src: hosts[0]!.ipv4, dst: hosts[1]!.ipv4, proto: 17, dstPort: 5001 },
      path,
      expiresAtMs: Date.now() + expiresInMs,
    };
  }

  async function reservationFlows(bridge: string, id: string): Promise<string[]> {
    const cookie = `0x${reservationCookie(id).toString(16)}`;
    const out = await ofctl('dump-flows', bridge, `cookie=${cookie}/-1`);
    return out.split('\n').filter((l) => l.includes('cookie='));
  }

  test('install puts the ingress meter + marking flow on s1 and the DSCP flow on s2; remove takes them out', async () => {
    await eventually('h1 and h2 known', () => network.topology.pathBetweenHosts(hosts[0]!.ipv4, hosts[1]!.ipv4) !== undefined);
    const r = reservation('res-one');
    expect(r.path.hops.map((h) => [h.dpid, h.inPort, h.outPort])).toEqual([
      [bridges[0]!.dpid, 1, 2],
      [bridges[1]!.dpid, 2, 1],
    ]);
    await network.enforcer.install(r);
    expect(network.stats().reservationsInstalled).toBe(1);

    const s1 = await reservationFlows(bridges[0]!.name, r.id);
    expect(s1).toHaveLength(1);
    expect(s1[0]).toMatch(/priority=40000,udp,in_port=1?[^,]*,dl_src=[0-9a-f:]{17},nw_src=10\.77\.0\.1,nw_dst=10\.77\.0\.2,tp_dst=5001 actions=meter:2,set_field:46->ip_dscp,output:/);
    expect(s1[0]).toMatch(/hard_timeout=(59\d|600)/);
    expect(s1[0]).toContain('send_flow_rem');
    const s2 = await reservationFlows(bridges[1]!.name, r.id);
    expect(s2).toHaveLength(1);
    expect(s2[0]).toMatch(/priority=30000,udp,in_port=[^,]+,nw_src=10\.77\.0\.1,nw_dst=10\.77\.0\.2,nw_tos=184,tp_dst=5001 actions=output:/);
    expect(await reservationFlows(bridges[2]!.name, r.id)).toHaveLength(0);

    const meters = await ofctl('dump-meters', bridges[0]!.name);
    expect(meters).toMatch(/meter=2 kbps burst stats bands=\s*type=drop rate=4000 burst_size=400/);
    // best effort held to the bottleneck's capacity minus the reservation: 10 − 4 Mbit/s
    expect(meters).toMatch(/meter=1 kbps burst stats bands=\s*type=drop rate=6000 /);
    expect(await ofctl('dump-meters', bridges[1]!.name)).toMatch(/meter=1 kbps burst stats bands=\s*type=drop rate=6000 /);

    // a matching UDP packet from h1 arrives at h2 re-marked to DSCP 46 (TOS 0xb8)
    const capture = await startCapture(hosts[1]!.netns, `${hosts[1]!.veth}b`, 'udp dst port 5001', join(captureDir, 'marked.pcap'));
    const send = `import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nfor i in range(5): s.sendto(b'payflow',('${hosts[1]!.ipv4}',5001))`;
    await run('ip', ['netns', 'exec', hosts[0]!.netns, 'python3', '-c', send]);
    const frames = await capture.frames(1, 10_000);
    expect(frames.length).toBeGreaterThan(0);
    expect(frames[0]![14 + 1]).toBe(46 << 2);
    // egress scheduling on s2's host port: htb with one class per service class, the marked
    // packets counted in gold's class (classes in DSCP order: silver 5046:10, gold 5046:11, best effort 5046:12)
    await network.egressSettled();
    const dev = `${hosts[1]!.veth}a`;
    const filters = await run('tc', ['filter', 'show', 'dev', dev]);
    expect(filters).toMatch(/flowid 5046:11[\s\S]*match 00b80000\/00fc0000 at 0/);
    const classes = await run('tc', ['-s', 'class', 'show', 'dev', dev]);
    const gold = /class htb 5046:11 [^\n]*\n\s*Sent (\d+) bytes (\d+) pkt/.exec(classes);
    expect(gold, classes).not.toBeNull();
    expect(Number(gold![2])).toBeGreaterThanOrEqual(5);

    // the same reservation again with a new rate and end (an extension): updated in place
    await network.enforcer.install({ ...r, rateBps: 3_000_000, expiresAtMs: r.expiresAtMs + 60_000 });
    const extended = await reservationFlows(bridges[0]!.name, r.id);
    expect(extended).toHaveLength(1);
    expect(extended[0]).toMatch(/hard_timeout=(65\d|660)/);
    const meters2 = await ofctl('dump-meters', bridges[0]!.name);
    expect(meters2).toMatch(/meter=2 kbps burst stats bands=\s*type=drop rate=3000 burst_size=400/);
    expect(meters2).toMatch(/meter=1 kbps burst stats bands=\s*type=drop rate=7000 /);
    expect(meters2).not.toMatch(/meter=3 /);

    await network.enforcer.remove(r.id);
    expect(network.stats().reservationsInstalled).toBe(0);
    for (const b of bridges) expect(await reservationFlows(b.name, r.id)).toHaveLength(0);
    const after = await ofctl('dump-meters', bridges[0]!.name);
    expect(after).not.toMatch(/meter=2 /);
    expect(after).toMatch(/meter=1 kbps burst stats bands=\s*type=drop rate=100000000 /);
    await network.enforcer.remove(r.id); // idempotent
  });

  test('install rejects with a typed error and leaves nothing behind', async () => {
    const r = reservation('res-bad');
    const ghost: EnforcedReservation = { ...r, id: 'res-ghost', path: { hops: [...r.path.hops, { dpid: 0xdeadn, inPort: 1, outPort: 2 }], resources: r.path.resources } };
    await expect(network.enforcer.install(ghost)).rejects.toMatchObject({ name: 'EnforcementError', code: 'not-connected', dpid: '000000000000dead' });
    // the switch refuses a flow to a port beyond OFPP_MAX on the second hop: the first hop is rolled back
    const refused: EnforcedReservation = { ...r, path: { hops: [r.path.hops[0]!, { ...r.path.hops[1]!, outPort: 0xffffff01 }], resources: r.path.resources } };
    const err = await network.enforcer.install(refused).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(EnforcementError);
    expect((err as EnforcementError).code).toMatch(/switch-refused|failed/);
    for (const b of bridges) expect(await reservationFlows(b.name, r.id)).toHaveLength(0);
    expect(await ofctl('dump-meters', bridges[0]!.name)).not.toMatch(/meter=2 /);
    expect(network.stats().reservationsInstalled).toBe(0);
  });

  test('stats: a LoadSample per poll with the reservation class measured from its meter', async () => {
    const r = reservation('res-load');
    await network.enforcer.install(r);
    const samples: number[] = [];
    const unsubscribe = network.onLoad((s) => samples.push(s.classRateBps.gold ?? -1));
    const send = `import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nend=time.time()+3\nwhile time.time()<end:\n  s.sendto(b'x'*1000,('${hosts[1]!.ipv4}',5001))\n  time.sleep(0.005)`;
    await run('ip', ['netns', 'exec', hosts[0]!.netns, 'python3', '-c', send]);
    await eventually('two samples after the traffic', () => samples.length >= 2);
    unsubscribe();
    expect(Math.max(...samples)).toBeGreaterThan(0);
    await network.enforcer.remove(r.id);
  });

  test('an IPv6 reservation with a flow label is matched, metered and marked', async () => {
    const base = reservation('res-v6');
    const path = network.topology.pathBetweenHosts(hosts[0]!.ipv6, hosts[1]!.ipv6);
    expect(path?.hops).toEqual(base.path.hops);
    const r: EnforcedReservation = { ...base, path: path!, match: { src: hosts[0]!.ipv6, dst: hosts[1]!.ipv6, proto: 17, dstPort: 5002, flowLabel: 0x12345 } };
    await network.enforcer.install(r);
    const s1 = await reservationFlows(bridges[0]!.name, r.id);
    expect(s1).toHaveLength(1);
    expect(s1[0]).toMatch(/priority=40000,udp6,in_port=[^,]+,dl_src=[0-9a-f:]{17},ipv6_src=fd00:77::1,ipv6_dst=fd00:77::2,ipv6_label=0x12345,tp_dst=5002 actions=meter:2,set_field:46->ip_dscp,output:/);
    const s2 = await reservationFlows(bridges[1]!.name, r.id);
    expect(s2[0]).toMatch(/priority=30000,udp6,.*nw_tos=184.*tp_dst=5002 actions=output:/);
    await network.enforcer.remove(r.id);
    expect(await reservationFlows(bridges[0]!.name, r.id)).toHaveLength(0);
  });

  test('the best-effort meter holds an unreserved flood below the bottleneck while a reservation is in force', async () => {
    const r = reservation('res-protect');
    await network.enforcer.install(r);
    const dropsOfMeter1 = async (): Promise<number> => {
      const out = await ofctl('meter-stats', bridges[0]!.name, 'meter=1');
      const m = /0: packet_count:(\d+)/.exec(out);
      return m ? Number(m[1]) : -1;
    };
    const before = await dropsOfMeter1();
    expect(before).toBeGreaterThanOrEqual(0);
    // 3000 unreserved 1400-byte datagrams as fast as python sends them: far above the
    // meter's 6 Mbit/s and its burst, so its drop band must count drops
    const flood = `import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nfor i in range(3000): s.sendto(b'x'*1400,('${hosts[1]!.ipv4}',6000))`;
    await run('ip', ['netns', 'exec', hosts[0]!.netns, 'python3', '-c', flood]);
    await eventually('best-effort drops counted', async () => (await dropsOfMeter1()) > before);
    await network.enforcer.remove(r.id);
  });

  test('a hard timeout in the switch ends the reservation: flow-removed, event, other hops and meter cleaned', async () => {
    const r = reservation('res-short', 1500);
    const expired = new Promise<string>((resolve) => network.once('reservationExpired', resolve));
    await network.enforcer.install(r);
    expect(await reservationFlows(bridges[1]!.name, r.id)).toHaveLength(1);
    expect(await within(expired, 30_000, 'no reservationExpired event')).toBe(r.id);
    await eventually('cleaned up', async () => network.enforcer.get(r.id) === undefined);
    for (const b of bridges) expect(await reservationFlows(b.name, r.id)).toHaveLength(0);
    expect(await ofctl('dump-meters', bridges[0]!.name)).not.toMatch(/meter=2 /);
  });

  test('after ovs-vswitchd is killed and restarted, the stored reservation is back in the switches', async () => {
    const r = reservation('res-restart');
    await network.enforcer.install(r);
    const gone = Promise.all(bridges.map((b) => new Promise<void>((resolve) => {
      const on = (d: bigint): void => {
        if (d === b.dpid) {
          network.off('switchGone', on);
          resolve();
        }
      };
      network.on('switchGone', on);
    })));
    await killVswitchd();
    await within(gone, 60_000, 'switches did not disconnect');
    await startOvs();
    for (const b of bridges) await within(network.switchReady(b.dpid), 60_000, `bridge ${b.name} did not reconnect`);
    const s1 = await reservationFlows(bridges[0]!.name, r.id);
    expect(s1).toHaveLength(1);
    expect(s1[0]).toMatch(/priority=40000,udp,.*actions=meter:2,set_field:46->ip_dscp,output:/);
    expect(await reservationFlows(bridges[1]!.name, r.id)).toHaveLength(1);
    expect(await ofctl('dump-meters', bridges[0]!.name)).toMatch(/meter=2 kbps burst stats bands=\s*type=drop rate=4000 burst_size=400/);
    // restore() to the empty set takes it out again
    await network.enforcer.restore([]);
    expect(await reservationFlows(bridges[0]!.name, r.id)).toHaveLength(0);
    // hosts are learned again and talk
    await eventually('six links again', () => network.topology.listLinks().length === 6);
    await eventually('ping after restart', () => ping(hosts[0]!.netns, hosts[1]!.ipv4));
  });
});
