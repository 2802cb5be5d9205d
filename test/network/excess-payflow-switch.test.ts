// Excess traffic degraded, not dropped, towards a switch that can re-mark: the controller
// (OpenFlowNetwork) reads a real `payflow switch`'s meter features and description over a
// real socket, installs a silver reservation with a dscp_remark band (tables 0 → 2 → 3),
// and UDP sent from one namespace beyond the paid rate arrives in the other with the
// raised AF drop precedence (AF31 = 26 in profile, AF32 = 28 beyond it), none dropped.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/defaults.js';
import type { EnforcedReservation, LoadSample } from '../../src/network/contracts.js';
import { OpenFlowNetwork } from '../../src/network/network.js';
import { portKey } from '../../src/network/topology.js';
import { eventually, within } from '../helpers/ovs.js';
import { Capture, createHost, netName, removeHost, stopProcess, type Host } from '../switch/netns.js';
import { jsonLogSink } from '../helpers/log-sink.js';
import { freeTcpPort } from '../helpers/free-port.js';

const cli = 'dist/src/cli/main.js';
const DPID = 0x5e9n;
let OFCTL_PORT = 0;
const A_IP = '10.97.0.1';
const B_IP = '10.97.0.2';

let network: OpenFlowNetwork;
let sw: ChildProcess;
let a: Host;
let b: Host;
const logLines: Record<string, unknown>[] = [];
let switchLog = '';

function ofctl(...args: string[]): string {
  return execFileSync('ovs-ofctl', ['-O', 'OpenFlow13', ...args], { encoding: 'utf8' });
}

/** Sends `n` UDP datagrams of `payload` bytes from the namespace as fast as it can. */
function sendUdp(host: Host, dst: string, port: number, n: number, payload: number): void {
  const code = `import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nfor i in range(${n}): s.sendto(bytes(${payload}),('${dst}',${port}))`;
  execFileSync('ip', ['netns', 'exec', host.ns, 'python3', '-c', code]);
}

