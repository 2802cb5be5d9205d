// mininet/udpflow.py, the testbed's own UDP sender and receiver, over loopback (no root, no
// Mininet): the paced rate, a rate schedule, per-port counts, and the IPv6 flow label on UDP
// (what iperf3 3.12 does not set, and why the ipv6 scenario uses udpflow). Needs Debian's
// /usr/bin/python3 (any Python 3 with the standard library would do); under CI=true its
// absence fails the suite instead of skipping it.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';

const ROOT = resolve(__dirname, '..', '..');
const UDPFLOW = join(ROOT, 'mininet', 'udpflow.py');
const PYTHON = '/usr/bin/python3';
const CI = process.env.CI === 'true' || process.env.CI === '1';
const available = existsSync(PYTHON);
const ipv6Loopback = available && spawnSync(PYTHON, ['-c', "import socket; s=socket.socket(10,2); s.bind(('::1',0))"]).status === 0;

interface Report {
  intervals: Array<{ sum: { bytes: number; bits_per_second: number } }>;
  end: { sum: { packets: number; lost_packets: number } };
  ports: Array<{ port: number; received: number; flowLabels: number[] }>;
}

const dir = mkdtempSync(join(tmpdir(), 'payflow-udpflow-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let nextPort = 47000 + (process.pid % 1000) * 10;

/** Runs a receiver and a sender; resolves with the receiver's report. */
async function transfer(send: string[], recv: string[]): Promise<Report> {
  const port = nextPort;
  nextPort += 5;
  const out = join(dir, `r${port}.json`);
  const receiver = spawn(PYTHON, [UDPFLOW, 'recv', '--port', String(port), '--idle', '1', '--json', out, ...recv]);
  await new Promise((r) => setTimeout(r, 300));
  const sender = spawnSync(PYTHON, [UDPFLOW, 'send', '--port', String(port), ...send], { encoding: 'utf8' });
  expect(sender.status, sender.stderr).toBe(0);
  await new Promise<void>((r) => receiver.on('close', () => r()));
  return JSON.parse(readFileSync(out, 'utf8')) as Report;
}

test.runIf(CI && !available)('udpflow needs /usr/bin/python3 in CI', () => {
  throw new Error(`${PYTHON} not found`);
});

describe.skipIf(!available)('udpflow over loopback', () => {
  test('paces UDP at the asked payload rate, and counts every datagram', async () => {
    const r = await transfer(['--dst', '127.0.0.1', '--rate', '4', '--seconds', '2', '--length', '1000'], ['--seconds', '5']);
    const bytes = r.intervals.reduce((n, i) => n + i.sum.bytes, 0);
    // 4 Mbit/s for 2 s = 1 MB of payload. Never more (pacing); less only when the sender was
    // starved of CPU for over 50 ms (it then drops that backlog, like a stalled link), which a
    // busy CI machine can do, hence the wide lower margin.
    expect(bytes).toBeGreaterThan(0.8e6);
    expect(bytes).toBeLessThan(1.05e6);
    expect(r.end.sum.lost_packets).toBe(0);
  }, 20_000);

  test('follows a rate schedule, one rate per step', async () => {
    const r = await transfer(['--dst', '127.0.0.1', '--schedule', '1,4', '--step', '1', '--length', '500'], ['--seconds', '5']);
    const total = r.intervals.reduce((n, i) => n + i.sum.bytes, 0);
    // 1 Mbit/s for 1 s then 4 Mbit/s for 1 s = 625 kB (constant 1 would be 250 kB, constant 4 1 MB).
    expect(total).toBeGreaterThan(0.5e6);
    expect(total).toBeLessThan(0.66e6);
  }, 20_000);

  test('spreads datagrams over many ports, each counted', async () => {
    const r = await transfer(['--dst', '127.0.0.1', '--ports', '4', '--rate', '1', '--seconds', '1', '--length', '100'], ['--ports', '4', '--seconds', '4']);
    expect(r.ports.map((p) => p.received).every((n) => n > 200)).toBe(true);
    expect(Math.max(...r.ports.map((p) => p.received)) - Math.min(...r.ports.map((p) => p.received))).toBeLessThanOrEqual(1);
  }, 20_000);

  test.runIf(ipv6Loopback)('sends UDP with the IPv6 flow label it was given (the receiver reads it back)', async () => {
    const r = await transfer(['--dst', '::1', '--rate', '1', '--seconds', '1', '--flowlabel', '107187'], ['--ipv6', '--seconds', '4']);
    expect(r.ports[0]!.received).toBeGreaterThan(50);
    expect(r.ports[0]!.flowLabels).toEqual([107187]);
  }, 20_000);

  test('refuses a flow label on IPv4 and a label out of range', () => {
    const v4 = spawnSync(PYTHON, [UDPFLOW, 'send', '--dst', '127.0.0.1', '--port', '9', '--rate', '1', '--seconds', '1', '--flowlabel', '5'], { encoding: 'utf8' });
    expect(v4.status).not.toBe(0);
    expect(v4.stderr).toMatch(/needs an IPv6 destination/);
    const big = spawnSync(PYTHON, [UDPFLOW, 'send', '--dst', '::1', '--port', '9', '--rate', '1', '--seconds', '1', '--flowlabel', String(1 << 20)], { encoding: 'utf8' });
    expect(big.status).not.toBe(0);
    expect(big.stderr).toMatch(/flow label is 1 \.\. 2\^20 - 1/);
  });
});
