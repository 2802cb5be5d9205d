// The network side of the controller (contracts.ts `Network`):
// runs the OpenFlow listener (OpenFlow 1.3.5 §6.3), keeps the Topology current from
// features / port-desc / port-status, discovers links with LLDP probes (IEEE 802.1AB) sent
// as packet-outs and returned as packet-ins, learns hosts from ARP (RFC 826), IPv6 ND
// (RFC 4861) and IP packet-ins, answers ARP and Neighbor Solicitations for known hosts as a
// proxy and relays the rest to host-facing ports only (never along links, so cyclic
// topologies cannot loop), installs proactive per-host routes, enforces reservations
// (enforcement.ts) and polls port and meter stats (stats.ts) into LoadSamples.
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import pino from 'pino';
import type { OpenFlowTlsConfig, PayflowConfig } from '../config/types.js';
import { OFPCML_NO_BUFFER, OFPP, OFPPC, OFPPR, OFPPS, OFPRR, output, packetOut, type Action, type FlowModMessage, type Port, type PacketInMessage, type FlowRemovedMessage } from '../openflow/codec/index.js';
import type { SwitchConnection } from '../openflow/connection.js';
import { OpenFlowListener } from '../openflow/listener.js';
import type { LoadSample, Network, NetworkStats, SwitchExcessView } from './contracts.js';
import { formatDpid } from '../util/dpid.js';
import { OpenFlowEnforcer, type SwitchAccess } from './enforcement.js';
import { COOKIE_MASK_KIND, COOKIE_RESERVATION_KIND, baseFlows, clearSwitch, deleteHostPortFlows, hostPortFlows, reservationCookie } from './flows.js';
import { readCapabilities, type SwitchCapabilities } from './capabilities.js';
import { computeRoutes, routeChanges, type Route } from './forwarding.js';
import { ICMPV6_NA, ICMPV6_NS, buildArpReply, buildArpRequest, buildNeighborAdvertisement, buildNeighborProbe, parseFrame, type ParsedFrame } from './hosts.js';
import { LLDP_ETHERTYPE, buildLldpProbe, parseLldpProbe } from './lldp.js';
import { StatsPoller } from './stats.js';
import { isPhysicalPort, normaliseHostAddress, normaliseUnicastMac, Topology, type PortInfo } from './topology.js';
import type { HostStore } from './host-store.js';
import { applyEgressScheduling, inspectRoot, isLocalPortOf, type EgressOptions, type EgressPort, type RootQdisc } from './egress.js';
import { EgressAgentClient } from './egress-agent.js';

export interface OpenFlowNetworkOptions {
  logger?: pino.Logger;
  topology?: Topology;
  /** Linux tc egress classes on switch ports that are local interfaces (default: on when root) */
  egress?: EgressOptions | false;
  /** where host bindings survive a restart (default: kept in memory only) */
  hostStore?: HostStore;
}

/** How often a port Open vSwitch did not confirm as its own is asked about again, and how far apart. */
const LOCAL_PORT_ASKS = 5;
const LOCAL_PORT_RETRY_MS = 1000;
/** When a switch's egress is looked at again after it became ready. */
const EGRESS_SETTLE_MS = [2000, 10_000];
/** The source MAC of the controller's ARP probes (locally administered, "PF"); replies to it are not relayed. */
export const PROBE_MAC = '02:50:46:00:00:01';

interface SwitchState {
  conn: SwitchConnection;
  /** setup (clear, base flows, meters, reservations) finished */
  ready: Promise<void>;
  isReady: boolean;
  routes: Map<string, Route>;
  hostPorts: Set<number>;
  /** its meter bands and whether it is a `payflow switch`, asked once per connection (capabilities.ts) */
  capabilities: Promise<SwitchCapabilities>;
  /** a `payflow switch`: reserved flows get queues of their own there, and no tc */
  ownsQueues: boolean;
}

export interface NetworkEvents {
  switchReady: [dpid: bigint];
  switchGone: [dpid: bigint];
  /** a reservation's flows ended in the switch (hard timeout) */
  reservationExpired: [id: string];
}

const FLOOD_MEMORY_MS = 2000;

export function portInfoOf(p: Port): PortInfo {
  return {
    portNo: p.portNo,
    name: p.name,
    hwAddr: p.hwAddr,
    currSpeedKbps: p.currSpeed,
    up: (p.config & OFPPC.PORT_DOWN) === 0 && (p.state & OFPPS.LINK_DOWN) === 0,
  };
}

