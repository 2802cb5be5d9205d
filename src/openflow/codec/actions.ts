// Actions (OpenFlow 1.3.5 §7.2.5, enum ofp_action_type and the ofp_action_* structs):
// one table maps each OFPAT_* code to its decoder; encoding switches on the action's
// `type` name. Every action is a multiple of 8 bytes long; set_field pads its OXM TLV to
// 8 (§7.2.5 "Set-Field Action"). Experimenter actions keep their payload as raw bytes;
// an action type this codec does not know is kept whole as `{ type: 'unknown' }`.
import { OfpEncodeError, Reader, Writer, checkBytes, checkUint, show } from './buffer.js';
import { OFPAT } from './constants.js';
import { wireType } from './layout.js';
import { decodeOxm, encodeOxm, type Oxm } from './oxm.js';

export type Action =
  | { type: 'output'; port: number; maxLen: number }
  | { type: 'copy_ttl_out' }
  | { type: 'copy_ttl_in' }
  | { type: 'set_mpls_ttl'; mplsTtl: number }
  | { type: 'dec_mpls_ttl' }
  | { type: 'push_vlan'; ethertype: number }
  | { type: 'pop_vlan' }
  | { type: 'push_mpls'; ethertype: number }
  | { type: 'pop_mpls'; ethertype: number }
  | { type: 'set_queue'; queueId: number }
  | { type: 'group'; groupId: number }
  | { type: 'set_nw_ttl'; nwTtl: number }
  | { type: 'dec_nw_ttl' }
  | { type: 'set_field'; field: Oxm }
  | { type: 'push_pbb'; ethertype: number }
  | { type: 'pop_pbb' }
  /** ofp_action_experimenter_header: `data` follows the experimenter id */
  | { type: 'experimenter'; experimenter: number; data: Uint8Array }
  /** an action type outside the spec: `data` follows the 4-byte type/len header */
  | { type: 'unknown'; actionType: number; data: Uint8Array };

export type ActionType = Action['type'];

type ActionDecoder = (r: Reader) => Action;

/** Bodies after the 4-byte header, inside the range the action's len allows. */
const ACTION_DECODERS: Record<number, ActionDecoder> = {
  [OFPAT.OUTPUT]: (r) => {
    const port = r.u32();
    const maxLen = r.u16();
    return { type: 'output', port, maxLen };
  },
  [OFPAT.COPY_TTL_OUT]: () => ({ type: 'copy_ttl_out' }),
  [OFPAT.COPY_TTL_IN]: () => ({ type: 'copy_ttl_in' }),
  [OFPAT.SET_MPLS_TTL]: (r) => ({ type: 'set_mpls_ttl', mplsTtl: r.u8() }),
  [OFPAT.DEC_MPLS_TTL]: () => ({ type: 'dec_mpls_ttl' }),
  [OFPAT.PUSH_VLAN]: (r) => ({ type: 'push_vlan', ethertype: r.u16() }),
  [OFPAT.POP_VLAN]: () => ({ type: 'pop_vlan' }),
  [OFPAT.PUSH_MPLS]: (r) => ({ type: 'push_mpls', ethertype: r.u16() }),
  [OFPAT.POP_MPLS]: (r) => ({ type: 'pop_mpls', ethertype: r.u16() }),
  [OFPAT.SET_QUEUE]: (r) => ({ type: 'set_queue', queueId: r.u32() }),
  [OFPAT.GROUP]: (r) => ({ type: 'group', groupId: r.u32() }),
  [OFPAT.SET_NW_TTL]: (r) => ({ type: 'set_nw_ttl', nwTtl: r.u8() }),
  [OFPAT.DEC_NW_TTL]: () => ({ type: 'dec_nw_ttl' }),
  [OFPAT.SET_FIELD]: (r) => ({ type: 'set_field', field: decodeOxm(r) }),
  [OFPAT.PUSH_PBB]: (r) => ({ type: 'push_pbb', ethertype: r.u16() }),
  [OFPAT.POP_PBB]: () => ({ type: 'pop_pbb' }),
  [OFPAT.EXPERIMENTER]: (r) => {
    const experimenter = r.u32();
    return { type: 'experimenter', experimenter, data: r.rest() };
  },
};

/** Decodes one action at the reader's position. */
export function decodeAction(r: Reader): Action {
  const start = r.pos;
  r.need(4, 'action header');
  const type = r.u16();
  const len = r.u16();
  if (len < 8 || len % 8 !== 0) r.fail(`action length ${len} is not a multiple of 8 (at least 8)`, start + 2);
  r.pos = start;
  const outer = r.enter(len, 'action');
  r.pos += 4;
  const decoder = ACTION_DECODERS[type];
  const action: Action = decoder ? decoder(r) : { type: 'unknown', actionType: type, data: r.rest() };
  r.leave(outer);
  return action;
}

