// Keeps the QoS capacity model (src/qos/capacity.ts) in step with the topology: every
// switch port is an egress resource whose capacity is the topology's answer (config
// override, else OpenFlow curr_speed, else the default). Ports that go away lose their
// capacity (reservations on them stay tracked, so they show up as overcommitted until
// the controller reroutes or ends them).
import type { CapacityModel } from '../qos/capacity.js';
import { portKey, type Topology } from './topology.js';

/** Sets every known port's capacity now and follows topology events; returns the unsubscribe function. */
export function attachCapacitySync(topology: Topology, capacity: CapacityModel): () => void {
  const setSwitch = (dpid: bigint): void => {
    const sw = topology.getSwitch(dpid);
    if (!sw) return;
    for (const portNo of sw.ports.keys()) capacity.setCapacity(portKey(dpid, portNo), topology.portCapacityBps(dpid, portNo));
  };
  for (const sw of topology.listSwitches()) setSwitch(sw.dpid);
  const known = new Map<bigint, Set<number>>();
  for (const sw of topology.listSwitches()) known.set(sw.dpid, new Set(sw.ports.keys()));
  return topology.on((e) => {
    switch (e.type) {
      case 'switch-added':
        setSwitch(e.dpid);
        known.set(e.dpid, new Set(topology.getSwitch(e.dpid)?.ports.keys() ?? []));
        break;
      case 'port-changed':
        capacity.setCapacity(portKey(e.dpid, e.port.portNo), topology.portCapacityBps(e.dpid, e.port.portNo));
        known.get(e.dpid)?.add(e.port.portNo);
        break;
      case 'port-removed':
        capacity.clearCapacity(portKey(e.dpid, e.portNo));
        known.get(e.dpid)?.delete(e.portNo);
        break;
      case 'switch-removed':
        for (const portNo of known.get(e.dpid) ?? []) capacity.clearCapacity(portKey(e.dpid, portNo));
        known.delete(e.dpid);
        break;
      default:
        break;
    }
  });
}
