// switch.forward: what `payflow switch` (the wasm datapath) forwards on one veth path between
// two namespaces, next to Open vSwitch's userspace datapath (datapath_type=netdev) on the same
// interfaces with the same rules, in the same run. The rules are what a reservation puts in
// the path: a drop meter at 100 Gbit/s and a DSCP rewrite to 46, from port 1 to port 2.
//
// Four cases: 64- and 1500-byte frames, 1 and 10 000 flows (UDP source ports 1024, 1025, ...,
// as the C forwarding yardstick's generator cycles them). Per case the switch and Open vSwitch
// are measured one after the other, so that both see the same load from other work; the
// figures are only comparable within one run.
//
// - Load: a generator in the first namespace sends IPv4/UDP frames as fast as it can with
//   sendmmsg, 64 per call (an AF_PACKET port of the switch's own, src/switch/ports.ts).
// - Delivered: the second namespace's rx_packets over the generator's sending time, in
//   frames per second and in Mbit/s of frame bits (Ethernet header to the end of the payload).
// - Latency under that load: the generator's second socket sends a probe every millisecond
//   alongside the load, a frame of the same size carrying its send time (CLOCK_MONOTONIC) to
//   a UDP socket in the second namespace, which notes its arrival time on the same clock.
//   The load goes to another MAC address, which the second namespace's IP layer drops at
//   once. The probes wait behind the load in every queue on the way, so p50/p99 are the
//   forwarder's queueing delay when it is overloaded (for the switch: its receive ring, where
//   the wait is bounded; for Open vSwitch: its socket's receive buffer) plus the path.
//
// Needs root and Open vSwitch, holds the machine-wide OVS lock; without them the cases are
// left out with a line on stderr.
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
/** the switch's default batch (frames per receive and per send), and the generator's */
const BATCH = 64;
/** where the load goes (no host has it), and where the probes go (the receiver's interface) */
const LOAD_MAC = '02:00:00:00:00:02';
const PROBE_MAC = '02:00:00:00:00:0b';
const PROBE_PORT = 7000;
const PROBE_EVERY_MS = 1;
const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const portsModule = fileURLToPath(new URL('../src/switch/ports.js', import.meta.url));

interface Shape {
  frameBytes: 64 | 1500;
  flows: number;
}

const SHAPES: readonly (Shape & { name: string })[] = [
  { name: `${NAME}.64.1`, frameBytes: 64, flows: 1 },
  { name: `${NAME}.64.10k`, frameBytes: 64, flows: 10_000 },
  { name: `${NAME}.1500.1`, frameBytes: 1500, flows: 1 },
  { name: `${NAME}.1500.10k`, frameBytes: 1500, flows: 10_000 },
];

interface Measured {
  pps: number;
  offeredPps: number;
  mbps: number;
  p50Us: number;
  p99Us: number;
  probes: number;
}

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
  sh('ip', '-n', NS_B, 'link', 'set', 'eth0', 'address', PROBE_MAC);
  sh('ip', '-n', NS_B, 'addr', 'add', '10.0.0.2/24', 'dev', 'eth0');
  sh('ip', '-n', NS_B, 'link', 'set', 'eth0', 'promisc', 'on');
}

function destroyPath(): void {
  quiet('ip', 'link', 'del', IF_A);
  quiet('ip', 'link', 'del', IF_B);
  quiet('ip', 'netns', 'del', NS_A);
  quiet('ip', 'netns', 'del', NS_B);
}

const delivered = (): number => Number(sh('ip', 'netns', 'exec', NS_B, 'cat', '/sys/class/net/eth0/statistics/rx_packets').trim());

/**
 * The generator (node, in NS_A): one port re-sends a batch of 64 frames whose UDP source
 * ports it rewrites in place to cycle the flows; a second port sends a probe every
 * millisecond. Prints the frames sent.
 */