/** The PEM files of openflow.tls; a missing or unreadable file stops the start with its path. */
function readTlsFiles(tls: OpenFlowTlsConfig): { cert: Buffer; key: Buffer; ca: Buffer } {
  const read = (what: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`openflow.tls.${what}: cannot read ${path}: ${(err as Error).message}`);
    }
  };
  return { cert: read('cert', tls.cert), key: read('key', tls.key), ca: read('ca', tls.ca) };
}

export class OpenFlowNetwork extends EventEmitter<NetworkEvents> implements Network {
  readonly topology: Topology;
  readonly enforcer: OpenFlowEnforcer;
  private readonly logger: pino.Logger;
  private readonly listener: OpenFlowListener;
  private readonly switches = new Map<bigint, SwitchState>();
  private readonly loadListeners = new Set<(s: LoadSample) => void>();
  /** frames the controller relayed: until when, and where they came in (dpid:port) */
  private readonly recentFloods = new Map<string, { untilMs: number; origin: string }>();
  private readonly stats_: StatsPoller;
  private messagesIn = 0;
  private messagesOut = 0;
  private lldpTimer: NodeJS.Timeout | undefined;
  private syncScheduled = false;
  private syncing: Promise<void> = Promise.resolve();
  private started = false;
  private unsubscribeTopology: (() => void) | undefined;
  private unfollowHosts: (() => void) | undefined;
  private egressChain: Promise<void> = Promise.resolve();
  private readonly egressApplied = new Map<string, number>();
  /**
   * What Open vSwitch here said of dpid:port:name: true once it confirmed the port as its
   * own, else how many times it did not (cleared when the switch goes).
   */
  private readonly localPorts = new Map<string, true | number>();
  /** pending re-runs of applyEgress per switch (after it connects, and for unconfirmed ports) */
  private readonly egressRetry = new Map<bigint, Map<number, NodeJS.Timeout>>();
  private readonly tls: { cert: Buffer; key: Buffer; ca: Buffer } | undefined;
  /** the egress agents of switches on other hosts, by datapath id */
  private readonly egressAgents = new Map<bigint, EgressAgentClient>();
  private switchesRefused = 0;
  private hostMovesRefused = 0;

  constructor(
    readonly config: PayflowConfig,
    private readonly options: OpenFlowNetworkOptions = {},
  ) {
    super();
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.topology =
      options.topology ??
      new Topology({
        capacity: { defaultCapacityBps: config.links.defaultCapacityBps, usePortSpeed: config.links.usePortSpeed, overrides: config.links.overrides },
        linkTimeoutMs: config.topology.linkTimeoutMs,
        hostTimeoutMs: config.topology.hostTimeoutMs,
        // Hosts written in the config are pinned: their addresses are accepted only from them.
        pinnedHosts: (config.topology.static?.hosts ?? []).map((h) => ({ mac: h.mac, dpid: BigInt(`0x${h.at.dpid}`), port: h.at.port, ips: h.ips })),
      });
    this.tls = config.openflow.tls && readTlsFiles(config.openflow.tls);
    for (const a of config.egress.agents) {
      this.egressAgents.set(BigInt(`0x${a.dpid}`), new EgressAgentClient({ host: a.address.host, port: a.address.port, tls: this.tls }));
    }
    this.listener = new OpenFlowListener({
      host: config.openflow.listen.host,
      port: config.openflow.listen.port,
      echoIntervalMs: config.openflow.echoIntervalMs,
      tls: this.tls && { ...this.tls, requestCert: true, rejectUnauthorized: true },
      allowedDatapaths: config.openflow.switches && new Set(config.openflow.switches.map((d) => BigInt(`0x${d}`))),
    });
    const access: SwitchAccess = {
      connection: (dpid) => {
        const s = this.switches.get(dpid);
        return s?.isReady ? s.conn : undefined;
      },
      connectedSwitches: () => [...this.switches.entries()].filter(([, s]) => s.isReady).map(([d]) => d),
      countOut: (n) => {
        this.messagesOut += n;
      },
      ownsEgressQueues: (dpid) => this.switches.get(dpid)?.ownsQueues === true,
    };
    this.enforcer = new OpenFlowEnforcer(access, this.topology, { logger: this.logger, bestEffortBurstMs: config.reservations.burstMs, classes: config.classes });
    this.enforcer.onRemoved((id) => this.emit('reservationExpired', id));
    this.stats_ = new StatsPoller({
      access,
      enforcer: this.enforcer,
      classes: config.classes,
      intervalMs: config.stats.pollIntervalMs,
      logger: this.logger,
      emit: (sample) => {
        for (const l of [...this.loadListeners]) {
          try {
            l(sample);
          } catch (err) {
            this.logger.warn({ err }, 'load listener threw');
          }
        }
      },
    });
    this.listener.on('switchConnected', (sw) => this.onSwitch(sw));
    this.listener.on('switchDisconnected', (sw, reason) => this.onSwitchGone(sw, reason));
    this.listener.on('handshakeFailed', (err, peer) => this.logger.warn({ err: err.message, peer }, 'switch handshake failed'));
    this.listener.on('switchRefused', (sw, reason) => {
      this.switchesRefused++;
      this.logger.warn({ dpid: sw.dpid, peer: `${sw.remoteAddress}:${sw.remotePort}`, reason }, 'switch refused');
    });
    this.listener.on('dialFailed', (err, target, retryInMs) =>
      this.logger.warn({ err: err.message, switch: `${target.host}:${target.port}`, retryInMs }, 'cannot reach a listening switch; retrying'));
  }

