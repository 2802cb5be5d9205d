// The end-to-end proof with real OVS bridges: the controller
// sells a reservation over HTTP and ovs-ofctl shows the installed flows and meters.
// The built CLI `node dist/src/cli/main.js controller --config …` runs as a child process
// (real OpenFlowNetwork, SQLite in a temp dir, the local ledger in testbed mode); three
// userspace-datapath bridges in a line s1 – s2 – s3, one host namespace per bridge (the
// shared lab, bench/support/ovs-lab.ts). After LLDP discovery and host learning, a user's
// commands — `payflow ledger keygen`, `payflow token create`, `payflow ledger faucet --token`, `payflow reserve` — buy
// 4 Mbit/s of gold from h1 to h3; ovs-ofctl then shows the ingress flow (match, meter,
// DSCP, output), the meter at the paid rate and the marked flow on the next hops, and a
// packet arrives at h3 re-marked. A second, already paid reservation over the 10 Mbit/s
// bottleneck (s2 → s3) gets 409 with the bottleneck; DELETE takes the flows and meter out,
// after which the same payment buys it. An IPv6 reservation is keyed on a flow label.
// Needs root and Open vSwitch (skipped otherwise; with CI=true it fails instead) and the
// build (`npx tsc -p tsconfig.json`).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ApiClient } from '../../src/api/client.js';
import { reservationCookie } from '../../src/network/flows.js';
import { LedgerHttpClient } from '../../src/payments/http-client.js';
import { SigningKey } from '../../src/payments/keys.js';
import { accountSigner, signRequest } from '../../src/api/request-signature.js';
import { acquireOvsLock, ensureOvsRunning, eventually, OvsLab, ovsStatus, run, startCapture } from '../helpers/ovs.js';

const CLI = 'dist/src/cli/main.js';
const ovs = ovsStatus();
const built = existsSync(CLI);
const reason = !ovs.available ? ovs.reason : !built ? `${CLI} missing: run npx tsc -p tsconfig.json first` : '';
if (reason && !ovs.requiredButMissing) console.warn(`controller end-to-end Open vSwitch test skipped: ${reason}`);

test.runIf(ovs.requiredButMissing)('Open vSwitch is required when CI=true', () => {
  throw new Error(`CI=true but the controller end-to-end Open vSwitch test cannot run: ${ovs.reason}`);
});

interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** One client command of the built CLI (asynchronous: the controller keeps running meanwhile). */
function cli(...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile('node', [CLI, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const status = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      resolve({ status, stdout, stderr });
    });
  });
}

/** The flows of one reservation on one bridge (by its cookie), port numbers not names. */
async function reservationFlows(bridge: string, id: string): Promise<string[]> {
  const cookie = `0x${reservationCookie(id).toString(16)}`;
  const out = await run('ovs-ofctl', ['-O', 'OpenFlow13', '--no-names', 'dump-flows', bridge, `cookie=${cookie}/-1`]);
  return out.split('\n').filter((l) => l.includes('cookie='));
}