function generatorScript(shape: Shape, seconds: number): string {
  return `
    import { PacketPort, PORT_COUNTERS, SLOT_SIZE } from ${JSON.stringify(portsModule)};
    const size = ${shape.frameBytes}, flows = ${shape.flows}, batch = ${BATCH};
    const mac = (s) => s.split(':').map((x) => parseInt(x, 16));
    function frame(dst, dport) {
      const f = new Uint8Array(size);
      f.set([...mac(dst), 2,0,0,0,0,1, 8,0]);
      const ipLen = size - 14, udpLen = ipLen - 20;
      f.set([0x45,0,ipLen >> 8,ipLen & 255, 0,0,0,0, 64,17,0,0, 10,0,0,1, 10,0,0,2], 14);
      let sum = 0; for (let i = 14; i < 34; i += 2) sum += (f[i] << 8) | f[i + 1];
      while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
      f[24] = (~sum >> 8) & 0xff; f[25] = ~sum & 0xff;
      f.set([4,0, dport >> 8,dport & 255, udpLen >> 8,udpLen & 255, 0,0], 34);
      return f;
    }
    const counters = new Float64Array(PORT_COUNTERS);
    const load = new PacketPort('eth0', 1, counters, batch);
    const probePort = new PacketPort('eth0', 1, new Float64Array(PORT_COUNTERS), 1);
    const template = frame(${JSON.stringify(LOAD_MAC)}, 5000);
    for (let i = 0; i < batch; i++) load.queueCopy(template, 0, size);
    const slots = load.txCopies.bytes;
    const probe = frame(${JSON.stringify(PROBE_MAC)}, ${PROBE_PORT});
    const stamp = new DataView(probe.buffer, 42);
    let flow = 0, seq = 0;
    const end = process.hrtime.bigint() + ${BigInt(Math.round(seconds * 1e9))}n;
    let nextProbe = 0n;
    for (;;) {
      if (flows > 1) {
        for (let i = 0; i < batch; i++) {
          const sport = 1024 + flow;
          flow = flow + 1 === flows ? 0 : flow + 1;
          slots[i * SLOT_SIZE + 34] = sport >> 8; slots[i * SLOT_SIZE + 35] = sport & 255;
        }
      }
      load.txCount = batch; load.flush();
      const now = process.hrtime.bigint();
      if (now >= end) break;
      if (now >= nextProbe) {
        nextProbe = now + ${PROBE_EVERY_MS * 1_000_000}n;
        stamp.setUint32(0, seq++); stamp.setBigUint64(4, now);
        probePort.queueCopy(probe, 0, size); probePort.flush();
      }
    }
    process.stdout.write(String(counters[2]));`;
}

/** The probe receiver (python, in NS_B): until its stdin closes, then prints a JSON list of one-way delays in µs. */
const RECEIVER_SCRIPT = `
import json, select, socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.bind(('10.0.0.2', ${PROBE_PORT}))
s.setblocking(False)
sys.stdout.write('ready\\n'); sys.stdout.flush()
delays = []
while True:
    readable, _, _ = select.select([s, sys.stdin], [], [])
    if s in readable:
        now = time.monotonic_ns()
        try:
            while True:
                data = s.recv(2048)
                if len(data) >= 12:
                    delays.append((now - struct.unpack('!Q', data[4:12])[0]) / 1000.0)
        except BlockingIOError:
            pass
    if sys.stdin in readable and not sys.stdin.buffer.read1(64):
        break
sys.stdout.write(json.dumps(delays))
`;

