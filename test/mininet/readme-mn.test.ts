// The README's own `mn` line, run as written, with the controller on its default config:
// Mininet's `--link tc` limit of 10 Mbit/s must still hold (the controller leaves qdiscs it
// did not create alone, egress.shape: auto) and `/v1/topology` must report it. Two UDP
// flows of 8 Mbit/s each (iperf3 in the hosts, through Mininet's CLI on stdin) cross the
// s1 → s2 link towards h3: together they must receive no more than the 10 Mbit/s limit.
// Root only: skipped with the reason otherwise; under CI=true a missing Mininet fails.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { acquireOvsLock, ensureOvsRunning, eventually, ovsStatus, sleep } from '../helpers/ovs.js';

const ROOT = resolve(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const CI = process.env.CI === 'true' || process.env.CI === '1';

/** The README's `mn` line for Open vSwitch, as a user would copy it. */
function readmeMnLine(): string[] {
  const line = readFileSync(join(ROOT, 'README.md'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith('mn ') && l.includes('--switch ovs'));
  if (!line) throw new Error('README.md has no `mn ... --switch ovs` line');
  return line.trim().split(/\s+/);
}

function portFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = createServer();
    s.once('error', () => done(false));
    s.listen(port, '127.0.0.1', () => s.close(() => done(true)));
  });
}

function status(): { available: boolean; reason: string } {
  const ovs = ovsStatus();
  if (!ovs.available) return ovs;
  if (spawnSync('which', ['mn'], { stdio: 'ignore' }).status !== 0) return { available: false, reason: 'mn not found (apt-get install mininet)' };
  if (spawnSync('which', ['iperf3'], { stdio: 'ignore' }).status !== 0) return { available: false, reason: 'iperf3 not found' };
  if (!existsSync(CLI)) return { available: false, reason: `${CLI} not found: build first (npm run build)` };
  return { available: true, reason: '' };
}

const st = status();

test.runIf(CI && !st.available)('Mininet is required in CI', () => {
  throw new Error(st.reason);
});

