// Test helper: network namespaces joined to the root namespace by veth pairs, and a frame
// tool that runs inside a namespace (the switch's own AF_PACKET port from dist/, in a child
// node process under `ip netns exec`) to inject frames and capture what arrives. Not a
// test file itself.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const portsModule = resolve('dist/src/switch/ports.js');

/**
 * Namespace and interface names carry a prefix of this test process ('p' and its pid in base
 * 36, 6 characters), so that two checkouts running the tests at once do not take each other's
 * namespaces and veths. Linux allows interface names of at most 15 characters.
 */
const NAME_PREFIX = `p${(process.pid % 36 ** 5).toString(36).padStart(5, '0')}`;
const IFNAMSIZ_CHARS = 15;

/** The name of this process's namespace or interface `tag` (at most 9 characters). */
export function netName(tag: string): string {
  const name = NAME_PREFIX + tag;
  if (name.length > IFNAMSIZ_CHARS) throw new RangeError(`network name tag '${tag}' is too long (at most ${IFNAMSIZ_CHARS - NAME_PREFIX.length} characters)`);
  return name;
}

/** One host: namespace `ns` with interface eth0, joined to `rootIf` in the root namespace. */
export interface Host {
  ns: string;
  rootIf: string;
}

export function createHost(ns: string, rootIf: string): Host {
  removeHost({ ns, rootIf });
  execFileSync('ip', ['netns', 'add', ns]);
  execFileSync('ip', ['link', 'add', rootIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  execFileSync('ip', ['link', 'set', rootIf, 'up']);
  execFileSync('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  // Without this the kernel leaves UDP/TCP checksums for the NIC to fill (CHECKSUM_PARTIAL),
  // and a frame read from a packet socket carries an unfinished checksum.
  execFileSync('ip', ['netns', 'exec', ns, 'ethtool', '-K', 'eth0', 'tx', 'off'], { stdio: 'ignore' });
  // No IPv6 chatter (router solicitations, MLD) in the captures.
  execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
  return { ns, rootIf };
}

/** The MAC address of the host's eth0. */
export function hostMac(host: Host): string {
  return execFileSync('ip', ['-n', host.ns, '-br', 'link', 'show', 'eth0'], { encoding: 'utf8' }).split(/\s+/)[2]!;
}

/**
 * Gives each host its IPv4 address (a /24 on eth0) and a permanent neighbour entry for every
 * other one, so that traffic between them needs no ARP through the switch.
 */
export function addressHosts(hosts: [Host, string][]): void {
  for (const [host, ip] of hosts) execFileSync('ip', ['-n', host.ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
  for (const [host] of hosts) {
    for (const [peer, ip] of hosts) if (peer !== host) execFileSync('ip', ['-n', host.ns, 'neigh', 'replace', ip, 'lladdr', hostMac(peer), 'dev', 'eth0', 'nud', 'permanent']);
  }
}

export function removeHost(host: Host): void {
  try {
    execFileSync('ip', ['link', 'del', host.rootIf], { stdio: 'ignore' });
  } catch {
    /* not there */
  }
  try {
    execFileSync('ip', ['netns', 'del', host.ns], { stdio: 'ignore' });
  } catch {
    /* not there */
  }
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Sends frames out of the host's eth0 in one batch. */
export function sendFrames(host: Host, frames: Uint8Array[]): void {
  const code = `
    import { PacketPort, PORT_COUNTERS } from ${JSON.stringify(portsModule)};
    const port = new PacketPort('eth0', 1, new Float64Array(PORT_COUNTERS), 256);
    for (const h of process.argv.slice(1)) { const f = Buffer.from(h, 'hex'); port.queueCopy(f, 0, f.length); }
    port.flush();
    port.close();`;
  execFileSync('ip', ['netns', 'exec', host.ns, 'node', '--input-type=module', '-e', code, ...frames.map(hex)]);
}

/** Captures frames arriving at the host's eth0 until stop() is called. */
export class Capture {
  private readonly child: ChildProcess;
  private out = '';
  readonly ready: Promise<void>;

  constructor(host: Host) {
    const code = `
      import { PacketPort, PORT_COUNTERS } from ${JSON.stringify(portsModule)};
      const port = new PacketPort('eth0', 1, new Float64Array(PORT_COUNTERS), 64);
      process.stdout.write('ready\\n');
      let stop = false;
      process.stdin.on('data', () => { stop = true; });
      process.stdin.on('end', () => { stop = true; });
      const tick = () => {
        const n = port.receive();
        for (let i = 0; i < n; i++) process.stdout.write(Buffer.from(port.rx.subarray(i * 2048, i * 2048 + port.rxLengths[i])).toString('hex') + '\\n');
        if (stop && n === 0) { port.close(); process.stdout.write('done\\n'); process.exit(0); }
        setTimeout(tick, n > 0 ? 0 : 2);
      };
      tick();`;
    this.child = spawn('ip', ['netns', 'exec', host.ns, 'node', '--input-type=module', '-e', code], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.ready = new Promise((resolve) => {
      this.child.stdout!.on('data', (d: Buffer) => {
        this.out += d.toString();
        if (this.out.includes('ready\n')) resolve();
      });
    });
  }

  /** Stops capturing (after `settleMs`) and returns the frames seen. */
  async stop(settleMs = 300): Promise<Uint8Array[]> {
    await new Promise((r) => setTimeout(r, settleMs));
    const done = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.stdin!.end();
    await done;
    return this.out
      .split('\n')
      .filter((l) => /^[0-9a-f]+$/.test(l) && l.length >= 28)
      .map((l) => new Uint8Array(Buffer.from(l, 'hex')));
  }
}

/** RFC 791 header checksum of the IPv4 header at `at` (0 when the stored one is right). */
export function ipv4HeaderChecksum(frame: Uint8Array, at: number): number {
  const ihl = (frame[at]! & 15) * 4;
  let sum = 0;
  for (let i = 0; i < ihl; i += 2) sum += (frame[at + i]! << 8) | frame[at + i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Writes a correct header checksum into the IPv4 header at `at`. */
export function fixIpv4Checksum(frame: Uint8Array, at: number): Uint8Array {
  frame[at + 10] = 0;
  frame[at + 11] = 0;
  const c = ipv4HeaderChecksum(frame, at);
  frame[at + 10] = c >> 8;
  frame[at + 11] = c & 0xff;
  return frame;
}

/** Stops a child process (a switch): SIGTERM, then SIGKILL if it has not exited within 5 s. */
export async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
