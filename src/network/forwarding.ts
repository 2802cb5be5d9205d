// Proactive forwarding: for every learned host address, a table-1 route
// on every switch that can reach the host's switch, out of the first link of the topology's
// shortest path (or the host's own port on its switch). Routes are computed here as data
// and diffed against what each switch holds, so a topology change sends only the difference.
// Broadcast and multicast (ARP, ND) never follow these routes: the controller answers or
// relays them (network.ts), so cyclic topologies cannot loop.
import type { FlowModMessage } from '../openflow/codec/index.js';
import { deleteHostRoute, hostRoute } from './flows.js';
import type { Topology } from './topology.js';

export interface Route {
  address: string;
  family: 4 | 6;
  port: number;
}

/** Desired routes per switch: address → out port. */
export function computeRoutes(topology: Topology): Map<bigint, Map<string, Route>> {
  const routes = new Map<bigint, Map<string, Route>>();
  const switches = topology.listSwitches().map((s) => s.dpid);
  for (const dpid of switches) routes.set(dpid, new Map());
  for (const host of topology.listHosts()) {
    const { dpid: hostSwitch, port: hostPort } = host.attachment;
    for (const dpid of switches) {
      let port: number | undefined;
      if (dpid === hostSwitch) port = hostPort;
      else port = topology.switchPath(dpid, hostSwitch)?.[0]?.src.port;
      if (port === undefined) continue;
      const table = routes.get(dpid)!;
      for (const a of host.ipv4) table.set(a, { address: a, family: 4, port });
      for (const a of host.ipv6) table.set(a, { address: a, family: 6, port });
    }
  }
  return routes;
}

/** The flow-mods that turn `have` into `want` on one switch. */
export function routeChanges(have: ReadonlyMap<string, Route>, want: ReadonlyMap<string, Route>): FlowModMessage[] {
  const msgs: FlowModMessage[] = [];
  for (const [addr, r] of have) if (!want.has(addr)) msgs.push(deleteHostRoute(addr, r.family));
  for (const [addr, r] of want) {
    const old = have.get(addr);
    if (!old || old.port !== r.port) msgs.push(hostRoute(addr, r.family, r.port));
  }
  return msgs;
}