/** A run of actions filling `len` bytes (instructions, buckets, packet-out). */
export function decodeActions(r: Reader, len: number): Action[] {
  const actions: Action[] = [];
  const outer = r.enter(len, 'action list');
  while (r.pos < r.end) actions.push(decodeAction(r));
  r.leave(outer);
  return actions;
}

// ---- encoding ---------------------------------------------------------------------------

function header(w: Writer, type: number, len: number): void {
  w.u16(type);
  w.u16(len);
}

export function encodeAction(w: Writer, a: Action, path: string): void {
  if (a === null || typeof a !== 'object') throw new OfpEncodeError(path, 'expected an action object');
  switch (a.type) {
    case 'output':
      header(w, OFPAT.OUTPUT, 16);
      w.u32(checkUint(a.port, 32, path, 'port'));
      w.u16(checkUint(a.maxLen, 16, path, 'maxLen'));
      w.zeros(6);
      return;
    case 'copy_ttl_out':
      return headerOnly(w, OFPAT.COPY_TTL_OUT);
    case 'copy_ttl_in':
      return headerOnly(w, OFPAT.COPY_TTL_IN);
    case 'dec_mpls_ttl':
      return headerOnly(w, OFPAT.DEC_MPLS_TTL);
    case 'pop_vlan':
      return headerOnly(w, OFPAT.POP_VLAN);
    case 'dec_nw_ttl':
      return headerOnly(w, OFPAT.DEC_NW_TTL);
    case 'pop_pbb':
      return headerOnly(w, OFPAT.POP_PBB);
    case 'set_mpls_ttl':
      header(w, OFPAT.SET_MPLS_TTL, 8);
      w.u8(checkUint(a.mplsTtl, 8, path, 'mplsTtl'));
      w.zeros(3);
      return;
    case 'set_nw_ttl':
      header(w, OFPAT.SET_NW_TTL, 8);
      w.u8(checkUint(a.nwTtl, 8, path, 'nwTtl'));
      w.zeros(3);
      return;
    case 'push_vlan':
      return ethertypeAction(w, OFPAT.PUSH_VLAN, a.ethertype, path);
    case 'push_mpls':
      return ethertypeAction(w, OFPAT.PUSH_MPLS, a.ethertype, path);
    case 'pop_mpls':
      return ethertypeAction(w, OFPAT.POP_MPLS, a.ethertype, path);
    case 'push_pbb':
      return ethertypeAction(w, OFPAT.PUSH_PBB, a.ethertype, path);
    case 'set_queue':
      header(w, OFPAT.SET_QUEUE, 8);
      w.u32(checkUint(a.queueId, 32, path, 'queueId'));
      return;
    case 'group':
      header(w, OFPAT.GROUP, 8);
      w.u32(checkUint(a.groupId, 32, path, 'groupId'));
      return;
    case 'set_field': {
      const start = w.pos;
      header(w, OFPAT.SET_FIELD, 0);
      encodeOxm(w, a.field, `${path}.field`);
      w.pad8(start);
      w.patch16(start + 2, w.pos - start);
      return;
    }
    case 'experimenter': {
      const data = checkBytes(a.data, path, 'data');
      const len = 8 + data.length;
      if (len % 8 !== 0) throw new OfpEncodeError(path, `experimenter action length ${len} is not a multiple of 8`);
      header(w, OFPAT.EXPERIMENTER, len);
      w.u32(checkUint(a.experimenter, 32, path, 'experimenter'));
      w.bytes(data);
      return;
    }
    case 'unknown': {
      const data = checkBytes(a.data, path, 'data');
      const len = 4 + data.length;
      if (len % 8 !== 0 || len > 0xffff) throw new OfpEncodeError(path, `action length ${len} is not a multiple of 8`);
      header(w, checkUint(a.actionType, 16, path, 'actionType'), len);
      w.bytes(data);
      return;
    }
    default:
      throw new OfpEncodeError(path, `unknown action type ${show((a as { type: unknown }).type)}`);
  }
}

function headerOnly(w: Writer, type: number): void {
  header(w, type, 8);
  w.zeros(4);
}

function ethertypeAction(w: Writer, type: number, ethertype: number, path: string): void {
  header(w, type, 8);
  w.u16(checkUint(ethertype, 16, path, 'ethertype'));
  w.zeros(2);
}

export function encodeActions(w: Writer, actions: readonly Action[], path: string): void {
  if (!Array.isArray(actions)) throw new OfpEncodeError(path, 'expected a list of actions');
  for (let i = 0; i < actions.length; i++) encodeAction(w, actions[i]!, `${path}[${i}]`);
}

/** Actions filling the rest of their container (instructions, buckets). */
export const actionList = wireType<Action[]>(
  (r) => decodeActions(r, r.remaining()),
  (w, actions, path) => encodeActions(w, actions, path),
);

/** Action ids in table-features properties (§7.3.5.5.2): type, len, then for experimenter ids the rest. */
export interface ActionId {
  type: number;
  /** bytes after the 4-byte header (the experimenter id and more, for OFPAT_EXPERIMENTER) */
  data?: Uint8Array;
}
