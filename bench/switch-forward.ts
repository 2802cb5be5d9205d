// switch.forward: frames per second that `payflow switch` forwards on one veth path between
// two namespaces, and Open vSwitch's userspace datapath (datapath_type=netdev) on the same
// interfaces with the same rules, in the same run: what a reservation puts in the path, a
// drop meter at 100 Gbit/s and a DSCP rewrite to 46, from port 1 to port 2. A generator in
// the first namespace (the switch's own AF_PACKET port re-sending one batch of 64 with sendmmsg) offers
// 64-byte IPv4/UDP frames of one flow as fast as it can; the figure is what reaches the
// second namespace's interface (its rx_packets) per second of wall time. Figures are only
// comparable within one run (the machine's other load moves both). The case needs root and
// Open vSwitch and holds the machine-wide OVS lock; without them it is left out with a line
// on stderr.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BenchCase, BenchOperation, BenchSuite, RunOptions } from './harness.js';
import { acquireOvsLock, ovsStatus, sleep, vsctl } from './support/ovs.js';

const NAME = 'switch.forward';
const NS_A = 'pfsbA';
const NS_B = 'pfsbB';
const IF_A = 'pfsba1';
const IF_B = 'pfsbb1';
const OF_PORT = 16900 + (process.pid % 90);
const BRIDGE = 'pfsbovs';
const METER = 'meter=1,kbps,band=type=drop,rate=100000000';
const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const portsModule = fileURLToPath(new URL('../src/switch/ports.js', import.meta.url));

const sh = (cmd: string, ...args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const quiet = (cmd: string, ...args: string[]): void => {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
  } catch {
    /* not there */
  }
};

function createPath(): void {
  destroyPath();
  for (const [ns, inner, outer] of [[NS_A, 'eth0', IF_A], [NS_B, 'eth0', IF_B]] as const) {
    sh('ip', 'netns', 'add', ns);
    sh('ip', 'link', 'add', outer, 'type', 'veth', 'peer', 'name', inner, 'netns', ns);
    sh('ip', 'link', 'set', outer, 'up');
    sh('ip', '-n', ns, 'link', 'set', inner, 'up');
    quiet('ip', 'netns', 'exec', ns, 'ethtool', '-K', inner, 'tx', 'off', 'rx', 'off');
    quiet('ethtool', '-K', outer, 'tx', 'off', 'rx', 'off');
  }
  sh('ip', '-n', NS_B, 'link', 'set', 'eth0', 'promisc', 'on');
}

function destroyPath(): void {
  quiet('ip', 'link', 'del', IF_A);
  quiet('ip', 'link', 'del', IF_B);
  quiet('ip', 'netns', 'del', NS_A);
  quiet('ip', 'netns', 'del', NS_B);
}

const delivered = (): number => Number(sh('ip', 'netns', 'exec', NS_B, 'cat', '/sys/class/net/eth0/statistics/rx_packets').trim());

/** 64-byte frames of one flow (02:00:00:00:00:02, 10.0.0.1 → 10.0.0.2, UDP 5000) for `seconds`; resolves with the frames offered. */
function generate(seconds: number): Promise<number> {
  const code = `
    import { PacketPort, PORT_COUNTERS } from ${JSON.stringify(portsModule)};
    const c = new Float64Array(PORT_COUNTERS);
    const port = new PacketPort('eth0', 1, c, 64);
    const f = new Uint8Array(60);
    f.set([2,0,0,0,0,2, 2,0,0,0,0,1, 8,0, 0x45,0,0,46, 0,0,0,0, 64,17,0,0, 10,0,0,1, 10,0,0,2, 0x13,0x88,0x13,0x88,0,26,0,0]);
    let sum = 0; for (let i = 14; i < 34; i += 2) sum += (f[i] << 8) | f[i + 1];
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    f[24] = (~sum >> 8) & 0xff; f[25] = ~sum & 0xff;
    const end = performance.now() + ${seconds * 1000};
    // every slot holds the same frame, so the queued batch is simply sent again and again
    for (let i = 0; i < 64; i++) port.queueCopy(f, 0, 60);
    while (performance.now() < end) { port.txCount = 64; port.flush(); }
    process.stdout.write(String(c[2]));`;
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', NS_A, 'node', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(Number(out)) : reject(new Error(`the generator exited ${code}`))));
  });
}

