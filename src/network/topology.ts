// The controller's network view as plain data: switches and their ports, directed
// inter-switch links (each direction discovered separately by LLDP, IEEE 802.1AB),
// hosts attached at edge ports (learned from ARP / IPv6 ND by the caller), egress-port
// capacities, and hop-count shortest paths with a deterministic tie-break. Nothing here
// talks to a switch: the controller feeds events in (with explicit times, so tests are
// exact) and listens to the changes that come out.
//
// Identities: a dpid is a bigint (what the OpenFlow codec decodes; Map keys compare by
// value) and prints as 16 hex digits (dpid.ts). A link direction, and the capacity
// resource that admission control reserves on, is named by its egress port:
// `portKey(dpid, port)` = "0000000000000001:2". Host-facing egress ports are resources too.
import { formatDpid, MAX_DPID } from '../util/dpid.js';
import { normaliseHostAddress, normaliseUnicastMac } from '../util/addresses.js';
export { normaliseHostAddress, normaliseUnicastMac } from '../util/addresses.js';

export interface PortRef {
  dpid: bigint;
  port: number;
}

export interface PortInfo {
  portNo: number;
  name?: string;
  hwAddr?: string;
  /** OpenFlow ofp_port.curr_speed, kbit/s; 0 or absent when the switch does not say */
  currSpeedKbps?: number;
  /** link up and port not administratively down */
  up: boolean;
}

export interface SwitchView {
  dpid: bigint;
  ports: ReadonlyMap<number, PortInfo>;
}

/** One direction of an inter-switch link: LLDP sent out of src, received on dst. */
export interface Link {
  src: PortRef;
  dst: PortRef;
  lastSeenMs: number;
}

export interface Host {
  /** lower-case "aa:bb:cc:dd:ee:ff" */
  mac: string;
  attachment: PortRef;
  ipv4: ReadonlySet<string>;
  /** canonical (compressed, lower-case) IPv6 text */
  ipv6: ReadonlySet<string>;
  lastSeenMs: number;
}

/** One switch on a path: where the packets enter and leave it. */
export interface Hop {
  dpid: bigint;
  inPort: number;
  outPort: number;
}

export interface Path {
  hops: Hop[];
  /** the egress port of every hop, as capacity resources (portKey), in path order */
  resources: string[];
}

export type LinkRemovalReason = 'timeout' | 'port-down' | 'port-removed' | 'switch-removed' | 'replaced';
export type HostRemovalReason = 'timeout' | 'port-down' | 'port-removed' | 'switch-removed' | 'became-link';

export type TopologyEvent =
  | { type: 'switch-added'; dpid: bigint }
  | { type: 'switch-removed'; dpid: bigint }
  | { type: 'port-changed'; dpid: bigint; port: PortInfo }
  | { type: 'port-removed'; dpid: bigint; portNo: number }
  | { type: 'link-added'; link: Link }
  | { type: 'link-removed'; link: Link; reason: LinkRemovalReason }
  | { type: 'host-added'; host: Host }
  | { type: 'host-moved'; host: Host; from: PortRef }
  | { type: 'host-address-added'; host: Host; address: string }
  | { type: 'host-removed'; host: Host; reason: HostRemovalReason };

export type TopologyListener = (event: TopologyEvent) => void;

export interface CapacityPolicy {
  /** used when neither an override nor curr_speed gives a capacity, bits/s */
  defaultCapacityBps: number;
  /** take curr_speed from port features when there is no override */
  usePortSpeed: boolean;
  /** per egress port overrides; dpid as 16 hex digits */
  overrides: readonly { dpid: string; port: number; capacityBps: number }[];
}