beforeAll(async () => {
  OFCTL_PORT = await freeTcpPort();
  a = createHost(netName('dgA'), netName('dga'));
  b = createHost(netName('dgB'), netName('dgb'));
  execFileSync('ip', ['-n', a.ns, 'addr', 'add', `${A_IP}/24`, 'dev', 'eth0']);
  execFileSync('ip', ['-n', b.ns, 'addr', 'add', `${B_IP}/24`, 'dev', 'eth0']);
  const config = defaultConfig();
  config.openflow.listen = { host: '127.0.0.1', port: 0 };
  config.topology.lldpIntervalMs = 60_000;
  config.stats.pollIntervalMs = 200;
  config.classes[1]!.excess = 'degrade';
  config.classes[1]!.policing = { green: 'forward', yellow: 'downgrade', red: 'downgrade' };
  const sink = jsonLogSink(logLines);
  network = new OpenFlowNetwork(config, { egress: false, logger: pino({ level: 'info' }, sink) });
  await network.start();
  sw = spawn('node', [cli, 'switch', '--controller', `tcp:127.0.0.1:${network.address!.port}`, '--listen', `ptcp:${OFCTL_PORT}:127.0.0.1`, '--port', a.rootIf, '--port', b.rootIf, '--dpid', DPID.toString(16)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  sw.stdout!.on('data', (d: Buffer) => (switchLog += d.toString()));
  sw.stderr!.on('data', (d: Buffer) => (switchLog += d.toString()));
  await within(network.switchReady(DPID), 30_000, 'the switch did not connect').catch((err: unknown) => {
    throw new Error(`${(err as Error).message}; its log: ${switchLog}; controller: ${JSON.stringify(logLines.slice(-5))}`);
  });
  // the hosts speak once, so the controller knows them and routes to them (table 1)
  await eventually('A reaches B', () => {
    try {
      execFileSync('ip', ['netns', 'exec', a.ns, 'ping', '-c', '1', '-W', '1', B_IP], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });
}, 90_000);

afterAll(async () => {
  await stopProcess(sw);
  await network?.stop();
  if (a) removeHost(a);
  if (b) removeHost(b);
}, 30_000);

describe('excess: degrade towards payflow switch', () => {
  it('reads the meter features and description: dscp_remark is there, so silver degrades and gold (EF, excess drop) drops', () => {
    const [view] = network.excessBySwitch();
    expect(view).toMatchObject({ dpid: DPID.toString(16).padStart(16, '0'), meterBands: ['drop', 'dscp_remark'], payflowSwitch: true });
    expect(view!.excess).toEqual([
      { classId: 'gold', policy: 'drop', excess: 'dropped' },
      { classId: 'silver', policy: 'degrade', excess: 'degraded' },
      { classId: 'best-effort', policy: 'drop', excess: 'dropped' },
    ]);
    expect(logLines.some((l) => String(l.msg).startsWith('switch cannot re-mark'))).toBe(false);
  });

  it('installs a dscp_remark meter; packets beyond the paid rate arrive re-marked AF32, none dropped', async () => {
    const r: EnforcedReservation = {
      id: 'degrade-silver',
      classId: 'silver',
      dscp: 26,
      rateBps: 100_000,
      burstBits: 16_000,
      match: { src: A_IP, dst: B_IP, proto: 17, dstPort: 5001 },
      path: { hops: [{ dpid: DPID, inPort: 1, outPort: 2 }], resources: [portKey(DPID, 2)] },
      expiresAtMs: Date.now() + 120_000,
    };
    await network.enforcer.install(r);
    const meters = ofctl('dump-meters', `tcp:127.0.0.1:${OFCTL_PORT}`);
    expect(meters).toMatch(/meter=2 kbps burst stats bands=\s*type=dscp_remark rate=100 burst_size=16 prec_level=1/);
    const flows = ofctl('dump-flows', `tcp:127.0.0.1:${OFCTL_PORT}`);
    expect(flows).toMatch(/table=2.*priority=40000.*meter:2.*goto_table:3/);
    // in profile: the reservation's own egress queue; the degraded excess: the best-effort meter and queue 0
    expect(flows).toMatch(/table=3.*priority=40000.*nw_tos=104.*actions=set_queue:\d+,output:2/);
    expect(flows).toMatch(/table=3.*priority=40000.*nw_tos=112.*actions=meter:1,output:2/);

    const samples: LoadSample[] = [];
    const unsubscribe = network.onLoad((x) => samples.push(x));
    const cap = new Capture(b);
    await cap.ready;
    sendUdp(a, B_IP, 5001, 60, 200); // 60 × 242-byte frames at once: ~8 fit the 16 kbit burst
    const frames = (await cap.stop(500)).filter((f) => f[12] === 0x08 && f[13] === 0x00 && f[23] === 17);
    const dscps = frames.map((f) => f[15]! >> 2);
    const inProfile = dscps.filter((d) => d === 26).length;
    const degraded = dscps.filter((d) => d === 28).length;
    expect(inProfile).toBeGreaterThanOrEqual(3);
    expect(inProfile).toBeLessThanOrEqual(12);
    expect(degraded).toBeGreaterThan(40);
    expect(inProfile + degraded).toBe(60);

    // the meter's band counts the degraded bytes, byte_in counts all of them
    const stats = ofctl('meter-stats', `tcp:127.0.0.1:${OFCTL_PORT}`, 'meter=2');
    const byteIn = Number(/byte_in_count:(\d+)/.exec(stats)?.[1]);
    const band = Number(/0: packet_count:\d+ byte_count:(\d+)/.exec(stats)?.[1]);
    expect(byteIn).toBeGreaterThanOrEqual(60 * 242);
    expect(band).toBe(degraded * 242);

    // the load the pricing agent gets: silver's degraded bytes apart from its in-profile ones
    await eventually('a load sample with silver degraded', () => samples.some((x) => (x.classDegradedBps?.silver ?? 0) > 0), 10_000);
    unsubscribe();
    const inProfileBits = samples.reduce((sum, x, i) => sum + (i > 0 ? (x.classRateBps.silver ?? 0) * ((x.atMs - samples[i - 1]!.atMs) / 1000) : 0), 0);
    const degradedBits = samples.reduce((sum, x, i) => sum + (i > 0 ? (x.classDegradedBps?.silver ?? 0) * ((x.atMs - samples[i - 1]!.atMs) / 1000) : 0), 0);
    // rates between polls, integrated back to bits: about the 8 and 52 frames (timing within a poll blurs them)
    expect(degradedBits).toBeGreaterThan(inProfileBits);
    await network.enforcer.remove(r.id);
  }, 60_000);
});