describe.skipIf(!st.available)(`the README's mn line${st.available ? '' : ` (skipped: ${st.reason})`}`, () => {
  let release: (() => void) | undefined;
  let dir = '';
  let controller: ChildProcessWithoutNullStreams | undefined;
  let mn: ChildProcessWithoutNullStreams | undefined;
  let mnOutput = '';
  let controllerLog = '';

  beforeAll(async () => {
    release = await acquireOvsLock();
    await ensureOvsRunning();
    dir = mkdtempSync(join(tmpdir(), 'payflow-readme-mn-'));
    for (const port of [6653, 8080]) if (!(await portFree(port))) throw new Error(`port ${port} is in use: the README's defaults need it`);
    controller = spawn('node', [CLI, 'controller', '--data-dir', join(dir, 'data'), '--log-format', 'json'], { cwd: dir, stdio: 'pipe' });
    controller.stdout.on('data', (d: Buffer) => (controllerLog += d.toString()));
    controller.stderr.on('data', (d: Buffer) => (controllerLog += d.toString()));
    await eventually('the controller answers on 127.0.0.1:8080', async () => (await fetch('http://127.0.0.1:8080/healthz').catch(() => undefined))?.ok === true, 30_000);
  }, 600_000);

  afterAll(async () => {
    if (mn && mn.exitCode === null) {
      mn.stdin.write('exit\n');
      await sleep(3000);
      if (mn.exitCode === null) mn.kill('SIGKILL');
    }
    controller?.kill('SIGTERM');
    await sleep(500);
    release?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  test('the 10 Mbit/s --link tc limit holds, and /v1/topology reports it', async () => {
    const [cmd, ...args] = readmeMnLine();
    mn = spawn(cmd!, args, { cwd: ROOT, stdio: 'pipe', env: { ...process.env, PYTHONUNBUFFERED: '1' } });
    mn.stdout.on('data', (c: Buffer) => (mnOutput += c.toString()));
    mn.stderr.on('data', (c: Buffer) => (mnOutput += c.toString()));
    // Mininet's CLI reads its commands from stdin once the network is up
    await eventually('the Mininet CLI', () => mnOutput.includes('mininet>') || mn!.exitCode !== null, 180_000);
    expect(mn.exitCode, mnOutput).toBeNull();
    const topology = async () => (await (await fetch('http://127.0.0.1:8080/v1/topology')).json()) as { switches: unknown[]; links: { capacityBps: number }[] };
    await eventually('the controller sees 3 switches and 4 link directions', async () => {
      const t = await topology();
      return t.switches.length === 3 && t.links.length === 4;
    }, 60_000);
    // One command at a time: while a command runs, Mininet's CLI hands what arrives on stdin
    // to that command, so the next line is written only after the prompt is back.
    const prompts = () => mnOutput.split('mininet>').length;
    const type = async (line: string) => {
      const before = prompts();
      mn!.stdin.write(line + '\n');
      await eventually(`Mininet ran: ${line}`, () => prompts() > before, 60_000);
    };
    for (const h of ['h1', 'h2', 'h3']) await type(`${h} ethtool -K ${h}-eth0 tx off`);
    await type('h1 ping -c1 -W2 10.0.0.3');
    await type('h2 ping -c1 -W2 10.0.0.3');
    // the receivers report what arrived; the h2 flow runs in the background while h1's runs
    for (const [p, f] of [[5201, 'a'], [5202, 'b']] as const) await type(`h3 iperf3 -s -1 -p ${p} -J --logfile ${join(dir, `${f}.json`)} &`);
    await type('sh sleep 1');
    await type(`h2 iperf3 -c 10.0.0.3 -p 5202 -u -b 8M -l 1200 -t 8 > ${join(dir, 'b.out')} 2>&1 &`);
    await type(`h1 iperf3 -c 10.0.0.3 -p 5201 -u -b 8M -l 1200 -t 8 > ${join(dir, 'a.out')} 2>&1`);
    await type(`sh sleep 4; touch ${join(dir, 'done')}`);
    await eventually('both flows ran', () => existsSync(join(dir, 'done')), 90_000);
    /** The receiver's count: payload bits that arrived, and over how long it listened. */
    const received = (file: string) => {
      if (!existsSync(join(dir, file))) throw new Error(`no ${file}; Mininet said:\n${mnOutput.slice(-3000)}`);
      const sum = (JSON.parse(readFileSync(join(dir, file), 'utf8')) as { end: { sum: { packets: number; lost_packets: number; seconds: number } } }).end.sum;
      return { bits: (sum.packets - sum.lost_packets) * 1200 * 8, seconds: sum.seconds };
    };
    const [a, b] = [received('a.json'), received('b.json')];
    // both flows together, over the time either receiver listened (they overlap almost wholly)
    const mbit = (a.bits + b.bits) / Math.max(a.seconds, b.seconds) / 1e6;
    console.log(`h1 + h2 through the 10 Mbit/s link: ${mbit.toFixed(2)} Mbit/s of UDP payload (offered 16)`);
    // the link's 10 Mbit/s of frames carry about 9.66 Mbit/s of 1200-byte payloads
    expect(mbit).toBeLessThanOrEqual(10.5);
    expect(mbit).toBeGreaterThan(6);
    // each port's tc limit is read when the controller first looks at the port, which may follow a link's discovery
    let capacities: number[] = [];
    await eventually('/v1/topology reports 10 Mbit/s on every link', async () => {
      capacities = (await topology()).links.map((l) => l.capacityBps);
      return capacities.length === 4 && capacities.every((c) => c === 10e6);
    }, 30_000).catch(() => undefined);
    // on failure, what the controller saw and said
    if (!capacities.every((c) => c === 10e6)) console.log(JSON.stringify(await topology(), null, 1), controllerLog.slice(-20_000));
    expect(capacities).toEqual([10e6, 10e6, 10e6, 10e6]);
  }, 300_000);
});
