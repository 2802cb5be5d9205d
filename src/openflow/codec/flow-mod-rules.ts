// The rules a flow-mod's set-field actions must follow beyond their wire layout (OpenFlow
// 1.3.5 §7.2.5 "Set-Field Action"), which a switch enforces when it installs the flow:
// only packet header fields can be written, without a mask, and only on packets known to
// carry the field — its prerequisite (§7.2.3.6) must be established by the flow's match
// or by an action that runs before the set-field (push_vlan, push_mpls, pop_mpls,
// push_pbb, or an earlier set_field). Apply-actions run before the action set that
// write-actions fill (§5.9), and inside the action set pushes and pops come before
// set-fields (§5.10). The match's own rules are checked by encodeMatch (oxm.ts).
import type { Action } from './actions.js';
import type { Instruction } from './instructions.js';
import { checkSetField, type Match, type OxmFieldName, type OxmKnown } from './oxm.js';

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

function fromMatch(match: Match, field: OxmFieldName): OxmKnown | undefined {
  for (const oxm of match) if (oxm.field === field) return oxm as OxmKnown;
  return undefined;
}

/** The latest effect on `field` among `actions[0 .. before)`, searching backwards. */
function latestEffect(actions: readonly Action[], before: number, field: OxmFieldName): OxmKnown | undefined {
  for (let i = before - 1; i >= 0; i--) {
    const e = effectOn(actions[i]!, field);
    if (e !== undefined) return e;
  }
  return undefined;
}

/**
 * Checks every set_field of an encoded (hence well-formed) flow-mod. `path` names the
 * flow-mod; errors point at `path.instructions[i].actions[j].field`.
 */
export function checkFlowModSetFields(msg: { match: Match; instructions: readonly Instruction[] }, path: string): void {
  const { match, instructions } = msg;
  const applied: Action[] = [];
  for (const ins of instructions) if (ins.type === 'apply_actions') applied.push(...ins.actions);
  instructions.forEach((ins, i) => {
    if (ins.type !== 'apply_actions' && ins.type !== 'write_actions') return;
    const inActionSet = ins.type === 'write_actions';
    const actions = ins.actions;
    actions.forEach((action, j) => {
      if (action.type !== 'set_field') return;
      const lookup = (field: OxmFieldName): OxmKnown | undefined => {
        if (inActionSet) {
          // the action set's pushes and pops run first, then its set-fields in list order
          for (const a of actions) {
            if (a.type !== 'set_field') {
              const e = effectOn(a, field);
              if (e !== undefined) return e;
            }
          }
          return latestEffect(actions, j, field) ?? latestEffect(applied, applied.length, field) ?? fromMatch(match, field);
        }
        return latestEffect(actions, j, field) ?? fromMatch(match, field);
      };
      checkSetField(action.field, `${path}.instructions[${i}].actions[${j}].field`, lookup);
    });
  });
}
