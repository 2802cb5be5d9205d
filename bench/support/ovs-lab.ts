// A small Open vSwitch lab for the controller's integration tests and the OVS benchmark
// (real OVS bridges linked by veth pairs, no Mininet; the benchmark times
// POST → barrier-confirmed 201 against real OVS): N userspace-datapath bridges speaking
// OpenFlow 1.3 to a controller on 127.0.0.1, linked by veth pairs as the caller lists,
// and one host per bridge in a network namespace of its own (IPv4 and IPv6, on the
// bridge's port 1), plus an ICMP echo from inside a namespace with python3 raw sockets
// (iputils ping is not installed everywhere) that makes the controller learn the hosts.
//
// One lab, one mechanism: test/network/network-ovs.test.ts, test/app/e2e-ovs.test.ts
// and bench/controller-ovs.ts all build their topology with it. Callers hold the OVS lock
// (acquireOvsLock in ./ovs.ts). Names carry a random tag so a lab never collides with
// another one, and destroy() removes everything create() made (also after a failure
// half-way).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createNetdevBridge, deleteBridge, run, sleep, uniqueName, vsctl } from './ovs.js';

const execFileAsync = promisify(execFile);

/** Two bridges (indexes into the lab's bridges) joined by a veth pair on ports pa and pb. */
export interface LabLinkSpec {
  a: number;
  pa: number;
  b: number;
  pb: number;
}

export interface LabSpec {
  /** how many bridges (and hosts: host i sits on bridge i, port 1) */
  switches: number;
  links: readonly LabLinkSpec[];
  /** first three octets of the hosts' IPv4 addresses (host i gets .(i+1)/24); default 10.77.0 */
  ipv4Prefix?: string;
  /** the hosts' IPv6 /64 prefix ending in `::` (host i gets ::(i+1)); default fd00:77:: */
  ipv6Prefix?: string;
  /** random when absent: 6 hex digits */
  tag?: string;
}

export interface LabBridge {
  name: string;
  /** 16 hex digits */
  dpidHex: string;
  dpid: bigint;
}

export interface LabHost {
  netns: string;
  /** veth name prefix: `<veth>a` is on the bridge (port 1), `<veth>b` in the namespace */
  veth: string;
  ipv4: string;
  ipv6: string;
  /** the namespace end's MAC, known after create() */
  mac: string;
}

export interface LabLink extends LabLinkSpec {
  /** the veth end on bridge a */
  x: string;
  /** the veth end on bridge b */
  y: string;
}

/** Polls `check` until it returns true; the deadline only turns a hang into a message (no timing assertion). */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await sleep(100);
  }
}

// One ICMP / ICMPv6 echo request; exit 0 when the matching reply comes back within 1 s.
const PING_SCRIPT = `
import socket, struct, sys, os, time
addr = sys.argv[1]
v6 = ':' in addr
ident = os.getpid() & 0xffff
if v6:
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    req_type, rep_type = 128, 129
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    req_type, rep_type = 8, 0
payload = b'payflow-ping'
def csum(b):
    if len(b) % 2: b += b'\\0'
    t = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while t >> 16: t = (t & 0xffff) + (t >> 16)
    return ~t & 0xffff
hdr = struct.pack('!BBHHH', req_type, 0, 0, ident, 1)
if not v6:
    hdr = struct.pack('!BBHHH', req_type, 0, csum(hdr + payload), ident, 1)
s.settimeout(1.0)
s.sendto(hdr + payload, (addr, 0))
end = time.time() + 1.0
while time.time() < end:
    try:
        data, peer = s.recvfrom(2048)
    except socket.timeout:
        break
    icmp = data if v6 else data[(data[0] & 15) * 4:]
    if len(icmp) >= 8 and icmp[0] == rep_type and struct.unpack('!H', icmp[4:6])[0] == ident:
        sys.exit(0)
sys.exit(1)
`;

/** True when an ICMP echo from inside `netns` to `address` is answered within 1 s. */
export async function ping(netns: string, address: string): Promise<boolean> {
  return execFileAsync('ip', ['netns', 'exec', netns, 'python3', '-c', PING_SCRIPT, address], { timeout: 10_000 }).then(
    () => true,
    () => false,
  );
}

export class OvsLab {
  readonly tag: string;
  readonly bridges: LabBridge[];
  readonly hosts: LabHost[];
  readonly links: LabLink[];

