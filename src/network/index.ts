// The controller foundations' public surface: datapath ids, the topology view, LLDP probes.
export { formatDpid, parseDpid, MAX_DPID, type DpidResult } from '../util/dpid.js';
export {
  Topology,
  portKey,
  isPhysicalPort,
  OFPP_MAX,
  normaliseUnicastMac,
  normaliseHostAddress,
  type PortRef,
  type PortInfo,
  type SwitchView,
  type Link,
  type Host,
  type Hop,
  type Path,
  type TopologyEvent,
  type TopologyListener,
  type TopologyOptions,
  type TopologySnapshot,
  type CapacityPolicy,
  type HostSighting,
  type LearnResult,
  type LinkRemovalReason,
  type HostRemovalReason,
} from './topology.js';
export {
  buildLldpProbe,
  parseLldp,
  parseLldpProbe,
  LLDP_ETHERTYPE,
  LLDP_MULTICAST,
  LLDP_DEFAULT_TTL_SECONDS,
  type LldpProbe,
  type LldpFrame,
  type LldpTlv,
  type LldpErrorCode,
  type LldpParseResult,
  type ProbeParseResult,
} from './lldp.js';
export { attachCapacitySync } from './capacity-sync.js';
// The network side : OpenFlow network, enforcement, host packets, egress tc.
export { OpenFlowNetwork, type OpenFlowNetworkOptions, type NetworkEvents } from './network.js';
export { OpenFlowEnforcer, EnforcementError, BEST_EFFORT_UNLIMITED_BPS, type EnforcementErrorCode, type SwitchAccess, type InstalledReservation } from './enforcement.js';
export { reservationCookie, reservationMatch, reservationHopMessages, BEST_EFFORT_METER_ID, PRIORITY as FLOW_PRIORITY } from './flows.js';
export { parseFrame, buildArpReply, buildNeighborAdvertisement, type ParsedFrame, type ArpPacket, type NdPacket } from './hosts.js';
export { egressCommands, applyEgressScheduling, type EgressOptions } from './egress.js';
export { EgressAgent, EgressAgentClient, EGRESS_AGENT_PORT, type EgressAgentOptions } from './egress-agent.js';