export interface TopologyOptions {
  capacity?: CapacityPolicy;
  /** links not refreshed by LLDP for this long are dropped by expire() */
  linkTimeoutMs?: number;
  /** hosts not seen for this long are dropped by expire(), and their addresses may be claimed anew */
  hostTimeoutMs?: number;
  /** bindings written in the config: these addresses and MACs live only at this port */
  pinnedHosts?: readonly PinnedHost[];
  /**
   * A binding restored after a restart is not released for this long after its port came
   * up, however old its last sighting, so the host has time to answer the controller's
   * probes (default: the host timeout, at most 30 s)
   */
  restoredProbeWindowMs?: number;
  /** the clock for the probe window (default Date.now) */
  clock?: () => number;
}

/** A binding from before a restart: where it was and when its host was last seen. */
export interface RememberedHost extends PinnedHost {
  lastSeenMs?: number;
}

/** A host an operator pinned to a switch port (config `hosts:`). */
export interface PinnedHost {
  mac: string;
  dpid: bigint;
  port: number;
  ips: readonly string[];
}

export interface HostSighting {
  mac: string;
  dpid: bigint;
  port: number;
  /** an IPv4 or IPv6 address the host used as its source, when known */
  ip?: string;
  nowMs: number;
}

export type LearnResult =
  | { ok: true; change: 'added' | 'moved' | 'refreshed' | 'address-added' }
  | { ok: false; reason: 'unknown-switch' | 'unknown-port' | 'link-port' | 'bad-mac' | 'bad-address' | BindingRefusal };

/**
 * Why a sighting was refused by the host bindings: `move-refused` — the MAC is bound to
 * another port; `address-bound` — the address is bound to another host (another MAC, or
 * the same MAC at another port).
 */
export type BindingRefusal = 'move-refused' | 'address-bound';

export interface TopologySnapshot {
  switches: { dpid: string; ports: { portNo: number; name?: string; up: boolean; capacityBps: number }[] }[];
  links: { src: { dpid: string; port: number }; dst: { dpid: string; port: number }; capacityBps: number }[];
  hosts: { mac: string; dpid: string; port: number; ipv4: string[]; ipv6: string[] }[];
}

/** The resource id of an egress port: "0000000000000001:2". */
export function portKey(dpid: bigint, port: number): string {
  return `${formatDpid(dpid)}:${port}`;
}

/** OFPP_MAX (OpenFlow 1.3.5 §7.2.1): port numbers above it are reserved (LOCAL, CONTROLLER, ...). */
export const OFPP_MAX = 0xffffff00;

export function isPhysicalPort(portNo: number): boolean {
  return Number.isInteger(portNo) && portNo >= 1 && portNo <= OFPP_MAX;
}


interface MutableHost {
  mac: string;
  attachment: PortRef;
  ipv4: Set<string>;
  ipv6: Set<string>;
  lastSeenMs: number;
  /** written in the config: never expires, never moves */
  pinned: boolean;
  /** restored after a restart: not released before this time (the probe window) */
  holdUntilMs?: number;
}

interface MutableSwitch {
  dpid: bigint;
  ports: Map<number, PortInfo>;
  /** formatDpid(dpid), kept so that paths do not re-format it for every resource */
  hex: string;
}

function linkKeyOf(src: PortRef): string {
  return portKey(src.dpid, src.port);
}

export class Topology {
  private readonly switches = new Map<bigint, MutableSwitch>();
  /** directed links by their source (egress) port key */
  private readonly links = new Map<string, Link>();
  /** source port key of the link arriving on a port, by that port's key */
  private readonly linkInto = new Map<string, string>();
  private readonly hostsByMac = new Map<string, MutableHost>();
  private readonly hostsByIp = new Map<string, MutableHost>();
  private readonly listeners = new Set<TopologyListener>();
  private readonly overrides = new Map<string, number>();
  /** rate limits found on ports' interfaces, by portKey */
  private readonly shaped = new Map<string, number>();
  private readonly capacity: CapacityPolicy;
  private readonly linkTimeoutMs: number;
  private readonly hostTimeoutMs: number;
  private readonly pinnedByMac = new Map<string, PinnedHost>();
  private readonly pinnedByIp = new Map<string, PinnedHost>();
  /** hosts from before a restart, waiting for their port (remember()) */
  private readonly remembered = new Map<string, RememberedHost>();
  private readonly restoredProbeWindowMs: number;
  private readonly clock: () => number;
  private rememberedAtMs = 0;
  /** per source switch: BFS tree as the link used to reach each switch; cleared on any graph change */
  private readonly trees = new Map<bigint, Map<bigint, Link>>();
  /** sorted outgoing links per switch; rebuilt lazily */
  private adjacency: Map<bigint, Link[]> | undefined;

