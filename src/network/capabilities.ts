// What a switch can do with traffic beyond a reservation's rate, read once per connection:
// its meter features (OpenFlow 1.3.5 §7.3.5.14, OFPMP_METER_FEATURES band_types) and its
// description (§7.3.5.1, OFPMP_DESC, which tells PayFlow's own switch apart). From them and
// a class's `excess` policy follows, per switch and class, whether excess is degraded (a
// dscp_remark band raising the RFC 2597 drop precedence) or dropped (a drop band): Open
// vSwitch's userspace datapath advertises drop bands only, so there it is always dropped.
import type { ServiceClassConfig } from '../config/types.js';
import { OFPMBT } from '../openflow/codec/index.js';
import type { SwitchConnection } from '../openflow/connection.js';
import { PAYFLOW_SWITCH_DESC } from '../util/flow-queues.js';
import { raisedDropPrecedence, type ExcessTreatment } from './flows.js';

export type MeterBandName = 'drop' | 'dscp_remark';

export interface SwitchCapabilities {
  /** the meter band types the switch advertises */
  meterBands: MeterBandName[];
  /** the switch is `payflow switch` (its OFPMP_DESC hardware description says so) */
  payflowSwitch: boolean;
  /** OFPMP_DESC hardware / software description, when the switch answered */
  hwDesc?: string;
  swDesc?: string;
}

/** What the controller assumes of a switch that did not answer: drop bands only. */
export const DROP_ONLY: SwitchCapabilities = Object.freeze({ meterBands: ['drop'], payflowSwitch: false }) as SwitchCapabilities;

/**
 * A `payflow switch` is told by its manufacturer and hardware description. It owns its
 * egress queues (it shapes each port and schedules the queues set_queue names by DRR), so
 * the controller gives each reserved flow a queue of its own there and configures no tc.
 */
export function isPayflowSwitchDescription(desc: { mfrDesc: string; hwDesc: string }): boolean {
  return desc.mfrDesc === PAYFLOW_SWITCH_DESC.mfrDesc && desc.hwDesc === PAYFLOW_SWITCH_DESC.hwDesc;
}

/** Band types from an OFPMP_METER_FEATURES band_types bitmap (bit n = band type n). */
export function bandNames(bandTypes: number): MeterBandName[] {
  const names: MeterBandName[] = [];
  if ((bandTypes & (1 << OFPMBT.DROP)) !== 0) names.push('drop');
  if ((bandTypes & (1 << OFPMBT.DSCP_REMARK)) !== 0) names.push('dscp_remark');
  return names;
}

/** Asks a switch for its meter features and description; a switch that refuses either is taken as drop-only. */
export async function readCapabilities(conn: SwitchConnection, timeoutMs = 5000): Promise<SwitchCapabilities> {
  const [features, desc] = await Promise.all([
    conn.multipart({ bodyType: 'meter_features' }, { timeoutMs }).catch(() => undefined),
    conn.multipart({ bodyType: 'desc' }, { timeoutMs }).catch(() => undefined),
  ]);
  const meterBands = features?.bodyType === 'meter_features' ? bandNames(features.bandTypes) : [...DROP_ONLY.meterBands];
  const caps: SwitchCapabilities = { meterBands, payflowSwitch: false };
  if (desc?.bodyType === 'desc') {
    caps.hwDesc = desc.hwDesc;
    caps.swDesc = desc.swDesc;
    caps.payflowSwitch = isPayflowSwitchDescription(desc);
  }
  return caps;
}

export interface ClassExcess {
  classId: string;
  /** what the class asked for */
  policy: ServiceClassConfig['excess'];
  /** what this switch does with the class's excess */
  excess: 'degraded' | 'dropped';
  /** why a degrading class drops here */
  reason?: string;
  treatment: ExcessTreatment;
}

/**
 * Per class, what its excess gets on a switch with these capabilities. Degrading needs a
 * dscp_remark band, a class DSCP the band can raise (AFx1 or AFx2), and a raised code point
 * no other class uses (it must mean "this class's excess" on every switch).
 */
export function classExcessOn(classes: readonly ServiceClassConfig[], caps: SwitchCapabilities): ClassExcess[] {
  const dscps = new Set(classes.map((c) => c.dscp));
  return classes.map((c): ClassExcess => {
    const dropped = (reason?: string): ClassExcess => ({ classId: c.id, policy: c.excess, excess: 'dropped', ...(reason ? { reason } : {}), treatment: { kind: 'drop' } });
    if (c.excess !== 'degrade') return dropped();
    if (!caps.meterBands.includes('dscp_remark')) return dropped('the switch has no dscp_remark meter band');
    const raised = raisedDropPrecedence(c.dscp);
    if (raised === undefined) return dropped(`DSCP ${c.dscp} is not an AF code point a dscp_remark band can raise (AFx1, AFx2)`);
    if (dscps.has(raised)) return dropped(`the raised code point ${raised} is another class's DSCP`);
    return { classId: c.id, policy: c.excess, excess: 'degraded', treatment: { kind: 'degrade', raisedDscp: raised } };
  });
}