function dumpMeters(bridge: string): Promise<string> {
  return run('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-meters', bridge]);
}

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe.skipIf(!!reason)(`payflow controller + payflow reserve against Open vSwitch${reason ? ` (skipped: ${reason})` : ''}`, () => {
  // a line: s1:2 – s2:2, s2:3 – s3:2; host i on s(i+1) port 1
  const lab = new OvsLab({
    switches: 3,
    links: [
      { a: 0, pa: 2, b: 1, pb: 2 },
      { a: 1, pa: 3, b: 2, pb: 2 },
    ],
    ipv4Prefix: '10.78.0',
    ipv6Prefix: 'fd00:78::',
  });
  const [s1, s2, s3] = lab.bridges as [(typeof lab.bridges)[0], (typeof lab.bridges)[0], (typeof lab.bridges)[0]];
  const [h1, h2, h3] = lab.hosts as [(typeof lab.hosts)[0], (typeof lab.hosts)[0], (typeof lab.hosts)[0]];
  const bottleneck = `${s2.dpidHex}:3`;
  let dir = '';
  let controller: ChildProcess | undefined;
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  let controllerLog = '';
  let url = '';
  let api: ApiClient;
  let wallet = '';
  let adminToken = '';
  let releaseLock: (() => void) | undefined;

  let configFile = '';

  /** Starts the built `payflow controller` on configFile; resolves with its OpenFlow port. */
  async function startController(): Promise<number> {
    const child = spawn('node', [CLI, 'controller', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    controller = child;
    const childExited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    exited = childExited;
    child.stderr!.on('data', (d: Buffer) => (controllerLog += d.toString()));
    let out = '';
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the controller did not report where it listens: ${out} ${controllerLog}`)), 60_000);
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /API on (http:\/\/\S+), OpenFlow on 127\.0\.0\.1:(\d+),/.exec(out);
        if (m) {
          clearTimeout(timer);
          url = m[1]!;
          api = new ApiClient(url, wallet ? { signer: accountSigner(SigningKey.load(wallet)) } : {});
          resolve(Number(m[2]));
        }
      });
      void childExited.then((e) => reject(new Error(`the controller exited (${e.code ?? e.signal}) before listening: ${controllerLog}`)));
    });
  }

  beforeAll(async () => {
    releaseLock = await acquireOvsLock();
    await ensureOvsRunning();
    dir = mkdtempSync(join(tmpdir(), 'payflow-e2e-'));
    const config = join(dir, 'payflow.yaml');
    writeFileSync(
      config,
      [
        `dataDir: ${JSON.stringify(join(dir, 'data'))}`,
        'log: { level: warn }',
        'openflow: { listen: "127.0.0.1:0", echoInterval: 2s }',
        'http: { listen: "127.0.0.1:0" }',
        'ledger: { kind: local, testbed: true }',
        'topology: { lldpInterval: 300ms, linkTimeout: 10s }',
        'stats: { pollInterval: 500ms }',
        'reservations: { quoteTtl: 10m }',
        'links:',
        '  overrides:',
        `    - { dpid: "${s2.dpidHex}", port: 3, capacity: 10mbit }   # s2 → s3: the bottleneck`,
        '',
      ].join('\n'),
    );
    configFile = config;
    const openflowPort = await startController();
    await lab.create(openflowPort);
    // discovery: three switches, the four link directions, then h1 and h3 learned from their ARP / ND
    const topo = async (): Promise<{ switches: unknown[]; links: unknown[]; hosts: { ipv4: string[]; ipv6: string[] }[] }> =>
      (await api.topology()) as never;
    await eventually('3 switches and 4 link directions over HTTP', async () => {
      const t = await topo();
      return t.switches.length === 3 && t.links.length === 4;
    }, 60_000);
    for (const [from, to] of [[0, 2], [2, 0], [1, 2]] as const) {
      await eventually(`ping ${lab.hosts[from]!.ipv4} → ${lab.hosts[to]!.ipv4}`, () => lab.ping(from, lab.hosts[to]!.ipv4), 60_000);
      await eventually(`ping ${lab.hosts[from]!.ipv6} → ${lab.hosts[to]!.ipv6}`, () => lab.ping(from, lab.hosts[to]!.ipv6), 60_000);
    }
    await eventually('h1, h2, h3 known with IPv4 and IPv6', async () => {
      const t = await topo();
      return [h1, h2, h3].every((h) => t.hosts.some((x) => x.ipv4.includes(h.ipv4) && x.ipv6.includes(h.ipv6)));
    }, 60_000);
    // a wallet, funded through the faucet as a user would
    wallet = join(dir, 'wallet.json');
    const keygen = await cli('ledger', 'keygen', '--out', wallet, '--json');
    // reading and cancelling a reservation are signed by the wallet that paid for it
    if (keygen.status === 0) api = new ApiClient(url, { signer: accountSigner(SigningKey.load(wallet)) });
    expect(keygen.status, keygen.stderr).toBe(0);
    const address = (JSON.parse(keygen.stdout) as { address: string }).address;
    // minting needs an admin token: the operator makes one in the running controller's store
    const created = await cli('token', 'create', '--name', 'e2e-funder', '--scope', 'admin', '--data-dir', join(dir, 'data'), '--json');
    expect(created.status, created.stderr).toBe(0);
    adminToken = (JSON.parse(created.stdout) as { token: string }).token;
    const faucet = await cli('ledger', 'faucet', address, '1000000000000', '--url', api.ledgerUrl, '--token', adminToken);
    expect(faucet.status, faucet.stderr).toBe(0);
  }, 600_000);

  afterAll(async () => {
    if (controller && controller.exitCode === null && controller.signalCode === null) {
      controller.kill('SIGTERM');
      const done = await Promise.race([exited!, new Promise<undefined>((r) => setTimeout(() => r(undefined), 20_000))]);
      if (!done) {
        controller.kill('SIGKILL');
        await exited;
      }
    }
    await lab.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
    releaseLock?.();
  }, 180_000);

  test('payflow reserve buys 4 Mbit/s of gold h1 → h3; ovs-ofctl shows meter, marking and path flows; DELETE removes them', async () => {
    // a second flow across the same bottleneck, quoted and paid now, reserved later
    const ledger = new LedgerHttpClient(api.ledgerUrl, { token: adminToken });
    const payer = SigningKey.generate();
    await ledger.faucet(payer.address, 10n ** 12n);
    const q2 = await api.quote({ src: h2.ipv4, dst: h3.ipv4, classId: 'gold', rate: '2mbit', duration: '60s' });
    const proof2 = await ledger.pay(payer, q2.quote.payTo, BigInt(q2.quote.amount), q2.quote.id);

    const bought = await cli('reserve', '--api', url, '--src', h1.ipv4, '--dst', h3.ipv4, '--rate', '4mbit', '--duration', '60s', '--class', 'gold', '--wallet', wallet, '--json');
    expect(bought.status, bought.stderr + controllerLog).toBe(0);
    const r = JSON.parse(bought.stdout) as { id: string; state: string; rateBps: number; burstBits: number; dscp: number; path: { hops: { dpid: string; inPort: number; outPort: number }[]; resources: string[] } };
    expect(r).toMatchObject({ state: 'active', rateBps: 4_000_000, burstBits: 200_000, dscp: 46 });
    expect(r.path.hops).toEqual([
      { dpid: s1.dpidHex, inPort: 1, outPort: 2 },
      { dpid: s2.dpidHex, inPort: 2, outPort: 3 },
      { dpid: s3.dpidHex, inPort: 2, outPort: 1 },
    ]);
    expect(r.path.resources).toContain(bottleneck);

    // ingress s1: the hosts' addresses → the reservation's meter, DSCP 46, out toward s2
    const f1 = await reservationFlows(s1.name, r.id);
    expect(f1).toHaveLength(1);
    expect(f1[0]).toMatch(new RegExp(`priority=40000,ip,in_port=1,dl_src=${h1.mac},nw_src=${esc(h1.ipv4)},nw_dst=${esc(h3.ipv4)} actions=meter:(\\d+),set_field:46->ip_dscp,output:2`));
    const meterId = /meter:(\d+)/.exec(f1[0]!)![1]!;
    expect(meterId).not.toBe('1'); // meter 1 is the best-effort aggregate
    // the meter at the paid rate: 4000 kbit/s, burst 50 ms of it = 200 kbit, drop band
    expect(await dumpMeters(s1.name)).toMatch(new RegExp(`meter=${meterId} kbps burst stats bands=\\s*type=drop rate=4000 burst_size=200\\b`));
    // next hops: the marked flow (DSCP 46 = TOS 184) along the path
    const f2 = await reservationFlows(s2.name, r.id);
    expect(f2).toHaveLength(1);
    expect(f2[0]).toMatch(new RegExp(`priority=30000,ip,in_port=2,nw_src=${esc(h1.ipv4)},nw_dst=${esc(h3.ipv4)},nw_tos=184 actions=output:3`));
    const f3 = await reservationFlows(s3.name, r.id);
    expect(f3).toHaveLength(1);
    expect(f3[0]).toMatch(new RegExp(`priority=30000,ip,in_port=2,nw_src=${esc(h1.ipv4)},nw_dst=${esc(h3.ipv4)},nw_tos=184 actions=output:1`));

    // the data plane does it: a UDP packet from h1 arrives at h3 with DSCP 46 (TOS 0xb8)
    const capture = await startCapture(h3.netns, `${h3.veth}b`, 'udp dst port 5001', join(dir, 'marked.pcap'));
    await lab.exec(0, 'python3', '-c', `import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nfor i in range(5): s.sendto(b'payflow',('${h3.ipv4}',5001))`);
    const frames = await capture.frames(1, 15_000);
    expect(frames.length).toBeGreaterThan(0);
    expect(frames[0]![14 + 1]).toBe(46 << 2);

    // GET shows it active
    expect(await api.reservation(r.id)).toMatchObject({ id: r.id, state: 'active' });

    // the paid second reservation does not fit the bottleneck: 409 naming it, nothing installed
    const refused = await fetch(`${url}/v1/reservations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ quoteId: q2.quote.id, payment: proof2 }) });
    expect(refused.status).toBe(409);
    const body = (await refused.json()) as { error: { code: string; maxFitBps: number; bottleneck: { resource: string; cmaxBps: number; reservedBps: number } } };
    expect(body.error).toMatchObject({ code: 'capacity_unavailable', maxFitBps: 0, bottleneck: { resource: bottleneck, cmaxBps: 4_000_000, reservedBps: 4_000_000 } });
    const s2Flows = (await run('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-flows', s2.name])).split('\n');
    expect(s2Flows.filter((l) => l.includes('priority=40000'))).toEqual([]);
    // and the client says so with exit status 1
    const again = await cli('reserve', '--api', url, '--src', h1.ipv4, '--dst', h3.ipv4, '--rate', '1mbit', '--duration', '60s', '--wallet', wallet);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/at most 0 bit\/s fits now/);

    // DELETE cancels it: flows gone from every bridge, the meter gone from s1
    const cancelled = await fetch(`${url}/v1/reservations/${r.id}`, { method: 'DELETE', headers: { 'payflow-signature': signRequest(accountSigner(SigningKey.load(wallet)), { method: 'DELETE', path: `/v1/reservations/${r.id}` }) } });
    expect(cancelled.status).toBe(200);
    expect(((await cancelled.json()) as { state: string }).state).toBe('cancelled');
    for (const b of lab.bridges) expect(await reservationFlows(b.name, r.id)).toHaveLength(0);
    expect(await dumpMeters(s1.name)).not.toMatch(new RegExp(`meter=${meterId} `));
    expect(await api.reservation(r.id)).toMatchObject({ state: 'cancelled' });

    // the refused payment was not consumed: now it buys the second reservation, installed at s2
    const second = await api.reserve(q2.quote.id, proof2);
    expect(second).toMatchObject({ state: 'active', rateBps: 2_000_000 });
    const g2 = await reservationFlows(s2.name, second.id);
    expect(g2).toHaveLength(1);
    expect(g2[0]).toMatch(new RegExp(`priority=40000,ip,in_port=1,dl_src=${h2.mac},nw_src=${esc(h2.ipv4)},nw_dst=${esc(h3.ipv4)} actions=meter:(\\d+),set_field:46->ip_dscp,output:3`));
    const meter2 = /meter:(\d+)/.exec(g2[0]!)![1]!;
    expect(await dumpMeters(s2.name)).toMatch(new RegExp(`meter=${meter2} kbps burst stats bands=\\s*type=drop rate=2000 burst_size=100\\b`));
    expect((await new ApiClient(url, { signer: accountSigner(payer) }).cancel(second.id)).state).toBe('cancelled');
    for (const b of lab.bridges) expect(await reservationFlows(b.name, second.id)).toHaveLength(0);
  });

  test('an IPv6 reservation keyed on a flow label (silver, UDP 5002) is matched, metered and marked', async () => {
    const bought = await cli('reserve', '--api', url, '--src', h1.ipv6, '--dst', h3.ipv6, '--rate', '1mbit', '--duration', '60s', '--class', 'silver',
      '--proto', '17', '--dst-port', '5002', '--flow-label', String(0x12345), '--wallet', wallet, '--json');
    expect(bought.status, bought.stderr + controllerLog).toBe(0);
    const r = JSON.parse(bought.stdout) as { id: string; state: string; dscp: number; match: Record<string, unknown> };
    expect(r).toMatchObject({ state: 'active', dscp: 26, match: { src: h1.ipv6, dst: h3.ipv6, proto: 17, dstPort: 5002, flowLabel: 0x12345 } });
    const f1 = await reservationFlows(s1.name, r.id);
    expect(f1).toHaveLength(1);
    expect(f1[0]).toMatch(new RegExp(`priority=40000,udp6,in_port=1,dl_src=${h1.mac},ipv6_src=${esc(h1.ipv6)},ipv6_dst=${esc(h3.ipv6)},ipv6_label=0x12345,tp_dst=5002 actions=meter:(\\d+),set_field:26->ip_dscp,output:2`));
    const meterId = /meter:(\d+)/.exec(f1[0]!)![1]!;
    expect(await dumpMeters(s1.name)).toMatch(new RegExp(`meter=${meterId} kbps burst stats bands=\\s*type=drop rate=1000 burst_size=50\\b`));
    for (const [b, out] of [[s2, 3], [s3, 1]] as const) {
      const f = await reservationFlows(b.name, r.id);
      expect(f).toHaveLength(1);
      expect(f[0]).toMatch(new RegExp(`priority=30000,udp6,in_port=2,ipv6_src=${esc(h1.ipv6)},ipv6_dst=${esc(h3.ipv6)},ipv6_label=0x12345,nw_tos=104,tp_dst=5002 actions=output:${out}`));
    }
    const cancel = await cli('reservations', r.id, '--api', url, '--wallet', wallet, '--cancel');
    expect(cancel.status, cancel.stderr).toBe(0);
    for (const b of lab.bridges) expect(await reservationFlows(b.name, r.id)).toHaveLength(0);
  });

  test('kill -9 with a reservation active: the restarted controller puts it back in the switches from its store', async () => {
    const bought = await cli('reserve', '--api', url, '--src', h1.ipv4, '--dst', h3.ipv4, '--rate', '3mbit', '--duration', '10m', '--class', 'gold',
      '--wallet', wallet, '--json');
    expect(bought.status, bought.stderr + controllerLog).toBe(0);
    const r = JSON.parse(bought.stdout) as { id: string; expiresAt: string };
    expect(await reservationFlows(s1.name, r.id)).toHaveLength(1);

    controller!.kill('SIGKILL');
    expect((await exited)!.signal).toBe('SIGKILL');
    // Wipe the switches, so that whatever comes back can only come from the controller's store.
    for (const b of lab.bridges) {
      await run('ovs-ofctl', ['-O', 'OpenFlow13', 'del-flows', b.name]);
      await run('ovs-ofctl', ['-O', 'OpenFlow13', 'del-meters', b.name]);
      expect(await reservationFlows(b.name, r.id)).toHaveLength(0);
    }

    const openflowPort = await startController();
    for (const b of lab.bridges) await run('ovs-vsctl', ['set-controller', b.name, `tcp:127.0.0.1:${openflowPort}`]);
    await eventually('the reservation back on s1, s2 and s3', async () => {
      for (const b of lab.bridges) if ((await reservationFlows(b.name, r.id)).length !== 1) return false;
      return true;
    }, 60_000);
    const f1 = (await reservationFlows(s1.name, r.id))[0]!;
    // The host bindings came back from the store: the reservation still matches h1's MAC,
    // and the hosts reach each other at once, with no host having to announce itself again.
    expect(f1).toMatch(new RegExp(`priority=40000,ip,in_port=1,dl_src=${h1.mac},nw_src=${esc(h1.ipv4)},nw_dst=${esc(h3.ipv4)} actions=meter:(\\d+),set_field:46->ip_dscp,output:2`));
    const meterId = /meter:(\d+)/.exec(f1)![1]!;
    expect(await dumpMeters(s1.name)).toMatch(new RegExp(`meter=${meterId} kbps burst stats bands=\\s*type=drop rate=3000\\b`));
    expect(await api.reservation(r.id)).toMatchObject({ state: 'active', expiresAt: r.expiresAt });
    for (const [from, to] of [[0, 2], [1, 2], [2, 0]] as const) expect(await lab.ping(from, lab.hosts[to]!.ipv4), `ping ${from} → ${to}`).toBe(true);
    expect((await api.cancel(r.id)).state).toBe('cancelled');
  });

  test('SIGTERM stops the controller cleanly', async () => {
    controller!.kill('SIGTERM');
    expect(await exited).toEqual({ code: 0, signal: null });
  });
});
