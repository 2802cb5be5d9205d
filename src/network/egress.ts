// Egress scheduling (docs/design.md, "Facts of the platform"): the userspace datapath
// ignores set_queue, so marked traffic gets its rate from Linux tc on the switch port's own
// interface — an htb root (handle 5046:, "PF", which marks it as the controller's) with one
// class per service class (rate = share × capacity, ceil = capacity; best effort is the
// default class) and u32 filters on the TOS byte (IPv4) and the traffic class (IPv6) that
// put each DSCP in its class.
//
// A port name comes from the switch, so it is never trusted as a command argument: tc runs
// only on an interface that Open vSwitch on this machine reports as that very OpenFlow port
// of the bridge with that datapath id (a switch advertising a port named `lo` shapes
// nothing). A root qdisc someone else put there (a Mininet `--link tc` limit) is left alone
// unless `egress.shape` is `on`; its rate is read back as the link's capacity.
//
// Each class queues at most EGRESS_QUEUE_MS of the link's capacity (a bfifo leaf; without
// it htb's leaf takes txqueuelen = 1000 packets, a second at 10 Mbit/s). Beyond latency,
// this matters for the userspace datapath: it sends on every port through one AF_PACKET
// socket, and every queued packet is charged to that socket's send buffer, so one port's
// long queue can fill it and stall every other port (mininet/README.md, "the overload
// collapse"; scripts/setup-system.sh raises the buffer too).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import type { ServiceClassConfig } from '../config/types.js';

const execFileAsync = promisify(execFile);

/** The handle of the controller's own root qdisc ("PF" in hex): any other non-default root is someone else's. */
export const EGRESS_ROOT_HANDLE = '5046:';

/** How long a class's egress queue may be, at the link's capacity. */
export const EGRESS_QUEUE_MS = 50;
/** A queue holds at least this many bytes (ten full-size Ethernet frames), however slow the link. */
const MIN_QUEUE_BYTES = 10 * 1514;

/** What egress queuing needs of a service class. */
export type EgressClass = Pick<ServiceClassConfig, 'id' | 'dscp' | 'share' | 'bestEffort'>;

export interface EgressOptions {
  /** the tc binary (default 'tc') */
  tc?: string;
  /** run nothing, only return the commands */
  dryRun?: boolean;
  /**
   * replace whatever root qdisc a port has (egress.shape: on). Otherwise only the
   * controller's own root (EGRESS_ROOT_HANDLE) is replaced, and a port that someone else
   * shaped in the meantime fails with tc's "File exists" and keeps that shaping.
   */
  replaceForeign?: boolean;
}

/** The tc commands for one interface (argument lists for `tc`), after its root qdisc was deleted. */
export function egressCommands(dev: string, capacityBps: number, classes: readonly EgressClass[]): string[][] {
  const cap = Math.max(8000, Math.floor(capacityBps));
  const queueBytes = Math.max(MIN_QUEUE_BYTES, Math.ceil((cap * EGRESS_QUEUE_MS) / 1000 / 8));
  const cmds: string[][] = [];
  const sorted = [...classes].sort((a, b) => (a.bestEffort === b.bestEffort ? a.dscp - b.dscp : a.bestEffort ? 1 : -1));
  const minor = new Map<string, number>();
  sorted.forEach((c, i) => minor.set(c.id, 10 + i));
  const be = sorted.find((c) => c.bestEffort);
  const root = EGRESS_ROOT_HANDLE;
  const major = root.slice(0, -1);
  cmds.push(['qdisc', 'add', 'dev', dev, 'root', 'handle', root, 'htb', 'default', String(be ? minor.get(be.id)! : 99)]);
  cmds.push(['class', 'add', 'dev', dev, 'parent', root, 'classid', `${major}:1`, 'htb', 'rate', `${cap}bit`, 'ceil', `${cap}bit`]);
  sorted.forEach((c, i) => {
    const rate = Math.max(8000, Math.floor(c.share * cap));
    cmds.push(['class', 'add', 'dev', dev, 'parent', `${major}:1`, 'classid', `${major}:${minor.get(c.id)}`, 'htb', 'rate', `${rate}bit`, 'ceil', `${cap}bit`, 'prio', String(c.bestEffort ? 7 : i)]);
    cmds.push(['qdisc', 'add', 'dev', dev, 'parent', `${major}:${minor.get(c.id)}`, 'handle', `${minor.get(c.id)}:`, 'bfifo', 'limit', String(queueBytes)]);
  });
  let pref = 10;
  for (const c of sorted) {
    if (c.bestEffort) continue;
    const tos = `0x${(c.dscp << 2).toString(16).padStart(2, '0')}`;
    const flowid = `${major}:${minor.get(c.id)}`;
    cmds.push(['filter', 'add', 'dev', dev, 'parent', root, 'protocol', 'ip', 'prio', String(pref++), 'u32', 'match', 'ip', 'tos', tos, '0xfc', 'flowid', flowid]);
    cmds.push(['filter', 'add', 'dev', dev, 'parent', root, 'protocol', 'ipv6', 'prio', String(pref++), 'u32', 'match', 'ip6', 'priority', tos, '0xfc', 'flowid', flowid]);
  }
  return cmds;
}

