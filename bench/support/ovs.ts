// Open vSwitch for the integration tests and the OVS benchmark: is it usable here, start it (userspace datapath, as docs/design.md describes:
// no kernel module, bridges with datapath_type=netdev), make and remove bridges, run
// ovs-vsctl / ovs-ofctl, kill and restart ovs-vswitchd, and a machine-wide lock so that
// test files in separate vitest workers and `payflow bench` do not restart or load OVS
// under each other's feet.
//
// It lives under bench/ (not test/) because `payflow bench` is built into dist/ and may
// not import from test/; it is not under src/ because it is lab tooling, not part of the
// library. test/helpers/ovs.ts re-exports all of it.
//
// Use:
//   const ovs = ovsStatus();
//   test.runIf(ovs.requiredButMissing)('Open vSwitch is required in CI', () => { throw new Error(ovs.reason) });
//   describe.skipIf(!ovs.available)(`... ${ovs.available ? '' : `(skipped: ${ovs.reason})`}`, () => { ... });
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export const OVS_CTL = '/usr/share/openvswitch/scripts/ovs-ctl';
export const OVS_RUNDIR = '/var/run/openvswitch';
const LOCK_DIR = '/tmp/payflow-ovs-test.lock';

export interface OvsStatus {
  /** root, the binaries present, and the daemons running (or startable) */
  available: boolean;
  /** why not, in words fit for a skip message */
  reason: string;
  /** CI=true but OVS is not available: the suite must fail, not skip */
  requiredButMissing: boolean;
}

function commandWorks(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

const cachedStatus = new Map<boolean, OvsStatus>();

/**
 * Checks (synchronously, at collection time) whether the OVS tests can run. With
 * `startIfStopped` (the default, for tests) it starts the daemons with ovs-ctl when they
 * are installed but stopped; without it (`payflow bench`) it only looks.
 */
export function ovsStatus(options: { startIfStopped?: boolean } = {}): OvsStatus {
  const startIfStopped = options.startIfStopped ?? true;
  const cached = cachedStatus.get(startIfStopped);
  if (cached) return cached;
  const ci = process.env.CI === 'true' || process.env.CI === '1';
  const result = (available: boolean, reason: string): OvsStatus => {
    const status = { available, reason, requiredButMissing: !available && ci };
    cachedStatus.set(startIfStopped, status);
    return status;
  };
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return result(false, 'not root: Open vSwitch tests need root (scripts/setup-system.sh installs and starts OVS)');
  }
  for (const bin of ['ovs-vsctl', 'ovs-ofctl', 'ovs-vswitchd', 'ip', 'tcpdump']) {
    if (!commandWorks('which', [bin])) return result(false, `${bin} not found: run scripts/setup-system.sh as root`);
  }
  if (!existsSync(OVS_CTL)) return result(false, `${OVS_CTL} not found`);
  if (!commandWorks('ovs-vsctl', ['--timeout=5', 'show']) || !vswitchdPid()) {
    if (!startIfStopped) return result(false, 'Open vSwitch is installed but not running (start it with ovs-ctl start or scripts/setup-system.sh)');
    startOvsSync();
    if (!commandWorks('ovs-vsctl', ['--timeout=5', 'show'])) return result(false, 'ovsdb-server is not running and ovs-ctl start failed');
  }
  if (!vswitchdPid()) return result(false, 'ovs-vswitchd is not running and ovs-ctl start failed');
  return result(true, 'Open vSwitch is running');
}

function startOvsSync(): void {
  // As scripts/setup-system.sh does: mlockall can fail in containers, so retry without it.
  if (!commandWorks(OVS_CTL, ['start', '--system-id=random', '--no-ovs-vswitchd-mlockall'])) {
    commandWorks(OVS_CTL, ['start', '--system-id=random']);
  }
}

