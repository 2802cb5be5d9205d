// Egress scheduling (issue 5, item 5; DESIGN.md "Facts checked"): the userspace datapath
// ignores set_queue, so marked traffic gets its rate from Linux tc on the switch port's own
// interface — an htb root (1:) with one class per service class (rate = share × capacity,
// ceil = capacity; best effort is the default class) and u32 filters on the TOS byte
// (IPv4) and the traffic class (IPv6) that put each DSCP in its class. Applied only to
// ports that are Linux interfaces in this namespace (/sys/class/net/<name>), as root.
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

/** How long a class's egress queue may be, at the link's capacity. */
export const EGRESS_QUEUE_MS = 50;
/** A queue holds at least this many bytes (ten full-size Ethernet frames), however slow the link. */
const MIN_QUEUE_BYTES = 10 * 1514;

export interface EgressOptions {
  /** the tc binary (default 'tc') */
  tc?: string;
  /** run nothing, only return the commands */
  dryRun?: boolean;
}

/** The tc commands for one interface (argument lists for `tc`), after its root qdisc was deleted. */
export function egressCommands(dev: string, capacityBps: number, classes: readonly ServiceClassConfig[]): string[][] {
  const cap = Math.max(8000, Math.floor(capacityBps));
  const queueBytes = Math.max(MIN_QUEUE_BYTES, Math.ceil((cap * EGRESS_QUEUE_MS) / 1000 / 8));
  const cmds: string[][] = [];
  const sorted = [...classes].sort((a, b) => (a.bestEffort === b.bestEffort ? a.dscp - b.dscp : a.bestEffort ? 1 : -1));
  const minor = new Map<string, number>();
  sorted.forEach((c, i) => minor.set(c.id, 10 + i));
  const be = sorted.find((c) => c.bestEffort);
  cmds.push(['qdisc', 'add', 'dev', dev, 'root', 'handle', '1:', 'htb', 'default', String(be ? minor.get(be.id)! : 99)]);
  cmds.push(['class', 'add', 'dev', dev, 'parent', '1:', 'classid', '1:1', 'htb', 'rate', `${cap}bit`, 'ceil', `${cap}bit`]);
  sorted.forEach((c, i) => {
    const rate = Math.max(8000, Math.floor(c.share * cap));
    cmds.push(['class', 'add', 'dev', dev, 'parent', '1:1', 'classid', `1:${minor.get(c.id)}`, 'htb', 'rate', `${rate}bit`, 'ceil', `${cap}bit`, 'prio', String(c.bestEffort ? 7 : i)]);
    cmds.push(['qdisc', 'add', 'dev', dev, 'parent', `1:${minor.get(c.id)}`, 'handle', `${minor.get(c.id)}:`, 'bfifo', 'limit', String(queueBytes)]);
  });
  let pref = 10;
  for (const c of sorted) {
    if (c.bestEffort) continue;
    const tos = `0x${(c.dscp << 2).toString(16).padStart(2, '0')}`;
    const flowid = `1:${minor.get(c.id)}`;
    cmds.push(['filter', 'add', 'dev', dev, 'parent', '1:', 'protocol', 'ip', 'prio', String(pref++), 'u32', 'match', 'ip', 'tos', tos, '0xfc', 'flowid', flowid]);
    cmds.push(['filter', 'add', 'dev', dev, 'parent', '1:', 'protocol', 'ipv6', 'prio', String(pref++), 'u32', 'match', 'ip6', 'priority', tos, '0xfc', 'flowid', flowid]);
  }
  return cmds;
}

/** Whether `name` is a network interface of this namespace that tc can configure. */
export function isLocalInterface(name: string | undefined): name is string {
  return typeof name === 'string' && /^[A-Za-z0-9_.-]{1,15}$/.test(name) && existsSync(`/sys/class/net/${name}`);
}

/**
 * Applies the htb classes and filters to every port that is a local interface (not the
 * bridge's internal port). Does nothing when not root. Rejects with the first tc failure.
 */
export async function applyEgressScheduling(
  ports: readonly { name?: string | undefined; capacityBps: number }[],
  classes: readonly ServiceClassConfig[],
  options: EgressOptions = {},
): Promise<string[][]> {
  if (typeof process.getuid === 'function' && process.getuid() !== 0 && !options.dryRun) return [];
  const all: string[][] = [];
  for (const p of ports) {
    if (!isLocalInterface(p.name)) continue;
    const cmds = egressCommands(p.name, p.capacityBps, classes);
    all.push(...cmds);
    if (options.dryRun) continue;
    // start from a clean root so applying twice gives the same classes and filters
    await execFileAsync(options.tc ?? 'tc', ['qdisc', 'del', 'dev', p.name, 'root'], { timeout: 10_000 }).catch(() => {});
    for (const args of cmds) await execFileAsync(options.tc ?? 'tc', args, { timeout: 10_000 });
  }
  return all;
}