  /** The bound OpenFlow address (after start; useful with port 0). */
  get address(): { host: string; port: number } | undefined {
    const a = this.listener.address;
    return a && typeof a === 'object' ? { host: a.address, port: a.port } : undefined;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const hostStore = this.options.hostStore;
    if (hostStore) {
      // Bindings from before a restart come back as their ports come up, before the hosts speak.
      const stored = hostStore.load();
      this.topology.remember(stored.map((h) => ({ mac: h.mac, dpid: h.dpid, port: h.port, ips: h.addresses, lastSeenMs: h.lastSeenMs })), Date.now());
      this.unfollowHosts = hostStore.follow(this.topology);
      if (stored.length) this.logger.info({ hosts: stored.length }, 'host bindings restored from the store');
    }
    await this.listener.listen();
    this.unsubscribeTopology = this.topology.on((e) => {
      if (e.type !== 'port-changed') this.scheduleSync();
    });
    this.lldpTimer = setInterval(() => {
      this.topology.expire(Date.now());
      hostStore?.saveSightings(this.topology.listHosts());
      for (const dpid of this.switches.keys()) this.sendProbes(dpid);
      this.pruneFloods();
    }, this.config.topology.lldpIntervalMs);
    this.lldpTimer.unref();
    this.stats_.start();
    this.logger.info({ address: this.address, tls: this.tls !== undefined, allowList: this.config.openflow.switches?.length, why: this.config.openflow.listenReason }, 'OpenFlow listener up');
    for (const target of this.config.openflow.connect) {
      // The switch's certificate must chain to the CA; switches are named by dpid, not by host name.
      this.listener.dial(target, { tls: this.tls && { ...this.tls, rejectUnauthorized: true, checkServerIdentity: () => undefined } });
      this.logger.info({ switch: `${target.host}:${target.port}` }, 'dialling a listening switch');
    }
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    if (this.lldpTimer) clearInterval(this.lldpTimer);
    this.stats_.stop();
    this.unsubscribeTopology?.();
    this.unfollowHosts?.();
    this.options.hostStore?.saveSightings(this.topology.listHosts());
    await this.listener.close();
    for (const agent of this.egressAgents.values()) agent.close();
    this.switches.clear();
  }

  onLoad(listener: (sample: LoadSample) => void): () => void {
    this.loadListeners.add(listener);
    return () => this.loadListeners.delete(listener);
  }

  stats(): NetworkStats {
    return {
      connectedSwitches: [...this.switches.values()].filter((s) => s.isReady).length,
      openflowMessagesIn: this.messagesIn,
      openflowMessagesOut: this.messagesOut + this.stats_.messagesOut,
      reservationsInstalled: this.enforcer.size,
      switchesRefused: this.switchesRefused,
      hostMovesRefused: this.hostMovesRefused,
    };
  }

  /** Resolves when `dpid` is connected and set up (tables cleared, base flows, meters, reservations). */
  async switchReady(dpid: bigint): Promise<void> {
    for (;;) {
      const s = this.switches.get(dpid);
      if (s) {
        await s.ready;
        if (this.switches.get(dpid) === s) return;
        continue;
      }
      await new Promise<void>((resolve) => {
        const on = (d: bigint): void => {
          if (d === dpid) {
            this.off('switchReady', on);
            resolve();
          }
        };
        this.on('switchReady', on);
      });
    }
  }

