// The rules a flow-mod's set-field actions must follow beyond their wire layout (OpenFlow
// 1.3.5 §7.2.5 "Set-Field Action"), which a switch enforces when it installs the flow:
// only packet header fields can be written, without a mask, and only on packets known to
// carry the field — its prerequisite (§7.2.3.6) must be established by the flow's match
// or by an action that runs before the set-field (push_vlan, push_mpls, pop_mpls,
// push_pbb, or an earlier set_field). Apply-actions run before the action set that
// write-actions fill (§5.9), and inside the action set pushes and pops come before
// set-fields (§5.10). The match's own rules are checked by encodeMatch (oxm.ts).
import type { Action } from './actions.js';
import { OfpEncodeError } from './buffer.js';
import type { Instruction } from './instructions.js';
import { checkSetFieldPrerequisite, prerequisiteFieldOf, setFieldRuleBroken, type Match, type OxmFieldName, type OxmKnown } from './oxm.js';

const VLAN_PRESENT: OxmKnown = { field: 'vlan_vid', value: 0x1000 };
const PBB_ETH_TYPE = 0x88e7;

/** What `action` says about `field` once it has run, or undefined when it leaves it alone. */
function effectOn(action: Action, field: OxmFieldName): OxmKnown | undefined {
  switch (action.type) {
    case 'push_vlan':
      return field === 'vlan_vid' ? VLAN_PRESENT : undefined;
    case 'push_mpls':
    case 'pop_mpls':
      return field === 'eth_type' ? { field: 'eth_type', value: action.ethertype } : undefined;
    case 'push_pbb':
      return field === 'eth_type' ? { field: 'eth_type', value: PBB_ETH_TYPE } : undefined;
    case 'set_field':
      return action.field.field === field && (action.field.mask === undefined || action.field.mask === null) ? (action.field as OxmKnown) : undefined;
    default:
      return undefined;
  }
}

/** The latest effect on `field` among `actions[0 .. before)`, searching backwards. */
function latestEffect(actions: readonly Action[], before: number, field: OxmFieldName, skipSetFields: boolean): OxmKnown | undefined {
  for (let i = before - 1; i >= 0; i--) {
    const a = actions[i]!;
    if (skipSetFields && a.type === 'set_field') continue;
    const e = effectOn(a, field);
    if (e !== undefined) return e;
  }
  return undefined;
}

/**
 * What the packet is known to carry in `field` when action `j` of instruction `i` runs:
 * the latest earlier action that sets it, else the flow's match.
 */
function knownValue(match: Match, instructions: readonly Instruction[], i: number, j: number, field: OxmFieldName): OxmKnown | undefined {
  const ins = instructions[i] as Extract<Instruction, { actions: Action[] }>;
  let found: OxmKnown | undefined;
  if (ins.type === 'apply_actions') {
    found = latestEffect(ins.actions, j, field, false);
  } else {
    // the action set: its pushes and pops first, then its set-fields in list order, all
    // after every apply-actions instruction
    found = latestEffect(ins.actions, ins.actions.length, field, true) ?? latestEffect(ins.actions, j, field, false);
    for (let k = instructions.length - 1; found === undefined && k >= 0; k--) {
      const other = instructions[k]!;
      if (other.type === 'apply_actions') found = latestEffect(other.actions, other.actions.length, field, false);
    }
  }
  if (found !== undefined) return found;
  for (const oxm of match) if (oxm.field === field) return oxm as OxmKnown;
  return undefined;
}

/**
 * Checks every set_field of an encoded (hence well-formed) flow-mod. `path` names the
 * flow-mod; errors point at `path.instructions[i].actions[j].field`.
 */
export function checkFlowModSetFields(msg: { match: Match; instructions: readonly Instruction[] }, path: string): void {
  const { match, instructions } = msg;
  for (let i = 0; i < instructions.length; i++) {
    const ins = instructions[i]!;
    if (ins.type !== 'apply_actions' && ins.type !== 'write_actions') continue;
    for (let j = 0; j < ins.actions.length; j++) {
      const action = ins.actions[j]!;
      if (action.type !== 'set_field' || action.field.field === 'unknown') continue;
      const oxm = action.field;
      const where = () => `${path}.instructions[${i}].actions[${j}].field`;
      const broken = setFieldRuleBroken(oxm);
      if (broken !== undefined) throw new OfpEncodeError(where(), broken);
      const prerequisite = prerequisiteFieldOf(oxm);
      if (prerequisite !== undefined) checkSetFieldPrerequisite(oxm, knownValue(match, instructions, i, j, prerequisite), where);
    }
  }
}
