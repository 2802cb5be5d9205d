// `mininet/run.py shell`, driven as a user would drive it: the testbed shell starts (the
// payflow topology at 10 Mbit/s, the management network, the live controller, a funded wallet
// per host), then commands are typed at Mininet's `mininet>` prompt: `reserve h1 h2 gold
// 2mbit 30s` (a purchase from inside h1's namespace), a ping, `reservations`, and `exit`. The
// reservation must exist in the controller's API, and after `exit` nothing of the shell may
// be left: no controller process, no Mininet interface, bridge or management veth.
// Root only: skipped with the reason otherwise; under CI=true a missing Mininet fails.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { acquireOvsLock, eventually, ovsStatus, sleep } from '../helpers/ovs.js';

const ROOT = resolve(__dirname, '..', '..');
const RUN_PY = join(ROOT, 'mininet', 'run.py');
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const PYTHON = '/usr/bin/python3';
const CI = process.env.CI === 'true' || process.env.CI === '1';

function status(): { available: boolean; reason: string } {
  const ovs = ovsStatus();
  if (!ovs.available) return ovs;
  if (!existsSync(PYTHON) || spawnSync(PYTHON, ['-c', 'import mininet.net, mininet.cli'], { stdio: 'ignore' }).status !== 0) {
    return { available: false, reason: `${PYTHON} cannot import mininet (apt-get install mininet)` };
  }
  for (const bin of ['ping', 'ethtool', 'tc', 'iperf3']) {
    if (spawnSync('which', [bin], { stdio: 'ignore' }).status !== 0) return { available: false, reason: `${bin} not found (scripts/setup-system.sh installs it)` };
  }
  if (!existsSync(CLI)) return { available: false, reason: `${CLI} not found: build first (npm run build)` };
  return { available: true, reason: '' };
}

const st = status();

test.runIf(CI && !st.available)('Mininet is required in CI', () => {
  throw new Error(st.reason);
});

/** The interfaces of the root namespace (the switch ports and the management bridge live there). */
function interfaces(): string[] {
  const out = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout;
  return out
    .split('\n')
    .map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1])
    .filter((name): name is string => name !== undefined);
}