  /** Per ready switch: its meter bands and what each class's excess gets there. */
  excessBySwitch(): SwitchExcessView[] {
    const out: SwitchExcessView[] = [];
    for (const [dpid, s] of this.switches) {
      const at = this.enforcer.capabilitiesOf(dpid);
      if (!s.isReady || !at) continue;
      out.push({
        dpid: formatDpid(dpid),
        meterBands: [...at.caps.meterBands],
        payflowSwitch: at.caps.payflowSwitch,
        excess: at.excess.map((e) => ({ classId: e.classId, policy: e.policy, excess: e.excess, ...(e.reason !== undefined ? { reason: e.reason } : {}) })),
      });
    }
    return out;
  }

  /** The most recent measured rates per egress port (bits/s, from port stats tx bytes). */
  portRates(): ReadonlyMap<string, number> {
    return this.stats_.portRates;
  }

  // ---- switches -------------------------------------------------------------------------

  private onSwitch(sw: SwitchConnection): void {
    const dpid = sw.datapathId;
    if (dpid === undefined) return;
    sw.on('message', () => {
      this.messagesIn++;
    });
    sw.on('packetIn', (pin) => this.onPacketIn(dpid, sw, pin));
    sw.on('portStatus', (ps) => {
      if (ps.reason === OFPPR.DELETE) this.topology.removePort(dpid, ps.desc.portNo);
      else {
        this.topology.updatePort(dpid, portInfoOf(ps.desc));
        this.sendProbes(dpid);
      }
      this.scheduleSync(); // a new or returning port is an edge port until LLDP finds a link on it
      void this.applyEgress(dpid);
    });
    sw.on('flowRemoved', (fr) => this.onFlowRemoved(dpid, fr));
    sw.on('switchError', (err) => this.logger.warn({ dpid: formatDpid(dpid), err: `${err.typeName} / ${err.codeName}` }, 'switch error'));
    this.topology.addSwitch(dpid, [...sw.ports.values()].map(portInfoOf));
    const state: SwitchState = { conn: sw, ready: Promise.resolve(), isReady: false, routes: new Map(), hostPorts: new Set(), capabilities: readCapabilities(sw), ownsQueues: false };
    this.switches.set(dpid, state);
    state.ready = this.setupSwitch(dpid, state).then(
      () => {
        if (this.switches.get(dpid) !== state) return;
        state.isReady = true;
        this.logger.info({ dpid: formatDpid(dpid), ports: sw.ports.size }, 'switch ready');
        this.emit('switchReady', dpid);
        this.probeHosts(dpid);
        this.sendProbes(dpid);
        this.scheduleSync();
        // Whoever configures the switch's ports may still be at it: Mininet re-applies its tc
        // limits after Open vSwitch has cleared them on start, so for a moment a port looks
        // unshaped. Looking again shortly after finds the limit, and takes it as the capacity.
        for (const ms of EGRESS_SETTLE_MS) this.recheckEgress(dpid, ms);
      },
      (err: unknown) => {
        this.logger.error({ err, dpid: formatDpid(dpid) }, 'switch setup failed');
        sw.close('setup failed');
      },
    );
    void this.applyEgress(dpid);
  }

  private async setupSwitch(dpid: bigint, state: SwitchState): Promise<void> {
    const caps = await state.capabilities;
    this.messagesOut += 2;
    if (this.switches.get(dpid) !== state) return;
    const excess = this.enforcer.setCapabilities(dpid, caps);
    const fallback = excess.filter((e) => e.policy === 'degrade' && e.excess === 'dropped');
    if (fallback.length > 0) {
      this.logger.warn(
        { dpid: formatDpid(dpid), meterBands: caps.meterBands, classes: fallback.map((e) => e.classId), reasons: [...new Set(fallback.map((e) => e.reason))] },
        `switch cannot re-mark: excess of ${fallback.map((e) => e.classId).join(', ')} is dropped there instead of degraded`,
      );
    }
    const msgs = [...clearSwitch(), ...baseFlows()];
    this.messagesOut += msgs.length + 1;
    await state.conn.sendConfirmed(msgs);
    // reservations stored for this switch, with the best-effort meter (flows refer to it)
    const access = this.switches.get(dpid);
    if (access !== state) return;
    state.ownsQueues = caps.payflowSwitch;
    if (state.ownsQueues) this.logger.info({ dpid: formatDpid(dpid) }, 'payflow switch: reserved flows get egress queues of their own (set_queue), no tc');
    if (this.switches.get(dpid) !== state) return;
    state.isReady = true; // the enforcer sends only to ready switches
    try {
      await this.enforcer.reinstallOn(dpid);
    } finally {
      state.isReady = false;
    }
  }