  constructor(options: TopologyOptions = {}) {
    this.capacity = options.capacity ?? { defaultCapacityBps: 1e9, usePortSpeed: true, overrides: [] };
    for (const o of this.capacity.overrides) this.overrides.set(`${o.dpid}:${o.port}`, o.capacityBps);
    this.linkTimeoutMs = options.linkTimeoutMs ?? 15_000;
    this.hostTimeoutMs = options.hostTimeoutMs ?? 300_000;
    this.restoredProbeWindowMs = options.restoredProbeWindowMs ?? Math.min(this.hostTimeoutMs, 30_000);
    this.clock = options.clock ?? Date.now;
    for (const p of options.pinnedHosts ?? []) {
      const mac = normaliseUnicastMac(p.mac);
      if (mac === undefined) throw new RangeError(`pinned host: bad MAC ${p.mac}`);
      const ips = p.ips.map((ip) => {
        const a = normaliseHostAddress(ip);
        if (a === undefined) throw new RangeError(`pinned host ${mac}: bad address ${ip}`);
        return a.address;
      });
      const pin = { mac, dpid: p.dpid, port: p.port, ips };
      this.pinnedByMac.set(mac, pin);
      for (const ip of ips) this.pinnedByIp.set(ip, pin);
    }
  }

  on(listener: TopologyListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: TopologyEvent): void {
    for (const l of [...this.listeners]) l(event);
  }

  private graphChanged(): void {
    this.trees.clear();
    this.adjacency = undefined;
  }

  // ---- switches and ports -------------------------------------------------------------

  /**
   * A switch connected (features reply + port description); replaces its port list.
   * Reserved ports (OFPP_LOCAL, OFPP_CONTROLLER, ...) are left out: only physical ports
   * carry links and hosts. Returns false, changing nothing, for a dpid outside 64 bits.
   */
  addSwitch(dpid: bigint, ports: readonly PortInfo[]): boolean {
    if (typeof dpid !== 'bigint' || dpid < 0n || dpid > MAX_DPID) return false;
    const physical = ports.filter((p) => isPhysicalPort(p.portNo));
    const existing = this.switches.get(dpid);
    if (existing) {
      const fresh = new Set(physical.map((p) => p.portNo));
      for (const portNo of [...existing.ports.keys()]) if (!fresh.has(portNo)) this.removePort(dpid, portNo);
      for (const p of physical) this.updatePort(dpid, p);
      return true;
    }
    this.switches.set(dpid, { dpid, ports: new Map(physical.map((p) => [p.portNo, { ...p }])), hex: formatDpid(dpid) });
    this.graphChanged();
    this.emit({ type: 'switch-added', dpid });
    for (const p of physical) if (p.up) this.attachPinned(dpid, p.portNo);
    return true;
  }

  removeSwitch(dpid: bigint): boolean {
    const sw = this.switches.get(dpid);
    if (!sw) return false;
    for (const link of [...this.links.values()]) {
      if (link.src.dpid === dpid || link.dst.dpid === dpid) this.dropLink(link, 'switch-removed');
    }
    for (const host of [...this.hostsByMac.values()]) if (host.attachment.dpid === dpid) this.dropHost(host, 'switch-removed');
    this.switches.delete(dpid);
    this.graphChanged();
    this.emit({ type: 'switch-removed', dpid });
    return true;
  }