  constructor(spec: LabSpec) {
    const tag = spec.tag ?? uniqueName('');
    if (!/^[0-9a-f]{1,6}$/.test(tag)) throw new Error(`lab tag ${tag}: 1 to 6 hex digits`);
    if (spec.switches < 1 || spec.switches > 9) throw new Error('a lab has 1 to 9 bridges');
    this.tag = tag;
    const v4 = spec.ipv4Prefix ?? '10.77.0';
    const v6 = spec.ipv6Prefix ?? 'fd00:77::';
    this.bridges = Array.from({ length: spec.switches }, (_, k) => {
      const i = k + 1;
      const dpidHex = `00000000c0${tag}0${i}`.slice(-16).padStart(16, '0');
      return { name: `pfc${i}${tag}`, dpidHex, dpid: BigInt(`0x${dpidHex}`) };
    });
    this.hosts = this.bridges.map((_, k) => ({ netns: `pfh${k + 1}${tag}`, veth: `pfh${k + 1}${tag}`, ipv4: `${v4}.${k + 1}`, ipv6: `${v6}${k + 1}`, mac: '' }));
    for (const l of spec.links) {
      if (!this.bridges[l.a] || !this.bridges[l.b] || l.pa === 1 || l.pb === 1) throw new Error(`bad lab link ${JSON.stringify(l)} (port 1 is the host's)`);
    }
    this.links = spec.links.map((l) => ({ ...l, x: `pfl${l.a}${l.b}${tag}x`, y: `pfl${l.a}${l.b}${tag}y` }));
  }

  /**
   * Makes the bridges (connecting to tcp:127.0.0.1:<controllerPort>), the host namespaces
   * and the links. Needs OVS running, root, and the caller holding the OVS lock.
   */
  async create(controllerPort: number): Promise<void> {
    for (const b of this.bridges) await createNetdevBridge({ name: b.name, controllerPort, datapathId: b.dpidHex });
    for (const [i, h] of this.hosts.entries()) {
      await run('ip', ['netns', 'add', h.netns]);
      await run('ip', ['link', 'add', `${h.veth}a`, 'type', 'veth', 'peer', 'name', `${h.veth}b`]);
      await run('sysctl', ['-qw', `net.ipv6.conf.${h.veth}a.disable_ipv6=1`]).catch(() => {});
      await run('ip', ['link', 'set', `${h.veth}b`, 'netns', h.netns]);
      const ns = (...args: string[]): Promise<string> => run('ip', ['netns', 'exec', h.netns, ...args]);
      await ns('sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=0', 'net.ipv6.conf.default.disable_ipv6=0');
      // veth checksum offload leaves UDP checksums unfilled, which the userspace datapath forwards as they are
      await ns('ethtool', '-K', `${h.veth}b`, 'tx', 'off').catch(() => {});
      await ns('ip', 'link', 'set', `${h.veth}b`, 'up');
      await ns('ip', 'addr', 'add', `${h.ipv4}/24`, 'dev', `${h.veth}b`);
      await ns('ip', '-6', 'addr', 'add', `${h.ipv6}/64`, 'dev', `${h.veth}b`, 'nodad');
      h.mac = (await ns('cat', `/sys/class/net/${h.veth}b/address`)).trim();
      await run('ip', ['link', 'set', `${h.veth}a`, 'up']);
      await vsctl('add-port', this.bridges[i]!.name, `${h.veth}a`, '--', 'set', 'interface', `${h.veth}a`, 'ofport_request=1');
    }
    for (const l of this.links) {
      await run('ip', ['link', 'add', l.x, 'type', 'veth', 'peer', 'name', l.y]);
      for (const end of [l.x, l.y]) {
        await run('sysctl', ['-qw', `net.ipv6.conf.${end}.disable_ipv6=1`]).catch(() => {});
        await run('ip', ['link', 'set', end, 'up']);
      }
      await vsctl('add-port', this.bridges[l.a]!.name, l.x, '--', 'set', 'interface', l.x, `ofport_request=${l.pa}`);
      await vsctl('add-port', this.bridges[l.b]!.name, l.y, '--', 'set', 'interface', l.y, `ofport_request=${l.pb}`);
    }
  }

  /** Removes the bridges, namespaces and veth pairs (idempotent; ignores what is already gone). */
  async destroy(): Promise<void> {
    for (const b of this.bridges) await deleteBridge(b.name);
    for (const h of this.hosts) {
      await run('ip', ['link', 'del', `${h.veth}a`]).catch(() => {});
      await run('ip', ['netns', 'del', h.netns]).catch(() => {});
    }
    for (const l of this.links) await run('ip', ['link', 'del', l.x]).catch(() => {});
  }

  /** ICMP echo from host `from` to `address` (true when answered). */
  ping(from: number, address: string): Promise<boolean> {
    return ping(this.hosts[from]!.netns, address);
  }

  /** Runs a command inside host `i`'s namespace. */
  exec(i: number, cmd: string, ...args: string[]): Promise<string> {
    return run('ip', ['netns', 'exec', this.hosts[i]!.netns, cmd, ...args]);
  }
}