  private onSwitchGone(sw: SwitchConnection, reason: string): void {
    const dpid = sw.datapathId;
    if (dpid === undefined) return;
    const state = this.switches.get(dpid);
    if (!state || state.conn !== sw) return;
    this.switches.delete(dpid);
    this.enforcer.switchGone(dpid);
    for (const p of this.topology.getSwitch(dpid)?.ports.values() ?? []) {
      if (p.name === undefined) continue;
      this.egressApplied.delete(p.name);
      this.egressApplied.delete(`${dpid}:${p.name}`);
    }
    for (const key of [...this.localPorts.keys()]) if (key.startsWith(`${dpid}:`)) this.localPorts.delete(key);
    for (const t of this.egressRetry.get(dpid)?.values() ?? []) clearTimeout(t);
    this.egressRetry.delete(dpid);
    this.topology.removeSwitch(dpid);
    this.logger.warn({ dpid: formatDpid(dpid), reason }, 'switch disconnected');
    this.emit('switchGone', dpid);
  }

  private onFlowRemoved(dpid: bigint, fr: FlowRemovedMessage): void {
    if ((fr.cookie & COOKIE_MASK_KIND) !== COOKIE_RESERVATION_KIND) return;
    if (fr.reason !== OFPRR.HARD_TIMEOUT) return;
    const id = this.enforcer.idByCookie(fr.cookie, reservationCookie);
    if (id === undefined) return;
    this.logger.info({ reservation: id, dpid: formatDpid(dpid) }, 'reservation hard timeout in the switch');
    void this.enforcer.expired(id);
  }

  /**
   * Egress classes on the switch's ports, once per interface and capacity, serialised:
   * with tc here on ports Open vSwitch here confirms as the switch's, or through the
   * egress agent configured for that switch (which validates the names on its own host).
   * A port whose root qdisc someone else configured is left alone under `egress.shape:
   * auto`, and the rate limit found there becomes the port's capacity.
   */
  private applyEgress(dpid: bigint): Promise<void> {
    if (this.options.egress === false || this.config.egress.shape === 'off') return Promise.resolve();
    const egress = this.options.egress ?? {};
    const agent = this.egressAgents.get(dpid);
    const dpidHex = formatDpid(dpid);
    this.egressChain = this.egressChain.then(async () => {
      const state = this.switches.get(dpid);
      if (state && (await state.capabilities).payflowSwitch) return; // it schedules its own egress queues
      const sw = this.topology.getSwitch(dpid);
      if (!sw) return;
      const ports: (EgressPort & { portNo: number })[] = [];
      for (const p of sw.ports.values()) {
        const name = p.name;
        if (name === undefined) continue;
        const key = agent ? `${dpid}:${name}` : name;
        const root = await this.egressRoot(agent, name, dpid, p.portNo, egress.tc);
        if (root === undefined) continue;
        if (root.owner === 'other' && this.config.egress.shape === 'auto') {
          if (this.topology.setShapedCapacity(dpid, p.portNo, root.limitBps)) {
            this.logger.info({ dpid: dpidHex, port: p.portNo, name, qdisc: root.kind, capacityBps: root.limitBps }, 'port shaped by someone else: left alone, its rate is the link capacity');
          }
          continue;
        }
        const capacityBps = this.topology.portCapacityBps(dpid, p.portNo);
        if (this.egressApplied.get(key) !== capacityBps) ports.push({ name, capacityBps, portNo: p.portNo });
      }
      if (ports.length === 0) return;
      try {
        if (agent) {
          const { applied, refused } = await agent.apply(ports.map((p) => ({ name: p.name, dpid: dpidHex, portNo: p.portNo, capacityBps: p.capacityBps })), this.config.classes);
          for (const r of refused) this.logger.warn({ dpid: dpidHex, name: r.name, reason: r.reason }, 'egress agent refused a port');
          for (const p of ports) if (applied.includes(p.name)) this.egressApplied.set(`${dpid}:${p.name}`, p.capacityBps);
        } else {
          await applyEgressScheduling(ports, this.config.classes, { ...egress, replaceForeign: this.config.egress.shape === 'on' });
          for (const p of ports) this.egressApplied.set(p.name, p.capacityBps);
        }
      } catch (err) {
        this.logger.warn({ err, dpid: dpidHex }, 'egress scheduling failed');
      }
    });
    return this.egressChain;
  }

  /** What holds a port's egress root; undefined when the port is not one this controller may shape. */
  private async egressRoot(agent: EgressAgentClient | undefined, name: string, dpid: bigint, portNo: number, tc?: string): Promise<RootQdisc | undefined> {
    if (agent) {
      return agent.inspect({ name, dpid: formatDpid(dpid), portNo }).catch((err: unknown) => {
        this.logger.debug({ err, dpid: formatDpid(dpid), name }, 'egress agent: port not shaped');
        return undefined;
      });
    }
    if (!(await this.isLocalPort(name, dpid, portNo))) return undefined;
    return inspectRoot(name, tc).catch((): RootQdisc => ({ owner: 'default' }));
  }