async function measure(seconds: number): Promise<{ pps: number; offered: number }> {
  await sleep(1000);
  const before = delivered();
  const offered = await generate(seconds);
  return { pps: (delivered() - before) / seconds, offered: offered / seconds };
}

async function measurePayflow(seconds: number): Promise<{ pps: number; offered: number }> {
  const target = `tcp:127.0.0.1:${OF_PORT}`;
  const sw = spawn('node', [cli, 'switch', '--listen', `ptcp:${OF_PORT}:127.0.0.1`, '--port', IF_A, '--port', IF_B], { stdio: 'ignore' });
  try {
    for (let i = 0; ; i++) {
      try {
        sh('ovs-ofctl', '-O', 'OpenFlow13', 'show', target);
        break;
      } catch {
        if (i > 300) throw new Error('payflow switch did not listen in 30 s');
        await sleep(100);
      }
    }
    sh('ovs-ofctl', '-O', 'OpenFlow13', 'add-meter', target, METER);
    sh('ovs-ofctl', '-O', 'OpenFlow13', 'add-flow', target, 'in_port=1,ip,actions=meter:1,set_field:46->ip_dscp,output:2');
    return await measure(seconds);
  } finally {
    sw.kill('SIGTERM');
    await new Promise((r) => sw.once('exit', r));
  }
}

async function measureOvs(seconds: number): Promise<{ pps: number; offered: number }> {
  await vsctl('--if-exists', 'del-br', BRIDGE);
  await vsctl('add-br', BRIDGE, '--', 'set', 'bridge', BRIDGE, 'datapath_type=netdev', 'protocols=OpenFlow13', 'fail_mode=secure', '--', 'add-port', BRIDGE, IF_A, '--', 'add-port', BRIDGE, IF_B);
  try {
    sh('ovs-ofctl', '-O', 'OpenFlow13', 'add-meter', BRIDGE, METER);
    sh('ovs-ofctl', '-O', 'OpenFlow13', 'add-flow', BRIDGE, `in_port=${IF_A},ip,actions=meter:1,set_field:46->ip_dscp,output:${IF_B}`);
    return await measure(seconds);
  } finally {
    await vsctl('--if-exists', 'del-br', BRIDGE);
  }
}

async function setup(quick: boolean): Promise<BenchOperation> {
  const seconds = quick ? 3 : 10;
  const release = await acquireOvsLock(300_000);
  let payflow: { pps: number; offered: number };
  let ovs: { pps: number; offered: number };
  try {
    createPath();
    payflow = await measurePayflow(seconds);
    ovs = await measureOvs(seconds);
  } finally {
    destroyPath();
    release();
  }
  const round = (x: number): number => Math.round(x);
  return {
    run() {},
    measured: () => ({ perSecond: payflow.pps, samples: 1, rme: 0 }),
    extra: () => ({
      payflowPps: round(payflow.pps),
      ovsUserspacePps: round(ovs.pps),
      ratioToOvs: Math.round((payflow.pps / Math.max(1, ovs.pps)) * 100) / 100,
      offeredPps: round(payflow.offered),
      frameBytes: 64,
      flows: 1,
      seconds,
    }),
  };
}

/** switch.forward, or no case at all (one line on stderr) without root, Open vSwitch or a build. */
export function switchForwardCases(options: Partial<RunOptions> & { quick: boolean }): BenchCase[] {
  if (options.filter?.length && !options.filter.some((f) => NAME.startsWith(f))) return [];
  const why =
    typeof process.getuid === 'function' && process.getuid() !== 0 ? 'needs root (namespaces, raw sockets)'
    : !existsSync(cli) || !existsSync(portsModule) ? `needs the build (${cli}): npm run build`
    : undefined;
  const ovs = why ? undefined : ovsStatus({ startIfStopped: false });
  const reason = why ?? (ovs && !ovs.available ? ovs.reason : undefined);
  if (reason) {
    process.stderr.write(`${NAME} left out: ${reason}\n`);
    return [];
  }
  return [{ name: NAME, impl: 'ts', batch: 1, setup: () => setup(options.quick) }];
}

export const switchForwardSuite: BenchSuite = {
  name: 'switch',
  cases: (options) => switchForwardCases(options as Partial<RunOptions> & { quick: boolean }),
};