/** The pid of the running ovs-vswitchd, or undefined. */
export function vswitchdPid(): number | undefined {
  try {
    const pid = Number(readFileSync(`${OVS_RUNDIR}/ovs-vswitchd.pid`, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** Starts the OVS daemons with ovs-ctl unless they run (idempotent). */
export async function ensureOvsRunning(): Promise<void> {
  if (vswitchdPid() && (await run('ovs-vsctl', ['--timeout=5', 'show']).then(() => true, () => false))) return;
  await startOvs();
}

/** `ovs-ctl start` (starts whichever daemon is not running). */
export async function startOvs(): Promise<void> {
  try {
    await run(OVS_CTL, ['start', '--system-id=random', '--no-ovs-vswitchd-mlockall'], 120_000);
  } catch {
    await run(OVS_CTL, ['start', '--system-id=random'], 120_000);
  }
  if (!vswitchdPid()) throw new Error('ovs-ctl start did not start ovs-vswitchd');
}

/** SIGKILLs ovs-vswitchd (its --monitor does not restart it after SIGKILL) and waits until it is gone. */
export async function killVswitchd(): Promise<number> {
  const pid = vswitchdPid();
  if (!pid) throw new Error('ovs-vswitchd is not running');
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 200; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return pid;
    }
    await sleep(50);
  }
  throw new Error(`ovs-vswitchd ${pid} did not die`);
}

/** `promise`, or a rejection with `message` (and OVS's view of its controllers) after `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void run('ovs-vsctl', ['--timeout=5', 'list', 'controller'])
        .catch((e: Error) => e.message)
        .then((state) => reject(new Error(`${message} (after ${ms} ms); ovs-vsctl list controller:\n${state}`)));
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs a command; resolves with stdout, rejects with stderr in the message. */
export async function run(cmd: string, args: string[], timeoutMs = 60_000): Promise<string> {
  try {
    const { stdout } = await execFileAsync(cmd, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

export function vsctl(...args: string[]): Promise<string> {
  return run('ovs-vsctl', ['--timeout=20', ...args]);
}

/** `ovs-ofctl -O OpenFlow13 <command> <bridge> ...` */
export function ofctl(command: string, bridge: string, ...args: string[]): Promise<string> {
  return run('ovs-ofctl', ['-O', 'OpenFlow13', command, bridge, ...args]);
}

/** A short unique name (Linux interface names are at most 15 characters). */
export function uniqueName(prefix: string): string {
  const name = `${prefix}${randomBytes(3).toString('hex')}`;
  if (name.length > 15) throw new Error(`name ${name} longer than 15 characters`);
  return name;
}

export interface BridgeOptions {
  name: string;
  /** the controller's TCP port on 127.0.0.1 */
  controllerPort: number;
  /** 16 hex digits */
  datapathId: string;
}

/**
 * A userspace-datapath bridge that speaks only OpenFlow 1.3, fail mode secure (no flows
 * of its own when the controller is away), connecting to tcp:127.0.0.1:<port> with a
 * short reconnection backoff so tests do not wait long.
 */
export async function createNetdevBridge(options: BridgeOptions): Promise<void> {
  const { name, controllerPort, datapathId } = options;
  await vsctl(
    '--may-exist', 'add-br', name,
    '--', 'set', 'bridge', name, 'datapath_type=netdev', 'protocols=OpenFlow13', 'fail_mode=secure',
    `other-config:datapath-id=${datapathId}`, 'other-config:disable-in-band=true',
    '--', 'set-controller', name, `tcp:127.0.0.1:${controllerPort}`,
    '--', 'set', 'controller', name, 'max_backoff=1000', 'inactivity_probe=30000',
  );
}

export async function deleteBridge(name: string): Promise<void> {
  await vsctl('--if-exists', 'del-br', name).catch(() => {});
}

/**
 * A machine-wide lock for tests that use Open vSwitch (kill/restart it, or need a quiet
 * daemon): an atomic mkdir, holding the owner's pid so a crashed holder is detected.
 */
export async function acquireOvsLock(timeoutMs = 600_000): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      writeFileSync(`${LOCK_DIR}/pid`, String(process.pid));
      return () => rmSync(LOCK_DIR, { recursive: true, force: true });
    } catch {
      let holder = 0;
      try {
        holder = Number(readFileSync(`${LOCK_DIR}/pid`, 'utf8'));
      } catch {
        // being created or removed right now
      }
      if (holder > 0 && !processAlive(holder)) rmSync(LOCK_DIR, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${LOCK_DIR} (held by pid ${holder})`);
      await sleep(200);
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
