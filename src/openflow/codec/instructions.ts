// Instructions (OpenFlow 1.3.5 §7.2.4, enum ofp_instruction_type and the
// ofp_instruction_* structs): goto-table, write-metadata, write/apply/clear-actions,
// meter, experimenter. A table maps each OFPIT_* code to its decoder; unknown types are
// kept raw and encoded back unchanged.
import { OfpEncodeError, Reader, Writer, checkBytes, checkUint, checkUint64, show } from './buffer.js';
import { OFPIT } from './constants.js';
import { decodeActions, encodeActions, type Action } from './actions.js';
import { wireType } from './layout.js';

export type Instruction =
  | { type: 'goto_table'; tableId: number }
  | { type: 'write_metadata'; metadata: bigint; metadataMask: bigint }
  | { type: 'write_actions'; actions: Action[] }
  | { type: 'apply_actions'; actions: Action[] }
  | { type: 'clear_actions' }
  | { type: 'meter'; meterId: number }
  | { type: 'experimenter'; experimenter: number; data: Uint8Array }
  /** an instruction type outside the spec: `data` follows the 4-byte type/len header */
  | { type: 'unknown'; instructionType: number; data: Uint8Array };

type InstructionDecoder = (r: Reader) => Instruction;

const INSTRUCTION_DECODERS: Record<number, InstructionDecoder> = {
  [OFPIT.GOTO_TABLE]: (r) => ({ type: 'goto_table', tableId: r.u8() }),
  [OFPIT.WRITE_METADATA]: (r) => {
    r.skip(4);
    const metadata = r.u64();
    const metadataMask = r.u64();
    return { type: 'write_metadata', metadata, metadataMask };
  },
  [OFPIT.WRITE_ACTIONS]: (r) => {
    r.skip(4);
    return { type: 'write_actions', actions: decodeActions(r, r.remaining()) };
  },
  [OFPIT.APPLY_ACTIONS]: (r) => {
    r.skip(4);
    return { type: 'apply_actions', actions: decodeActions(r, r.remaining()) };
  },
  [OFPIT.CLEAR_ACTIONS]: () => ({ type: 'clear_actions' }),
  [OFPIT.METER]: (r) => ({ type: 'meter', meterId: r.u32() }),
  [OFPIT.EXPERIMENTER]: (r) => {
    const experimenter = r.u32();
    return { type: 'experimenter', experimenter, data: r.rest() };
  },
};

export function decodeInstruction(r: Reader): Instruction {
  const start = r.pos;
  r.need(4, 'instruction header');
  const type = r.u16();
  const len = r.u16();
  if (len < 4) r.fail(`instruction length ${len} < 4`, start + 2);
  r.pos = start;
  const outer = r.enter(len, 'instruction');
  r.pos += 4;
  const decoder = INSTRUCTION_DECODERS[type];
  const ins: Instruction = decoder ? decoder(r) : { type: 'unknown', instructionType: type, data: r.rest() };
  r.leave(outer);
  return ins;
}

/** Instructions fill the rest of their container (flow-mod, flow stats). */
export function decodeInstructions(r: Reader): Instruction[] {
  const out: Instruction[] = [];
  while (r.pos < r.end) out.push(decodeInstruction(r));
  return out;
}

export function encodeInstruction(w: Writer, ins: Instruction, path: string): void {
  if (ins === null || typeof ins !== 'object') throw new OfpEncodeError(path, 'expected an instruction object');
  const start = w.pos;
  switch (ins.type) {
    case 'goto_table':
      w.u16(OFPIT.GOTO_TABLE);
      w.u16(8);
      w.u8(checkUint(ins.tableId, 8, path, 'tableId'));
      w.zeros(3);
      return;
    case 'write_metadata':
      w.u16(OFPIT.WRITE_METADATA);
      w.u16(24);
      w.zeros(4);
      w.u64(checkUint64(ins.metadata, path, 'metadata'));
      w.u64(checkUint64(ins.metadataMask, path, 'metadataMask'));
      return;
    case 'write_actions':
    case 'apply_actions':
      w.u16(ins.type === 'write_actions' ? OFPIT.WRITE_ACTIONS : OFPIT.APPLY_ACTIONS);
      w.u16(0);
      w.zeros(4);
      encodeActions(w, ins.actions, `${path}.actions`);
      lengthAt(w, start, path);
      return;
    case 'clear_actions':
      w.u16(OFPIT.CLEAR_ACTIONS);
      w.u16(8);
      w.zeros(4);
      return;
    case 'meter':
      w.u16(OFPIT.METER);
      w.u16(8);
      w.u32(checkUint(ins.meterId, 32, path, 'meterId'));
      return;
    case 'experimenter':
      w.u16(OFPIT.EXPERIMENTER);
      w.u16(0);
      w.u32(checkUint(ins.experimenter, 32, path, 'experimenter'));
      w.bytes(checkBytes(ins.data, path, 'data'));
      lengthAt(w, start, path);
      return;
    case 'unknown':
      w.u16(checkUint(ins.instructionType, 16, path, 'instructionType'));
      w.u16(0);
      w.bytes(checkBytes(ins.data, path, 'data'));
      lengthAt(w, start, path);
      return;
    default:
      throw new OfpEncodeError(path, `unknown instruction type ${show((ins as { type: unknown }).type)}`);
  }
}

function lengthAt(w: Writer, start: number, path: string): void {
  const len = w.pos - start;
  if (len > 0xffff) throw new OfpEncodeError(path, `instruction of ${len} bytes exceeds 65535`);
  w.patch16(start + 2, len);
}

export function encodeInstructions(w: Writer, list: readonly Instruction[], path: string): void {
  if (!Array.isArray(list)) throw new OfpEncodeError(path, 'expected a list of instructions');
  for (let i = 0; i < list.length; i++) encodeInstruction(w, list[i]!, `${path}[${i}]`);
}

/** Instructions filling the rest of their container (flow-mod, flow stats). */
export const instructionList = wireType<Instruction[]>(decodeInstructions, (w, list, path) => encodeInstructions(w, list, path));
