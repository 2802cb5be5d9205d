// The Mininet testbed's short CI run: `reservation`, `policing` and `ipv6` with their
// throughput bounds on both switches (Open vSwitch userspace and `payflow switch`), with
// margins fit for a noisy machine, and a short run of `spoof`, `pricing`, `setup-latency`
// and `streaming` (pay as you go) on Open vSwitch.
//
// Runs `mininet/run.py SCENARIO --quick --switch ovs|payflow` (the live controller from
// dist/, iperf3 and mininet/udpflow.py in Mininet hosts) while holding the machine-wide OVS
// lock, then checks each scenario's results.json against its own bounds and against the
// margins below (medians of per-second rates, so a second or two of CPU starvation on a
// 2-core machine does not fail the run). Root only: skipped with the reason otherwise; under
// CI=true a missing Mininet, OVS or build fails instead.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { acquireOvsLock, ovsStatus } from '../helpers/ovs.js';

const ROOT = resolve(__dirname, '..', '..');
const RUN_PY = join(ROOT, 'mininet', 'run.py');
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const PYTHON = '/usr/bin/python3';
const CI = process.env.CI === 'true' || process.env.CI === '1';

function testbedStatus(): { available: boolean; reason: string } {
  const ovs = ovsStatus();
  if (!ovs.available) return ovs;
  if (!existsSync(PYTHON) || spawnSync(PYTHON, ['-c', 'import mininet.net, matplotlib'], { stdio: 'ignore' }).status !== 0) {
    return { available: false, reason: `${PYTHON} cannot import mininet and matplotlib (apt-get install mininet python3-matplotlib)` };
  }
  for (const bin of ['iperf3', 'ethtool', 'tc']) {
    if (spawnSync('which', [bin], { stdio: 'ignore' }).status !== 0) return { available: false, reason: `${bin} not found` };
  }
  if (!existsSync(CLI)) return { available: false, reason: `${CLI} not found: build first (npm run build)` };
  return { available: true, reason: 'Mininet, Open vSwitch and the build are here' };
}

const status = testbedStatus();

interface Check {
  name: string;
  value: number;
  op: string;
  limit: number;
  ok: boolean;
  /** false: reported only (run.py's short runs do not enforce the after-expiry flood figure) */
  enforced?: boolean;
}

interface Results {
  scenario: string;
  ok: boolean;
  bounds: Check[];
  [key: string]: unknown;
}

type SwitchKind = 'ovs' | 'payflow';

