// The network side without switches, for `openflow.enabled: false`: the topology written
// in the config (topology.static); reservations are admitted and recorded but installed in
// no switch. For tests, demos and API development.
import type { PayflowConfig } from '../config/types.js';
import { parseDpid } from '../util/dpid.js';
import type { EnforcedReservation, Enforcer, LoadSample, Network, NetworkStats } from './contracts.js';
import { Topology } from './topology.js';

/**
 * The network for `openflow.enabled: false`: the configured static topology, no switches.
 * Its enforcer records what would be installed and installs nothing.
 */
export class StaticNetwork implements Network {
  readonly topology: Topology;
  readonly enforcer: Enforcer;
  private readonly recorded = new Map<string, EnforcedReservation>();

  constructor(config: PayflowConfig) {
    this.topology = new Topology({
      capacity: { defaultCapacityBps: config.links.defaultCapacityBps, usePortSpeed: config.links.usePortSpeed, overrides: config.links.overrides },
      linkTimeoutMs: Number.MAX_SAFE_INTEGER,
      hostTimeoutMs: Number.MAX_SAFE_INTEGER,
    });
    const st = config.topology.static ?? { links: [], hosts: [] };
    const dpid = (hex: string): bigint => {
      const d = parseDpid(hex);
      if (!d.ok) throw new Error(`bad dpid ${hex}`);
      return d.dpid;
    };
    const ports = new Map<bigint, Set<number>>();
    const use = (ref: { dpid: string; port: number }): void => {
      const d = dpid(ref.dpid);
      let set = ports.get(d);
      if (!set) ports.set(d, (set = new Set()));
      set.add(ref.port);
    };
    for (const l of st.links) {
      use(l.a);
      use(l.b);
    }
    for (const h of st.hosts) use(h.at);
    for (const [d, set] of ports) this.topology.addSwitch(d, [...set].sort((a, b) => a - b).map((portNo) => ({ portNo, up: true })));
    for (const l of st.links) {
      const a = { dpid: dpid(l.a.dpid), port: l.a.port };
      const b = { dpid: dpid(l.b.dpid), port: l.b.port };
      this.topology.linkSeen(a, b, 0);
      this.topology.linkSeen(b, a, 0);
    }
    for (const h of st.hosts) for (const ip of h.ips) this.topology.learnHost({ mac: h.mac, dpid: dpid(h.at.dpid), port: h.at.port, ip, nowMs: 0 });
    const recorded = this.recorded;
    this.enforcer = {
      async install(r) {
        recorded.set(r.id, r);
      },
      async remove(id) {
        recorded.delete(id);
      },
      async restore(list) {
        recorded.clear();
        for (const r of list) recorded.set(r.id, r);
      },
    };
  }

  onLoad(_listener: (sample: LoadSample) => void): () => void {
    return () => undefined;
  }

  stats(): NetworkStats {
    return { connectedSwitches: 0, openflowMessagesIn: 0, openflowMessagesOut: 0, reservationsInstalled: 0 };
  }

  /** What the switches would hold (tests). */
  recordedReservations(): EnforcedReservation[] {
    return [...this.recorded.values()];
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}
}