/** What nothing left behind means: the controller, its API, the management bridge and veths, the switches. */
async function expectNothingLeft(shellPid: number, controllerPid: number, api: string): Promise<void> {
  expect(existsSync(`/proc/${controllerPid}`)).toBe(false);
  await expect(fetch(`${api}/healthz`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
  // under the lock, so that no other run's Mininet interfaces are being built meanwhile
  const release = await acquireOvsLock();
  try {
    const tag = shellPid % 100000;
    const left = interfaces().filter((i) => i === `pfmbr${tag}` || i.startsWith(`pfm${tag}h`) || /^(s[123]|h[1-4])-eth\d+$/.test(i));
    expect(left).toEqual([]);
    const bridges = spawnSync('ovs-vsctl', ['list-br'], { encoding: 'utf8' }).stdout.split('\n');
    expect(bridges.filter((b) => /^s[123]$/.test(b))).toEqual([]);
  } finally {
    release();
  }
}

interface Shell {
  child: ChildProcessWithoutNullStreams;
  exited: Promise<number | null>;
  output: () => string;
  /** types one line at the prompt and resolves with what the shell printed until the next prompt */
  type: (line: string) => Promise<string>;
  api: string;
  controllerPid: number;
  token: string;
  /** ms from the start to the first prompt */
  startup: number;
}

const shells: ChildProcessWithoutNullStreams[] = [];

async function startShell(): Promise<Shell> {
  const started = Date.now();
  // detached: its own process group, like a shell's foreground job, for the Ctrl-C test
  const child = spawn(PYTHON, [RUN_PY, 'shell'], { cwd: ROOT, stdio: 'pipe', detached: true, env: { ...process.env, PYTHONUNBUFFERED: '1' } });
  shells.push(child);
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  // run.py waits for the machine-wide OVS lock if another suite holds it
  await eventually('the mininet> prompt', () => out.includes('mininet>') || child.exitCode !== null, 600_000);
  expect(child.exitCode, out).toBeNull();
  const startup = Date.now() - started;
  const api = /controller API \(from the hosts and from here\): (http:\/\/[0-9.]+:\d+)/.exec(out)?.[1];
  const controllerPid = Number(/controller: pid (\d+)/.exec(out)?.[1]);
  const token = /admin token: (\S+)/.exec(out)?.[1];
  if (!api || !(controllerPid > 0) || !token) throw new Error(`the shell's banner lacks the API, the controller's pid or the token:\n${out}`);
  // One command at a time: while a command runs, Mininet's CLI hands what arrives on stdin
  // to that command, so the next line is written only after the prompt is back.
  const prompts = () => out.split('mininet>').length;
  const type = async (line: string): Promise<string> => {
    const before = out.length;
    const count = prompts();
    child.stdin.write(line + '\n');
    await eventually(`the shell ran: ${line}`, () => prompts() > count || child.exitCode !== null, 60_000);
    return out.slice(before);
  };
  return { child, exited, output: () => out, type, api, controllerPid, token, startup };
}

describe.skipIf(!st.available)(`run.py shell${st.available ? '' : ` (skipped: ${st.reason})`}`, () => {
  afterAll(async () => {
    for (const child of shells) {
      if (child.exitCode !== null) continue;
      child.kill('SIGTERM');
      await sleep(15_000);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);

  test('reserve from a host at the Mininet prompt, then exit leaves nothing running', async () => {
    const shell = await startShell();
    const ready = Date.now();
    for (const h of ['h1', 'h2', 'h3', 'h4']) expect(shell.output()).toMatch(new RegExp(`${h} +10\\.0\\.0\\.\\d +mgmt0 [0-9.]+ +pf1[0-9a-f]{64}`));

    const bought = await shell.type('reserve h1 h2 gold 2mbit 30s');
    const m = /reservation ([0-9a-f]{32}) active: h1 -> h2, class gold, 2000000 bit\/s until [0-9:]+ UTC, paid (\d+) base units/.exec(bought);
    expect(m, bought).not.toBeNull();
    const [, id, paid] = m!;
    expect(bought).toMatch(/h1's wallet now holds \d+ base units/);
    const res = await fetch(`${shell.api}/v1/reservations/${id}`, { headers: { authorization: `Bearer ${shell.token}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id, state: 'active', classId: 'gold', rateBps: 2_000_000, paid });

    // a purchase that cannot fit is refused with the controller's reason, and the shell goes on
    expect(await shell.type('reserve h1 h2 gold 50mbit 30s')).toMatch(/does not fit .* at most \d+ bit\/s fits now/);
    expect(await shell.type('reserve h1 h9 gold 1mbit 30s')).toContain('SRC and DST must be two different hosts');

    expect(await shell.type('h1 ping -c1 -W2 h2')).toMatch(/1 packets transmitted, 1 received/);

    const listed = await shell.type('reservations');
    expect(listed).toContain(id!.slice(0, 8));
    expect(listed).toMatch(/active +gold +2mbit +10\.0\.0\.1 -> 10\.0\.0\.2/);
    expect(listed.match(/active/g)).toHaveLength(1);

    shell.child.stdin.write('exit\n');
    const code = await shell.exited;
    const waited = shell.output().includes('waiting for the OVS lock') ? ' (after waiting for the OVS lock)' : '';
    console.log(`run.py shell: prompt after ${(shell.startup / 1000).toFixed(1)} s${waited}, commands and teardown ${((Date.now() - ready) / 1000).toFixed(1)} s`);
    expect(code, shell.output().slice(-3000)).toBe(0);
    expect(shell.output()).toContain('tearing down');
    await expectNothingLeft(shell.child.pid!, shell.controllerPid, shell.api);
  }, 900_000);

  test('Ctrl-C at the prompt leaves the controller running; SIGTERM tears everything down', async () => {
    const shell = await startShell();
    // Ctrl-C at a terminal signals the whole foreground process group
    process.kill(-shell.child.pid!, 'SIGINT');
    await eventually('Mininet says Interrupt', () => shell.output().includes('Interrupt'), 10_000);
    expect(await shell.type('reservations')).toMatch(/no reservations|id +state/);
    expect((await fetch(`${shell.api}/healthz`)).ok).toBe(true);
    shell.child.kill('SIGTERM');
    const code = await shell.exited;
    expect(code, shell.output().slice(-3000)).toBe(128 + 15);
    expect(shell.output()).toContain('stopped by signal 15');
    await expectNothingLeft(shell.child.pid!, shell.controllerPid, shell.api);
  }, 900_000);
});