/** Runs one scenario on one kind of switch; resolves with its exit code, output and results.json. */
function runScenario(scenario: string, outDir: string, switchKind: SwitchKind = 'ovs'): Promise<{ code: number | null; output: string; results?: Results }> {
  return new Promise((resolveRun) => {
    const child = spawn(PYTHON, [RUN_PY, scenario, '--quick', '--no-plot', '--switch', switchKind, '--out', outDir], {
      cwd: ROOT,
      env: { ...process.env, PAYFLOW_OVS_LOCK_HELD: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const take = (chunk: Buffer) => {
      output += chunk.toString();
      if (process.env.PAYFLOW_TESTBED_VERBOSE) process.stdout.write(chunk);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('close', (code) => {
      const file = join(outDir, 'results.json');
      const results = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Results) : undefined;
      resolveRun({ code, output, results });
    });
  });
}

test.runIf(CI && !status.available)('the Mininet testbed is required in CI', () => {
  throw new Error(status.reason);
});

describe.skipIf(!status.available)(`Mininet testbed, short run${status.available ? '' : ` (skipped: ${status.reason})`}`, () => {
  let release: (() => void) | undefined;
  let dir = '';

  beforeAll(async () => {
    release = await acquireOvsLock();
    dir = mkdtempSync(join(tmpdir(), 'payflow-testbed-ci-'));
  }, 600_000);

  afterAll(() => {
    release?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  // The issue's three scenarios run on both switches: Open vSwitch userspace and payflow switch.
  describe.each(['ovs', 'payflow'] as const)('%s switches', (switchKind) => {
    const out = (scenario: string): string => join(dir, `${scenario}-${switchKind}`);

    test('reservation: the reserved flow holds its paid rate while the other floods, and shares again after expiry', async () => {
      const { code, output, results } = await runScenario('reservation', out('reservation'), switchKind);
      expectBoundsHold(code, output, results);
      const r = results as unknown as {
        paidMbit: number;
        capacityMbit: number;
        medians: Record<'before' | 'during' | 'after', { reserved: number; flood: number }>;
      };
      // The issue's bound, independently of run.py's own list: >= 95 % of the paid rate while reserved.
      expect(r.medians.during.reserved).toBeGreaterThanOrEqual(0.95 * r.paidMbit);
      // The link is shared, not lost: together the flows fill most of the bottleneck while reserved.
      expect(r.medians.during.reserved + r.medians.during.flood).toBeGreaterThanOrEqual(0.8 * r.capacityMbit);
      expect(r.medians.after.reserved).toBeLessThan(0.9 * r.paidMbit);
    }, 150_000);

    test('policing: a flow sending 150 % of its paid rate is held to it; the other flow is unharmed', async () => {
      const { code, output, results } = await runScenario('policing', out('policing'), switchKind);
      expectBoundsHold(code, output, results);
      const r = results as unknown as { paidMbit: number; offeredMbit: number; otherMbit: number; medians: { reserved: number; other: number } };
      expect(r.medians.reserved).toBeGreaterThanOrEqual(0.9 * r.paidMbit);
      expect(r.medians.reserved).toBeLessThanOrEqual(1.2 * r.paidMbit);
      expect(r.medians.other).toBeGreaterThanOrEqual(0.9 * r.otherMbit);
    }, 120_000);

    test('ipv6: the reservation keyed on the flow label holds its paid rate', async () => {
      const { code, output, results } = await runScenario('ipv6', out('ipv6'), switchKind);
      expectBoundsHold(code, output, results);
      const r = results as unknown as { paidMbit: number; flowLabel: number; medians: Record<'during', { reserved: number }> };
      expect(r.flowLabel).toBeGreaterThan(0);
      expect(r.medians.during.reserved).toBeGreaterThanOrEqual(0.95 * r.paidMbit);
    }, 150_000);
  });

  test('spoof: h2 forging h1\'s IP, then IP and MAC, gets best effort; h1 keeps its paid rate', async () => {
    const { code, output, results } = await runScenario('spoof', join(dir, 'spoof'));
    expectBoundsHold(code, output, results);
    const r = results as unknown as { paidMbit: number; capacityMbit: number; phases: Record<string, { paidMedian: number; spoofMedian: number; spoofDscp: (number | null)[] }> };
    expect(Object.keys(r.phases)).toEqual(['ip', 'ip+mac']);
    for (const p of Object.values(r.phases)) {
      expect(p.paidMedian).toBeGreaterThanOrEqual(0.9 * r.paidMbit);
      expect(p.spoofMedian).toBeLessThanOrEqual(1.1 * (r.capacityMbit - r.paidMbit));
      expect(p.spoofDscp[0]).toBe(0);
    }
  }, 150_000);

  test('pricing: gold\'s price rises beyond 50 % load, silver\'s barely, best effort\'s not at all', async () => {
    const { code, output, results } = await runScenario('pricing', join(dir, 'pricing'));
    expectBoundsHold(code, output, results);
    const r = results as unknown as { steps: Array<{ load: number } & Record<'gold' | 'silver' | 'best-effort', { price: number }>> };
    const at = (load: number) => r.steps.find((s) => Math.abs(s.load - load) < 1e-6)!;
    expect(at(1.2).gold.price).toBeGreaterThan(at(0.4).gold.price * 5);
    expect(at(1.2)['best-effort'].price).toBe(at(0.1)['best-effort'].price);
  }, 150_000);

  test('streaming: vouchers keep the reservation while they are paid; it ends with the time they paid for', async () => {
    const { code, output, results } = await runScenario('streaming', join(dir, 'streaming'));
    expectBoundsHold(code, output, results);
    const r = results as unknown as { paidMbit: number; stream: { periods: number; vouchers: unknown[] }; medians: Record<'paid', { reserved: number }> };
    expect(r.stream.vouchers).toHaveLength(r.stream.periods);
    expect(r.medians.paid.reserved).toBeGreaterThanOrEqual(0.95 * r.paidMbit);
  }, 150_000);

  test('setup-latency: every reservation, serial and concurrent, reaches its flow', async () => {
    const { code, output, results } = await runScenario('setup-latency', join(dir, 'setup-latency'));
    expectBoundsHold(code, output, results);
    const r = results as unknown as { phases: Record<'serial' | 'concurrent', { count: number; toRate: { n: number } }> };
    for (const phase of ['serial', 'concurrent'] as const) expect(r.phases[phase].toRate.n).toBe(r.phases[phase].count);
  }, 150_000);
});

/** Every bound run.py enforces held, and run.py exited 0. */
function expectBoundsHold(code: number | null, output: string, results: Results | undefined): void {
  expect(results, `no results.json; run.py said:\n${output}`).toBeDefined();
  const failed = results!.bounds.filter((b) => !b.ok && b.enforced !== false).map((b) => `${b.name}: ${b.value} ${b.op} ${b.limit}`);
  expect(failed, output).toEqual([]);
  expect(code, output).toBe(0);
}