  /**
   * isLocalPortOf (it runs ovs-vsctl), remembered once it says yes. A no is asked again, up to
   * LOCAL_PORT_ASKS times: Open vSwitch announces a new port to the controller before it has
   * written the port's number into its database, so the first answer can be a no that a
   * second later is a yes. applyEgress retries while such a port is unconfirmed.
   */
  private async isLocalPort(name: string, dpid: bigint, portNo: number): Promise<boolean> {
    const key = `${dpid}:${portNo}:${name}`;
    const known = this.localPorts.get(key);
    if (known === true) return true;
    if ((known ?? 0) >= LOCAL_PORT_ASKS) return false;
    const local = await isLocalPortOf(name, dpid, portNo);
    this.localPorts.set(key, local ? true : (known ?? 0) + 1);
    if (!local && (known ?? 0) + 1 < LOCAL_PORT_ASKS) this.recheckEgress(dpid, LOCAL_PORT_RETRY_MS);
    return local;
  }

  /** Runs applyEgress for a switch again in `ms` (one pending re-run per delay and switch). */
  private recheckEgress(dpid: bigint, ms: number): void {
    let timers = this.egressRetry.get(dpid);
    if (!timers) this.egressRetry.set(dpid, (timers = new Map()));
    if (timers.has(ms)) return;
    timers.set(
      ms,
      setTimeout(() => {
        timers.delete(ms);
        if (this.switches.has(dpid)) void this.applyEgress(dpid);
      }, ms).unref(),
    );
  }

  /** Resolves when every tc change asked for so far is done. */
  egressSettled(): Promise<void> {
    return this.egressChain;
  }

  // ---- discovery ------------------------------------------------------------------------

  /**
   * Asks every host bound at this switch to answer, from its own port: an ARP probe for
   * each IPv4 address (RFC 5227: sender address 0.0.0.0) and a neighbour probe for each
   * IPv6 address (a Neighbor Solicitation from the unspecified address, answered by a
   * Neighbor Advertisement to all nodes), so that a binding restored after a restart is
   * refreshed, or ages out if nobody answers.
   */
  private probeHosts(dpid: bigint): void {
    const conn = this.switches.get(dpid)?.conn;
    if (!conn) return;
    for (const host of this.topology.listHosts()) {
      if (host.attachment.dpid !== dpid) continue;
      for (const ip of host.ipv4) {
        const probe = buildArpRequest({ senderMac: PROBE_MAC, senderIp: '0.0.0.0', targetIp: ip });
        this.out(conn, packetOut({ inPort: OFPP.CONTROLLER, actions: [output(host.attachment.port)], data: probe }));
      }
      for (const ip of host.ipv6) {
        const probe = buildNeighborProbe({ target: ip, srcMac: PROBE_MAC });
        this.out(conn, packetOut({ inPort: OFPP.CONTROLLER, actions: [output(host.attachment.port)], data: probe }));
      }
    }
  }

  private sendProbes(dpid: bigint): void {
    const s = this.switches.get(dpid);
    const view = this.topology.getSwitch(dpid);
    if (!s || !view || s.conn.state !== 'ready') return;
    for (const p of view.ports.values()) {
      if (!p.up || !p.hwAddr || !normaliseUnicastMac(p.hwAddr)) continue;
      const data = buildLldpProbe({ dpid, port: p.portNo, srcMac: p.hwAddr, ttlSeconds: Math.ceil(this.config.topology.linkTimeoutMs / 1000) });
      this.out(s.conn, packetOut({ inPort: OFPP.CONTROLLER, actions: [output(p.portNo)], data }));
    }
  }

  private out(conn: SwitchConnection, msg: Parameters<SwitchConnection['send']>[0]): void {
    try {
      conn.send(msg);
      this.messagesOut++;
    } catch (err) {
      this.logger.debug({ err }, 'send failed');
    }
  }

  // ---- packet-ins -----------------------------------------------------------------------