  /** A port status message (add or modify). A port going down takes its links and hosts with it. */
  updatePort(dpid: bigint, port: PortInfo): boolean {
    const sw = this.switches.get(dpid);
    if (!sw || !isPhysicalPort(port.portNo)) return false;
    sw.ports.set(port.portNo, { ...port });
    if (!port.up) this.detachPort(dpid, port.portNo, 'port-down');
    this.graphChanged();
    this.emit({ type: 'port-changed', dpid, port: { ...port } });
    if (port.up) this.attachPinned(dpid, port.portNo);
    return true;
  }

  removePort(dpid: bigint, portNo: number): boolean {
    const sw = this.switches.get(dpid);
    if (!sw || !sw.ports.has(portNo)) return false;
    this.detachPort(dpid, portNo, 'port-removed');
    sw.ports.delete(portNo);
    this.graphChanged();
    this.emit({ type: 'port-removed', dpid, portNo });
    return true;
  }

  private detachPort(dpid: bigint, portNo: number, reason: 'port-down' | 'port-removed'): void {
    const key = portKey(dpid, portNo);
    const out = this.links.get(key);
    if (out) this.dropLink(out, reason);
    const intoKey = this.linkInto.get(key);
    const into = intoKey === undefined ? undefined : this.links.get(intoKey);
    if (into) this.dropLink(into, reason);
    for (const host of [...this.hostsByMac.values()]) {
      if (host.attachment.dpid === dpid && host.attachment.port === portNo) this.dropHost(host, reason);
    }
  }

  hasSwitch(dpid: bigint): boolean {
    return this.switches.has(dpid);
  }

  getSwitch(dpid: bigint): SwitchView | undefined {
    return this.switches.get(dpid);
  }

  /** Switches in dpid order. */
  listSwitches(): SwitchView[] {
    return [...this.switches.values()].sort((a, b) => (a.dpid < b.dpid ? -1 : a.dpid > b.dpid ? 1 : 0));
  }

  private portUp(ref: PortRef): boolean {
    return this.switches.get(ref.dpid)?.ports.get(ref.port)?.up === true;
  }

  // ---- links ----------------------------------------------------------------------------

  /**
   * LLDP sent out of `src` arrived on `dst`. Adds the link direction or refreshes it; a
   * different link previously using either port is replaced. Returns false (and changes
   * nothing) when either end is not a known, up port, or src and dst are the same port.
   */
  linkSeen(src: PortRef, dst: PortRef, nowMs: number): boolean {
    if (!this.portUp(src) || !this.portUp(dst)) return false;
    if (src.dpid === dst.dpid && src.port === dst.port) return false;
    const key = linkKeyOf(src);
    const dstKey = portKey(dst.dpid, dst.port);
    const existing = this.links.get(key);
    if (existing && existing.dst.dpid === dst.dpid && existing.dst.port === dst.port) {
      existing.lastSeenMs = nowMs;
      return true;
    }
    if (existing) this.dropLink(existing, 'replaced');
    const priorInto = this.linkInto.get(dstKey);
    const prior = priorInto === undefined ? undefined : this.links.get(priorInto);
    if (prior) this.dropLink(prior, 'replaced');
    const link: Link = { src: { dpid: src.dpid, port: src.port }, dst: { dpid: dst.dpid, port: dst.port }, lastSeenMs: nowMs };
    this.links.set(key, link);
    this.linkInto.set(dstKey, key);
    // Both ends of a link are switch ports, not host attachments.
    for (const host of [...this.hostsByMac.values()]) {
      const a = host.attachment;
      if ((a.dpid === src.dpid && a.port === src.port) || (a.dpid === dst.dpid && a.port === dst.port)) this.dropHost(host, 'became-link');
    }
    this.graphChanged();
    this.emit({ type: 'link-added', link: { ...link } });
    return true;
  }