/** Runs `cmd` in namespace `ns`; `stop()` closes its stdin. `ready` resolves on a first line `ready`. */
function runIn(ns: string, cmd: string, args: string[]): { done: Promise<string>; ready: Promise<void>; stop(): void } {
  const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  let isReady = false;
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (!isReady && out.startsWith('ready\n')) {
      out = out.slice('ready\n'.length);
      isReady = true;
      markReady();
    }
  });
  const done = new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} in ${ns} exited ${code}`))));
  });
  done.catch(() => markReady());
  return { done, ready, stop: () => child.stdin.end() };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Offers `shape` for `seconds` through whatever forwards between the namespaces now. */
async function measure(shape: Shape, seconds: number): Promise<Measured> {
  await sleep(1000);
  const receiver = runIn(NS_B, '/usr/bin/python3', ['-c', RECEIVER_SCRIPT]);
  await receiver.ready;
  const before = delivered();
  const generator = runIn(NS_A, process.execPath, ['--input-type=module', '-e', generatorScript(shape, seconds)]);
  generator.stop();
  const offered = Number(await generator.done);
  await sleep(100);
  receiver.stop();
  const frames = delivered() - before;
  const delays = (JSON.parse(await receiver.done) as number[]).sort((a, b) => a - b);
  const pps = frames / seconds;
  return {
    pps,
    offeredPps: offered / seconds,
    mbps: (pps * shape.frameBytes * 8) / 1e6,
    p50Us: percentile(delays, 50),
    p99Us: percentile(delays, 99),
    probes: delays.length,
  };
}

async function measurePayflow(shape: Shape, seconds: number): Promise<Measured> {
  const target = `tcp:127.0.0.1:${OF_PORT}`;
  const sw = spawn(process.execPath, [cli, 'switch', '--listen', `ptcp:${OF_PORT}:127.0.0.1`, '--port', IF_A, '--port', IF_B], { stdio: 'ignore' });
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
    return await measure(shape, seconds);
  } finally {
    sw.kill('SIGTERM');
    await new Promise((r) => sw.once('exit', r));
  }
}

async function measureOvs(shape: Shape, seconds: number): Promise<Measured> {
  await vsctl('--if-exists', 'del-br', BRIDGE);
  await vsctl('add-br', BRIDGE, '--', 'set', 'bridge', BRIDGE, 'datapath_type=netdev', 'protocols=OpenFlow13', 'fail_mode=secure', '--', 'add-port', BRIDGE, IF_A, '--', 'add-port', BRIDGE, IF_B);
  try {
    sh('ovs-ofctl', '-O', 'OpenFlow13', 'add-meter', BRIDGE, METER);
    sh('ovs-ofctl', '-O', 'OpenFlow13', 'add-flow', BRIDGE, `in_port=${IF_A},ip,actions=meter:1,set_field:46->ip_dscp,output:${IF_B}`);
    return await measure(shape, seconds);
  } finally {
    await vsctl('--if-exists', 'del-br', BRIDGE);
  }
}

/** Every selected shape through both forwarders, on one path, holding the OVS lock once. */
async function measureAll(shapes: readonly Shape[], seconds: number): Promise<Map<Shape, { payflow: Measured; ovs: Measured }>> {
  const release = await acquireOvsLock(300_000);
  const results = new Map<Shape, { payflow: Measured; ovs: Measured }>();
  try {
    createPath();
    for (const shape of shapes) {
      const payflow = await measurePayflow(shape, seconds);
      const ovs = await measureOvs(shape, seconds);
      results.set(shape, { payflow, ovs });
    }
  } finally {
    destroyPath();
    release();
  }
  return results;
}

function report(shape: Shape, seconds: number, r: { payflow: Measured; ovs: Measured }): BenchOperation {
  const round = (x: number, digits = 0): number => Math.round(x * 10 ** digits) / 10 ** digits;
  return {
    run() {},
    measured: () => ({ perSecond: r.payflow.pps, samples: 1, rme: 0 }),
    extra: () => ({
      frameBytes: shape.frameBytes,
      flows: shape.flows,
      seconds,
      offeredPps: round(r.payflow.offeredPps),
      payflowPps: round(r.payflow.pps),
      payflowMbps: round(r.payflow.mbps, 1),
      payflowP50Us: round(r.payflow.p50Us),
      payflowP99Us: round(r.payflow.p99Us),
      ovsUserspacePps: round(r.ovs.pps),
      ovsMbps: round(r.ovs.mbps, 1),
      ovsP50Us: round(r.ovs.p50Us),
      ovsP99Us: round(r.ovs.p99Us),
      ratioToOvs: round(r.payflow.pps / Math.max(1, r.ovs.pps), 2),
    }),
  };
}

/** The switch.forward cases, or none (one line on stderr) without root, Open vSwitch or a build. */
export function switchForwardCases(options: Partial<RunOptions> & { quick: boolean }): BenchCase[] {
  const selected = SHAPES.filter((s) => !options.filter?.length || options.filter.some((f) => s.name.startsWith(f)));
  if (selected.length === 0) return [];
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
  const seconds = options.quick ? 2 : 8;
  let all: Promise<Map<Shape, { payflow: Measured; ovs: Measured }>> | undefined;
  return selected.map((shape): BenchCase => ({
    name: shape.name,
    impl: 'wasm',
    batch: BATCH,
    async setup() {
      all ??= measureAll(selected, seconds);
      return report(shape, seconds, (await all).get(shape)!);
    },
  }));
}

export const switchForwardSuite: BenchSuite = {
  name: 'switch',
  cases: (options) => switchForwardCases(options as Partial<RunOptions> & { quick: boolean }),
};
