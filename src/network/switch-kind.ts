// What kind of switch is at the other end of a connection, from its description
// (OFPMP_DESC, OpenFlow 1.3.5 §7.3.5.1). A `payflow switch` (src/switch/agent.ts) owns
// its egress queues: it shapes each port to its rate and schedules the queues set_queue
// names by DRR, so the controller puts each reserved flow in a queue of its own there and
// configures no Linux tc. Every other switch (Open vSwitch) gets tc on its ports as before.
import type { SwitchConnection } from '../openflow/connection.js';
import { PAYFLOW_SWITCH_DESC } from '../util/flow-queues.js';

export type SwitchKind = 'payflow' | 'other';

/** A `payflow switch` is told by its manufacturer and hardware description. */
export function kindOfDescription(desc: { mfrDesc: string; hwDesc: string }): SwitchKind {
  return desc.mfrDesc === PAYFLOW_SWITCH_DESC.mfrDesc && desc.hwDesc === PAYFLOW_SWITCH_DESC.hwDesc ? 'payflow' : 'other';
}

/** Asks a switch for its description; a switch that does not answer is 'other'. */
export async function querySwitchKind(conn: SwitchConnection, timeoutMs = 5000): Promise<SwitchKind> {
  try {
    const desc = await conn.multipart({ bodyType: 'desc' }, { timeoutMs });
    return kindOfDescription(desc);
  } catch {
    return 'other';
  }
}