  private dropLink(link: Link, reason: LinkRemovalReason): void {
    const key = linkKeyOf(link.src);
    if (this.links.get(key) !== link) return;
    this.links.delete(key);
    const dstKey = portKey(link.dst.dpid, link.dst.port);
    if (this.linkInto.get(dstKey) === key) this.linkInto.delete(dstKey);
    this.graphChanged();
    this.emit({ type: 'link-removed', link: { ...link }, reason });
  }

  /** Links in (src dpid, src port) order. */
  listLinks(): Link[] {
    return [...this.links.values()].sort(compareLinks);
  }

  /** Whether a port is an end of an inter-switch link (so never a host attachment). */
  isLinkPort(dpid: bigint, port: number): boolean {
    const key = portKey(dpid, port);
    return this.links.has(key) || this.linkInto.has(key);
  }

  // ---- hosts ------------------------------------------------------------------------------

  /**
   * A packet from a host (ARP, ND, or any IP packet) arrived at dpid/port.
   *
   * Bindings: a MAC is bound to the port where it was first seen, and an address to the
   * host that first used it. A later claim from another port, or of an address by another
   * MAC, is refused (nothing changes) until the old binding is released: its port went
   * down (which forgets the host) or it saw no traffic for the host timeout. Pinned hosts
   * (config) are never released. A spoofer therefore cannot take over a paying host's
   * address or MAC by announcing it.
   */
  learnHost(s: HostSighting): LearnResult {
    const mac = normaliseUnicastMac(s.mac);
    if (!mac) return { ok: false, reason: 'bad-mac' };
    const sw = this.switches.get(s.dpid);
    if (!sw) return { ok: false, reason: 'unknown-switch' };
    if (!sw.ports.get(s.port)?.up) return { ok: false, reason: 'unknown-port' };
    if (this.isLinkPort(s.dpid, s.port)) return { ok: false, reason: 'link-port' };
    let addr: { family: 4 | 6; address: string } | undefined;
    if (s.ip !== undefined) {
      addr = normaliseHostAddress(s.ip);
      if (!addr) return { ok: false, reason: 'bad-address' };
    }
    const at = (p: { dpid: bigint; port: number }) => p.dpid === s.dpid && p.port === s.port;
    const pinnedMac = this.pinnedByMac.get(mac);
    if (pinnedMac && !at(pinnedMac)) return { ok: false, reason: 'move-refused' };
    const pinnedIp = addr && this.pinnedByIp.get(addr.address);
    if (pinnedIp && (pinnedIp.mac !== mac || !at(pinnedIp))) return { ok: false, reason: 'address-bound' };
    let host = this.hostsByMac.get(mac);
    const moving = host !== undefined && !at(host.attachment);
    if (host && moving && !this.released(host, s.nowMs)) return { ok: false, reason: 'move-refused' };
    const owner = addr && this.hostsByIp.get(addr.address);
    if (owner && owner !== host && !this.released(owner, s.nowMs)) return { ok: false, reason: 'address-bound' };

    let change: 'added' | 'moved' | 'refreshed' | 'address-added' = 'refreshed';
    if (!host) {
      host = { mac, attachment: { dpid: s.dpid, port: s.port }, ipv4: new Set(), ipv6: new Set(), lastSeenMs: s.nowMs, pinned: pinnedMac !== undefined };
      this.hostsByMac.set(mac, host);
      change = 'added';
    } else if (moving) {
      // The old binding aged out: the host starts afresh at its new port, without the
      // addresses it had there.
      const from = host.attachment;
      for (const a of [...host.ipv4, ...host.ipv6]) if (this.hostsByIp.get(a) === host) this.hostsByIp.delete(a);
      host.ipv4.clear();
      host.ipv6.clear();
      host.attachment = { dpid: s.dpid, port: s.port };
      change = 'moved';
      host.lastSeenMs = s.nowMs;
      this.emit({ type: 'host-moved', host: this.hostView(host), from });
    }
    host.lastSeenMs = s.nowMs;
    let newAddress = false;
    if (addr) {
      const set = addr.family === 4 ? host.ipv4 : host.ipv6;
      if (!set.has(addr.address)) {
        if (owner && owner !== host) (addr.family === 4 ? owner.ipv4 : owner.ipv6).delete(addr.address);
        set.add(addr.address);
        this.hostsByIp.set(addr.address, host);
        newAddress = true;
      }
    }
    if (change === 'added') this.emit({ type: 'host-added', host: this.hostView(host) });
    else if (newAddress) this.emit({ type: 'host-address-added', host: this.hostView(host), address: addr!.address });
    if (change === 'refreshed' && newAddress) change = 'address-added';
    return { ok: true, change };
  }