  private onPacketIn(dpid: bigint, sw: SwitchConnection, pin: PacketInMessage): void {
    try {
      const inPortField = pin.match.find((f) => f.field === 'in_port');
      const inPort = typeof inPortField?.value === 'number' ? inPortField.value : undefined;
      if (inPort === undefined) return;
      const frame = parseFrame(pin.data);
      if (!frame) return;
      if (frame.ethType === LLDP_ETHERTYPE) {
        const probe = parseLldpProbe(pin.data);
        if (probe.ok) this.topology.linkSeen({ dpid: probe.dpid, port: probe.port }, { dpid, port: inPort }, Date.now());
        return;
      }
      // A relayed copy coming back in elsewhere (a link LLDP has not found yet) is dropped;
      // the same frame again from where it first came in is a retransmission.
      const relayed = this.recentFloods.get(floodKey(pin.data));
      if (relayed && relayed.untilMs > Date.now() && relayed.origin !== `${dpid}:${inPort}`) return;
      // A frame that claims an address or MAC bound elsewhere is not relayed: it must not
      // reach other hosts' neighbour caches nor be delivered as the host it impersonates.
      if (!this.learn(dpid, inPort, frame)) return;
      if (frame.arp) this.onArp(dpid, sw, inPort, frame, pin.data);
      else if (frame.nd) this.onNd(dpid, sw, inPort, frame, pin.data);
      else if (frame.ip && !this.deliver(frame.dstMac, frame.ip.dst, pin.data)) this.probeFor(dpid, inPort, frame);
    } catch (err) {
      this.logger.warn({ err, dpid: formatDpid(dpid) }, 'packet-in handling failed');
    }
  }

  /** Learns the sender; false when the host bindings refused its claim. */
  private learn(dpid: bigint, port: number, f: ParsedFrame): boolean {
    const now = Date.now();
    let ip: string | undefined;
    if (f.arp) ip = f.arp.senderIp;
    else if (f.nd?.icmpType === ICMPV6_NA) ip = f.nd.target;
    else if (f.ip) ip = f.ip.src;
    if (ip !== undefined && !normaliseHostAddress(ip)) ip = undefined;
    const mac = f.arp?.senderMac ?? f.srcMac;
    const result = this.topology.learnHost({ mac, dpid, port, ...(ip !== undefined ? { ip } : {}), nowMs: now });
    if (!result.ok && (result.reason === 'move-refused' || result.reason === 'address-bound')) {
      this.hostMovesRefused++;
      this.logger.warn({ dpid: formatDpid(dpid), port, mac, ip, reason: result.reason }, 'host claim refused: bound elsewhere');
      return false;
    }
    return true;
  }

  private onArp(dpid: bigint, sw: SwitchConnection, inPort: number, f: ParsedFrame, data: Uint8Array): void {
    const arp = f.arp!;
    if (arp.op === 1) {
      if (arp.senderIp === arp.targetIp) return; // gratuitous: learned, not relayed
      const target = this.topology.hostByIp(arp.targetIp);
      if (target && target.mac !== arp.senderMac) {
        const reply = buildArpReply({ senderMac: target.mac, senderIp: arp.targetIp, targetMac: arp.senderMac, targetIp: arp.senderIp });
        this.out(sw, packetOut({ inPort: OFPP.CONTROLLER, actions: [output(inPort)], data: reply }));
        return;
      }
      this.flood(dpid, inPort, data);
    } else if (arp.op === 2) {
      if (f.dstMac === PROBE_MAC) return; // an answer to the controller's own probe: learned above
      if (!this.deliver(f.dstMac, undefined, data)) this.flood(dpid, inPort, data);
    }
  }

  private onNd(dpid: bigint, sw: SwitchConnection, inPort: number, f: ParsedFrame, data: Uint8Array): void {
    const nd = f.nd!;
    const src = f.ip!.src;
    if (nd.icmpType === ICMPV6_NS) {
      if (src === '::') return; // duplicate address detection: nobody else should answer
      const target = this.topology.hostByIp(nd.target);
      if (target && target.mac !== f.srcMac) {
        const na = buildNeighborAdvertisement({ target: nd.target, targetMac: target.mac, toMac: f.srcMac, toIp: src });
        this.out(sw, packetOut({ inPort: OFPP.CONTROLLER, actions: [output(inPort)], data: na }));
        return;
      }
      this.flood(dpid, inPort, data);
    } else if (nd.icmpType === ICMPV6_NA) {
      this.deliver(f.dstMac, undefined, data);
    }
  }

