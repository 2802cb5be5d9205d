// Open vSwitch helpers for the integration tests. The shared part (status, start/kill,
// bridges, ovs-vsctl / ovs-ofctl, the machine-wide OVS lock) lives in bench/support/ovs.ts
// so that `payflow bench` can use it too, and the lab topology (bridges linked by veth
// pairs, one host namespace per bridge) in bench/support/ovs-lab.ts; both are re-exported
// here. What only tests need stays below: single veth ports in namespaces, raw frames,
// packet capture and pcap reading.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { run, sleep, vsctl } from '../../bench/support/ovs.js';

export * from '../../bench/support/ovs.js';
export * from '../../bench/support/ovs-lab.js';

function commandWorks(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

export interface VethPort {
  /** the end attached to the bridge, in the root namespace */
  bridgeSide: string;
  /** the end in the namespace */
  nsSide: string;
  netns: string;
  ofport: number;
  /** MAC address of the namespace end */
  nsMac: string;
}

/**
 * A network namespace with one end of a veth pair, the other end on `bridge` as OpenFlow
 * port `ofport`. IPv6 is off on both ends so the kernel sends no unsolicited frames.
 */
export async function addVethPortInNetns(bridge: string, ofport: number, names: { netns: string; prefix: string }): Promise<VethPort> {
  const { netns, prefix } = names;
  const bridgeSide = `${prefix}a`;
  const nsSide = `${prefix}b`;
  if (!existsSync(`/var/run/netns/${netns}`)) await run('ip', ['netns', 'add', netns]);
  await run('ip', ['netns', 'exec', netns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  await run('ip', ['link', 'add', bridgeSide, 'type', 'veth', 'peer', 'name', nsSide]);
  await run('sysctl', ['-qw', `net.ipv6.conf.${bridgeSide}.disable_ipv6=1`]).catch(() => {});
  await run('ip', ['link', 'set', nsSide, 'netns', netns]);
  await run('ip', ['netns', 'exec', netns, 'ip', 'link', 'set', nsSide, 'up']);
  await run('ip', ['link', 'set', bridgeSide, 'up']);
  await vsctl('add-port', bridge, bridgeSide, '--', 'set', 'interface', bridgeSide, `ofport_request=${ofport}`);
  const nsMac = (await run('ip', ['netns', 'exec', netns, 'cat', `/sys/class/net/${nsSide}/address`])).trim();
  return { bridgeSide, nsSide, netns, ofport, nsMac };
}

/** Removes a namespace and the veth ends named with `prefix` (deleting one end deletes both). */
export async function removeNetns(netns: string, prefix?: string): Promise<void> {
  if (prefix) await run('ip', ['link', 'del', `${prefix}a`]).catch(() => {});
  await run('ip', ['netns', 'del', netns]).catch(() => {});
}

/** Sends one raw Ethernet frame out of `ifname` inside `netns` (python3, AF_PACKET). */
export async function sendRawFrame(netns: string, ifname: string, frame: Uint8Array): Promise<void> {
  const script = [
    'import socket,sys',
    's=socket.socket(socket.AF_PACKET, socket.SOCK_RAW)',
    's.bind((sys.argv[1], 0))',
    's.send(bytes.fromhex(sys.argv[2]))',
  ].join('\n');
  await run('ip', ['netns', 'exec', netns, 'python3', '-c', script, ifname, Buffer.from(frame).toString('hex')]);
}

export function python3Available(): boolean {
  return commandWorks('python3', ['-c', 'import socket']);
}

/** A running capture of one interface in a namespace; `frames()` stops it and returns what it saw. */
export interface Capture {
  /** frames written to the capture file so far */
  seen(): Uint8Array[];
  /** waits until `count` frames were captured (or `timeoutMs` passed), stops tcpdump, returns the frames */
  frames(count?: number, timeoutMs?: number): Promise<Uint8Array[]>;
}

/**
 * Starts tcpdump on `ifname` in `netns` writing a pcap file, resolves once it listens.
 * `filter` is a BPF expression.
 */
export async function startCapture(netns: string, ifname: string, filter: string, file: string): Promise<Capture> {
  const child: ChildProcess = spawn('ip', ['netns', 'exec', netns, 'tcpdump', '-i', ifname, '-U', '-n', '-w', file, filter], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${err}`)), 30_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tcpdump exited (${code}): ${err}`));
    });
  });
  const seen = (): Uint8Array[] => (existsSync(file) ? readPcap(readFileSync(file)) : []);
  return {
    seen,
    async frames(count = 1, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (seen().length < count && Date.now() < deadline) await sleep(50);
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGINT');
      await exited;
      return readPcap(readFileSync(file));
    },
  };
}

/** Frames of a classic little- or big-endian pcap file. */
export function readPcap(bytes: Uint8Array): Uint8Array[] {
  if (bytes.length < 24) return [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, true);
  const little = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const frames: Uint8Array[] = [];
  for (let o = 24; o + 16 <= bytes.length; ) {
    const capLen = view.getUint32(o + 8, little);
    frames.push(bytes.slice(o + 16, o + 16 + capLen));
    o += 16 + capLen;
  }
  return frames;
}