  /** A binding may be taken over once its host has been silent for the host timeout (never when pinned). */
  private released(host: MutableHost, nowMs: number): boolean {
    if (host.holdUntilMs !== undefined && nowMs <= host.holdUntilMs) return false;
    return !host.pinned && nowMs - host.lastSeenMs > this.hostTimeoutMs;
  }

  /**
   * Hosts known from before a restart: each is bound again, with its last sighting (or
   * `nowMs` when none is known), when its switch port comes up (before it speaks), so its
   * routes are back at once and nobody else can claim its addresses first. The binding is
   * then held for the probe window (restoredProbeWindowMs from that moment), however old
   * its last sighting; a host that answers no probe in that window ages out as usual.
   */
  remember(hosts: readonly RememberedHost[], nowMs: number): void {
    for (const h of hosts) {
      const mac = normaliseUnicastMac(h.mac);
      if (mac === undefined || this.hostsByMac.has(mac) || this.pinnedByMac.has(mac)) continue;
      this.remembered.set(mac, { mac, dpid: h.dpid, port: h.port, ips: [...h.ips], ...(h.lastSeenMs !== undefined ? { lastSeenMs: h.lastSeenMs } : {}) });
    }
    this.rememberedAtMs = nowMs;
    for (const sw of this.switches.values()) for (const p of sw.ports.values()) if (p.up) this.attachPinned(sw.dpid, p.portNo);
  }

  /** Brings the pinned and remembered hosts of a port that came up into the host table. */
  private attachPinned(dpid: bigint, portNo: number): void {
    const attach = (pin: PinnedHost, nowMs: number) => {
      const ips = pin.ips.length ? pin.ips : [undefined];
      for (const ip of ips) this.learnHost({ mac: pin.mac, dpid, port: portNo, ...(ip !== undefined ? { ip } : {}), nowMs });
    };
    for (const pin of this.pinnedByMac.values()) {
      if (pin.dpid === dpid && pin.port === portNo && !this.hostsByMac.has(pin.mac)) attach(pin, 0);
    }
    for (const [mac, host] of [...this.remembered]) {
      if (host.dpid !== dpid || host.port !== portNo) continue;
      this.remembered.delete(mac);
      if (this.hostsByMac.has(mac)) continue;
      const holdUntilMs = this.clock() + this.restoredProbeWindowMs;
      attach(host, host.lastSeenMs ?? this.rememberedAtMs);
      const restored = this.hostsByMac.get(mac);
      if (restored) restored.holdUntilMs = holdUntilMs;
    }
  }

  /** The hosts written in the config. */
  get pinnedHosts(): PinnedHost[] {
    return [...this.pinnedByMac.values()].map((p) => ({ ...p, ips: [...p.ips] }));
  }

  private dropHost(host: MutableHost, reason: HostRemovalReason): void {
    if (this.hostsByMac.get(host.mac) !== host) return;
    this.hostsByMac.delete(host.mac);
    for (const a of [...host.ipv4, ...host.ipv6]) if (this.hostsByIp.get(a) === host) this.hostsByIp.delete(a);
    this.emit({ type: 'host-removed', host: this.hostView(host), reason });
  }

  private hostView(h: MutableHost): Host {
    return { mac: h.mac, attachment: { ...h.attachment }, ipv4: new Set(h.ipv4), ipv6: new Set(h.ipv6), lastSeenMs: h.lastSeenMs };
  }