/** Whether `name` could be a Linux interface name (IFNAMSIZ, no path or option characters). */
export function isInterfaceName(name: string | undefined): name is string {
  return typeof name === 'string' && /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/.test(name);
}

/**
 * Whether Open vSwitch on this machine says that interface `name` is OpenFlow port
 * `portNo` of the bridge whose datapath id is `dpid`: the only case in which the name a
 * switch advertised may reach a command here.
 */
export async function isLocalPortOf(name: string | undefined, dpid: bigint, portNo: number, vsctl = 'ovs-vsctl'): Promise<boolean> {
  if (!isInterfaceName(name) || !existsSync(`/sys/class/net/${name}`)) return false;
  const ask = async (...args: string[]) => (await execFileAsync(vsctl, ['--timeout=5', ...args], { timeout: 10_000 })).stdout.trim();
  try {
    const bridge = await ask('port-to-br', name);
    if (!isInterfaceName(bridge)) return false;
    const dp = (await ask('get', 'bridge', bridge, 'datapath-id')).replace(/"/g, '');
    const ofport = Number(await ask('get', 'interface', name, 'ofport'));
    return /^[0-9a-f]{16}$/.test(dp) && BigInt(`0x${dp}`) === dpid && ofport === portNo;
  } catch {
    return false;
  }
}

/** What holds the root of an interface's egress: the kernel's default, the controller's htb, or someone else's shaping. */
export type RootQdisc = { owner: 'default' } | { owner: 'controller' } | { owner: 'other'; kind: string; limitBps: number | undefined };

/** Reads `tc qdisc show dev NAME root` (and its classes, for a rate limit). */
export async function inspectRoot(dev: string, tc = 'tc'): Promise<RootQdisc> {
  const show = async (...args: string[]) => (await execFileAsync(tc, args, { timeout: 10_000 })).stdout;
  const root = (await show('qdisc', 'show', 'dev', dev, 'root')).split('\n')[0] ?? '';
  const m = /^qdisc (\S+) (\S+)/.exec(root);
  if (!m || m[2] === '0:') return { owner: 'default' };
  if (m[2] === EGRESS_ROOT_HANDLE && m[1] === 'htb') return { owner: 'controller' };
  const text = m[1] === 'htb' || m[1] === 'hfsc' ? await show('class', 'show', 'dev', dev) : root;
  const rates = [...text.matchAll(/\brate (\d+(?:\.\d+)?)([KMGT]?)bit\b/g)].map((r) => Number(r[1]) * ({ '': 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12 } as Record<string, number>)[r[2]!]!);
  return { owner: 'other', kind: m[1]!, limitBps: rates.length ? Math.min(...rates) : undefined };
}

export interface EgressPort {
  name: string;
  capacityBps: number;
}

/**
 * Applies the htb classes and filters to each port (already verified as this machine's:
 * isLocalPortOf). Does nothing when not root. Rejects with the first tc failure.
 */
export async function applyEgressScheduling(
  ports: readonly EgressPort[],
  classes: readonly EgressClass[],
  options: EgressOptions = {},
): Promise<string[][]> {
  if (typeof process.getuid === 'function' && process.getuid() !== 0 && !options.dryRun) return [];
  const all: string[][] = [];
  for (const p of ports) {
    if (!isInterfaceName(p.name)) continue;
    const cmds = egressCommands(p.name, p.capacityBps, classes);
    all.push(...cmds);
    if (options.dryRun) continue;
    // Start from a clean root so applying twice gives the same classes and filters. The
    // kernel deletes a root named by handle only if it has that handle: between looking at
    // a port and shaping it, someone else (Mininet re-applying its limits) may have put
    // their own root there, and then the add below fails instead of replacing it.
    const root = options.replaceForeign ? ['root'] : ['root', 'handle', EGRESS_ROOT_HANDLE];
    await execFileAsync(options.tc ?? 'tc', ['qdisc', 'del', 'dev', p.name, ...root], { timeout: 10_000 }).catch(() => {});
    for (const args of cmds) await execFileAsync(options.tc ?? 'tc', args, { timeout: 10_000 });
  }
  return all;
}