  /**
   * An IPv4 packet for a destination the controller does not know (forgotten after
   * hostTimeout while the sender still has it in its ARP cache): ask for it with an ARP
   * request on the sender's behalf, relayed to host ports; the answer teaches the controller
   * where the destination is. The same probe goes out at most once per relay memory.
   */
  private probeFor(dpid: bigint, inPort: number, f: ParsedFrame): void {
    if (f.ip?.family !== 4 || !normaliseHostAddress(f.ip.dst) || !normaliseHostAddress(f.ip.src) || !normaliseUnicastMac(f.srcMac)) return;
    const request = buildArpRequest({ senderMac: f.srcMac, senderIp: f.ip.src, targetIp: f.ip.dst });
    const relayed = this.recentFloods.get(floodKey(request));
    if (relayed && relayed.untilMs > Date.now()) return;
    this.flood(dpid, inPort, request);
  }

  /** Packet-out to the host owning `mac` (or `ip`) at its attachment port; false when unknown. */
  private deliver(mac: string, ip: string | undefined, data: Uint8Array): boolean {
    const host = (normaliseUnicastMac(mac) ? this.topology.hostByMac(mac) : undefined) ?? (ip !== undefined ? this.topology.hostByIp(ip) : undefined);
    if (!host) return false;
    const s = this.switches.get(host.attachment.dpid);
    if (!s) return false;
    this.out(s.conn, packetOut({ inPort: OFPP.CONTROLLER, actions: [output(host.attachment.port)], data }));
    return true;
  }

  /** Sends a frame out of every up, non-link port of every switch except where it came in. */
  private flood(fromDpid: bigint, fromPort: number, data: Uint8Array): void {
    this.recentFloods.set(floodKey(data), { untilMs: Date.now() + FLOOD_MEMORY_MS, origin: `${fromDpid}:${fromPort}` });
    for (const [dpid, s] of this.switches) {
      const view = this.topology.getSwitch(dpid);
      if (!view) continue;
      const actions: Action[] = [];
      for (const p of view.ports.values()) {
        if (!p.up || this.topology.isLinkPort(dpid, p.portNo)) continue;
        if (dpid === fromDpid && p.portNo === fromPort) continue;
        actions.push(output(p.portNo, OFPCML_NO_BUFFER));
      }
      if (actions.length > 0) this.out(s.conn, packetOut({ inPort: OFPP.CONTROLLER, actions, data }));
    }
  }

  private pruneFloods(): void {
    const now = Date.now();
    for (const [k, v] of this.recentFloods) if (v.untilMs <= now) this.recentFloods.delete(k);
  }

  // ---- proactive forwarding -------------------------------------------------------------

  private scheduleSync(): void {
    if (this.syncScheduled) return;
    this.syncScheduled = true;
    setImmediate(() => {
      this.syncScheduled = false;
      this.syncing = this.syncing.then(() => this.syncForwarding()).catch((err: unknown) => this.logger.warn({ err }, 'forwarding sync failed'));
    });
  }

  /** Brings host routes and best-effort host-port meters on every ready switch to the topology's state. */
  private async syncForwarding(): Promise<void> {
    const routes = computeRoutes(this.topology);
    // Every port that is not a switch-to-switch link is an edge port, whether or not a host
    // was learned there: a host whose claims were refused, or that never spoke to the
    // controller, is still re-marked to best effort and metered as such.
    const hostPorts = new Map<bigint, Set<number>>();
    for (const dpid of this.switches.keys()) {
      const set = new Set<number>();
      for (const p of this.topology.getSwitch(dpid)?.ports.values() ?? []) {
        if (p.up && isPhysicalPort(p.portNo) && !this.topology.isLinkPort(dpid, p.portNo)) set.add(p.portNo);
      }
      hostPorts.set(dpid, set);
    }
    for (const h of this.topology.listHosts()) hostPorts.get(h.attachment.dpid)?.add(h.attachment.port);
    await Promise.all(
      [...this.switches.entries()].map(async ([dpid, s]) => {
        if (!s.isReady) return;
        const want = routes.get(dpid) ?? new Map<string, Route>();
        const wantPorts = hostPorts.get(dpid) ?? new Set<number>();
        const msgs: FlowModMessage[] = [];
        for (const p of s.hostPorts) if (!wantPorts.has(p)) msgs.push(deleteHostPortFlows(p));
        for (const p of wantPorts) if (!s.hostPorts.has(p)) msgs.push(...hostPortFlows(p));
        msgs.push(...routeChanges(s.routes, want));
        if (msgs.length === 0) return;
        this.messagesOut += msgs.length + 1;
        s.routes = new Map(want);
        s.hostPorts = new Set(wantPorts);
        try {
          await s.conn.sendConfirmed(msgs);
        } catch (err) {
          this.logger.warn({ err, dpid: formatDpid(dpid) }, 'route update refused');
        }
      }),
    );
  }
}

function floodKey(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
}