  hostByMac(mac: string): Host | undefined {
    const m = normaliseUnicastMac(mac);
    const h = m === undefined ? undefined : this.hostsByMac.get(m);
    return h && this.hostView(h);
  }

  /** The host that last used this IPv4 or IPv6 address. */
  hostByIp(ip: string): Host | undefined {
    const a = normaliseHostAddress(ip);
    const h = a === undefined ? undefined : this.hostsByIp.get(a.address);
    return h && this.hostView(h);
  }

  private findHost(ipOrMac: string): MutableHost | undefined {
    const exact = this.hostsByIp.get(ipOrMac) ?? this.hostsByMac.get(ipOrMac);
    if (exact) return exact;
    const a = normaliseHostAddress(ipOrMac);
    if (a) return this.hostsByIp.get(a.address);
    const m = normaliseUnicastMac(ipOrMac);
    return m === undefined ? undefined : this.hostsByMac.get(m);
  }

  listHosts(): Host[] {
    return [...this.hostsByMac.values()].map((h) => this.hostView(h)).sort((a, b) => (a.mac < b.mac ? -1 : a.mac > b.mac ? 1 : 0));
  }

  /** Drops links and hosts not refreshed within their timeouts; returns how many of each. */
  expire(nowMs: number): { links: number; hosts: number } {
    let links = 0;
    let hosts = 0;
    for (const link of [...this.links.values()]) {
      if (nowMs - link.lastSeenMs > this.linkTimeoutMs) {
        this.dropLink(link, 'timeout');
        links++;
      }
    }
    for (const host of [...this.hostsByMac.values()]) {
      if (this.released(host, nowMs)) {
        this.dropHost(host, 'timeout');
        hosts++;
      }
    }
    return { links, hosts };
  }

  // ---- capacities -------------------------------------------------------------------------

  /**
   * Capacity of the link direction leaving dpid/port, bits/s: the config's override, else
   * a rate limit found on the port's interface (setShapedCapacity), else curr_speed, else
   * the default.
   */
  portCapacityBps(dpid: bigint, port: number): number {
    const override = this.overrides.get(portKey(dpid, port)) ?? this.shaped.get(portKey(dpid, port));
    if (override !== undefined) return override;
    if (this.capacity.usePortSpeed) {
      const kbps = this.switches.get(dpid)?.ports.get(port)?.currSpeedKbps;
      if (kbps !== undefined && Number.isFinite(kbps) && kbps > 0) return kbps * 1000;
    }
    return this.capacity.defaultCapacityBps;
  }

  /**
   * Records the rate limit someone else's egress shaping puts on a port (undefined: none
   * found). Returns true when it changed; the port is then announced as changed, so that
   * admission control follows.
   */
  setShapedCapacity(dpid: bigint, port: number, bps: number | undefined): boolean {
    const key = portKey(dpid, port);
    const valid = bps !== undefined && Number.isFinite(bps) && bps > 0 ? bps : undefined;
    if (this.shaped.get(key) === valid) return false;
    if (valid === undefined) this.shaped.delete(key);
    else this.shaped.set(key, valid);
    const info = this.switches.get(dpid)?.ports.get(port);
    if (info) this.emit({ type: 'port-changed', dpid, port: { ...info } });
    return true;
  }

  // ---- paths ------------------------------------------------------------------------------

  private sortedAdjacency(): Map<bigint, Link[]> {
    if (this.adjacency) return this.adjacency;
    const adj = new Map<bigint, Link[]>();
    for (const link of this.links.values()) {
      if (!this.portUp(link.src) || !this.portUp(link.dst)) continue;
      let list = adj.get(link.src.dpid);
      if (!list) adj.set(link.src.dpid, (list = []));
      list.push(link);
    }
    // Tie-break: prefer the neighbour with the lower dpid, then the lower ports.
    for (const list of adj.values()) list.sort((a, b) => cmpBig(a.dst.dpid, b.dst.dpid) || a.src.port - b.src.port || a.dst.port - b.dst.port);
    this.adjacency = adj;
    return adj;
  }

  /** BFS tree from src: for every reachable switch, the link that first reached it. */
  private treeFrom(src: bigint): Map<bigint, Link> {
    const cached = this.trees.get(src);
    if (cached) return cached;
    const adj = this.sortedAdjacency();
    const parent = new Map<bigint, Link>();
    const seen = new Set<bigint>([src]);
    const queue: bigint[] = [src];
    for (let head = 0; head < queue.length; head++) {
      const at = queue[head]!;
      for (const link of adj.get(at) ?? []) {
        const next = link.dst.dpid;
        if (seen.has(next)) continue;
        seen.add(next);
        parent.set(next, link);
        queue.push(next);
      }
    }
    this.trees.set(src, parent);
    return parent;
  }

  /**
   * The fewest-hop sequence of links from switch src to switch dst ([] when src = dst),
   * or undefined when dst cannot be reached. Equal-length paths are broken
   * deterministically: BFS visits neighbours in (dpid, port) order and keeps the first.
   */
  switchPath(src: bigint, dst: bigint): Link[] | undefined {
    if (!this.switches.has(src) || !this.switches.has(dst)) return undefined;
    if (src === dst) return [];
    const tree = this.treeFrom(src);
    if (!tree.has(dst)) return undefined;
    const links: Link[] = [];
    for (let at = dst; at !== src; ) {
      const link = tree.get(at)!;
      links.push(link);
      at = link.src.dpid;
    }
    return links.reverse();
  }

  /** The path from an ingress port to an egress port, as per-switch hops and egress resources. */
  pathBetweenPorts(from: PortRef, to: PortRef): Path | undefined {
    const links = this.switchPath(from.dpid, to.dpid);
    if (!links) return undefined;
    const hops: Hop[] = [];
    let inPort = from.port;
    let at = from.dpid;
    for (const link of links) {
      hops.push({ dpid: at, inPort, outPort: link.src.port });
      inPort = link.dst.port;
      at = link.dst.dpid;
    }
    hops.push({ dpid: at, inPort, outPort: to.port });
    return { hops, resources: hops.map((h) => `${this.switches.get(h.dpid)!.hex}:${h.outPort}`) };
  }

  /** The path between two hosts (looked up by IP or MAC), undefined when either is unknown or unreachable. */
  pathBetweenHosts(src: string, dst: string): Path | undefined {
    const a = this.findHost(src);
    const b = this.findHost(dst);
    if (!a || !b || a === b) return undefined;
    return this.pathBetweenPorts(a.attachment, b.attachment);
  }

  /** JSON-ready view for GET /v1/topology (dpids as hex strings). */
  snapshot(): TopologySnapshot {
    return {
      switches: this.listSwitches().map((s) => ({
        dpid: formatDpid(s.dpid),
        ports: [...s.ports.values()]
          .sort((a, b) => a.portNo - b.portNo)
          .map((p) => ({ portNo: p.portNo, ...(p.name !== undefined ? { name: p.name } : {}), up: p.up, capacityBps: this.portCapacityBps(s.dpid, p.portNo) })),
      })),
      links: this.listLinks().map((l) => ({
        src: { dpid: formatDpid(l.src.dpid), port: l.src.port },
        dst: { dpid: formatDpid(l.dst.dpid), port: l.dst.port },
        capacityBps: this.portCapacityBps(l.src.dpid, l.src.port),
      })),
      hosts: this.listHosts().map((h) => ({ mac: h.mac, dpid: formatDpid(h.attachment.dpid), port: h.attachment.port, ipv4: [...h.ipv4].sort(), ipv6: [...h.ipv6].sort() })),
    };
  }
}

function cmpBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareLinks(a: Link, b: Link): number {
  return cmpBig(a.src.dpid, b.src.dpid) || a.src.port - b.src.port;
}
