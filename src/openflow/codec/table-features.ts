// Table features (OpenFlow 1.3.5 §7.3.5.5: struct ofp_table_features and the
// ofp_table_feature_prop_* properties of enum ofp_table_feature_prop_type), used by the
// table-features multipart request and reply. Each property is type, length, body,
// zero-padded to a multiple of 8 (the length excludes the padding). Instruction and
// action ids are kept as type plus raw trailing bytes; OXM ids use the field names of
// oxm.ts; experimenter and unknown properties stay raw.
import { OfpEncodeError, Reader, Writer, checkBytes, checkUint, show } from './buffer.js';
import { OFPTFPT } from './constants.js';
import { list, ownLength, pad, str, struct, u32, u64, u8, wireType } from './layout.js';
import { decodeOxmId, encodeOxmId, type OxmId } from './oxm.js';

export const OFP_MAX_TABLE_NAME_LEN = 32;

/** An instruction or action id: its type and, for experimenter ids, the bytes after type/len. */
export interface TlvId {
  type: number;
  data?: Uint8Array;
}

export type TableFeatureProperty =
  | { type: 'instructions' | 'instructions_miss'; instructionIds: TlvId[] }
  | { type: 'next_tables' | 'next_tables_miss'; tableIds: number[] }
  | {
      type: 'write_actions' | 'write_actions_miss' | 'apply_actions' | 'apply_actions_miss';
      actionIds: TlvId[];
    }
  | {
      type: 'match' | 'wildcards' | 'write_setfield' | 'write_setfield_miss' | 'apply_setfield' | 'apply_setfield_miss';
      oxmIds: OxmId[];
    }
  | { type: 'experimenter' | 'experimenter_miss'; experimenter: number; expType: number; data: Uint8Array }
  /** a property type outside the spec: `data` follows the 4-byte header, without padding */
  | { type: 'unknown'; propertyType: number; data: Uint8Array };

export type TableFeaturePropertyName = Exclude<TableFeatureProperty['type'], 'unknown'>;

export interface TableFeatures {
  tableId: number;
  name: string;
  metadataMatch: bigint;
  metadataWrite: bigint;
  config: number;
  maxEntries: number;
  properties: TableFeatureProperty[];
}

type PropKind = 'instructions' | 'tables' | 'actions' | 'oxms' | 'experimenter';

/** enum ofp_table_feature_prop_type → property name and body layout. */
const PROPERTY_TABLE: Record<number, { name: TableFeaturePropertyName; kind: PropKind }> = {
  [OFPTFPT.INSTRUCTIONS]: { name: 'instructions', kind: 'instructions' },
  [OFPTFPT.INSTRUCTIONS_MISS]: { name: 'instructions_miss', kind: 'instructions' },
  [OFPTFPT.NEXT_TABLES]: { name: 'next_tables', kind: 'tables' },
  [OFPTFPT.NEXT_TABLES_MISS]: { name: 'next_tables_miss', kind: 'tables' },
  [OFPTFPT.WRITE_ACTIONS]: { name: 'write_actions', kind: 'actions' },
  [OFPTFPT.WRITE_ACTIONS_MISS]: { name: 'write_actions_miss', kind: 'actions' },
  [OFPTFPT.APPLY_ACTIONS]: { name: 'apply_actions', kind: 'actions' },
  [OFPTFPT.APPLY_ACTIONS_MISS]: { name: 'apply_actions_miss', kind: 'actions' },
  [OFPTFPT.MATCH]: { name: 'match', kind: 'oxms' },
  [OFPTFPT.WILDCARDS]: { name: 'wildcards', kind: 'oxms' },
  [OFPTFPT.WRITE_SETFIELD]: { name: 'write_setfield', kind: 'oxms' },
  [OFPTFPT.WRITE_SETFIELD_MISS]: { name: 'write_setfield_miss', kind: 'oxms' },
  [OFPTFPT.APPLY_SETFIELD]: { name: 'apply_setfield', kind: 'oxms' },
  [OFPTFPT.APPLY_SETFIELD_MISS]: { name: 'apply_setfield_miss', kind: 'oxms' },
  [OFPTFPT.EXPERIMENTER]: { name: 'experimenter', kind: 'experimenter' },
  [OFPTFPT.EXPERIMENTER_MISS]: { name: 'experimenter_miss', kind: 'experimenter' },
};

const PROPERTY_CODES = new Map<string, number>(
  Object.entries(PROPERTY_TABLE).map(([code, p]) => [p.name, Number(code)]),
);

function decodeTlvIds(r: Reader): TlvId[] {
  const ids: TlvId[] = [];
  while (r.pos < r.end) {
    const start = r.pos;
    const type = r.u16();
    const len = r.u16();
    if (len < 4) r.fail(`id length ${len} < 4`, start + 2);
    r.pos = start;
    ids.push(
      r.within(len, 'id', () => {
        r.pos += 4;
        return len > 4 ? { type, data: r.rest() } : { type };
      }),
    );
  }
  return ids;
}

function decodeProperty(r: Reader): TableFeatureProperty {
  const start = r.pos;
  r.need(4, 'table feature property header');
  const type = r.u16();
  const length = r.u16();
  if (length < 4) r.fail(`table feature property length ${length} < 4`, start + 2);
  r.pos = start;
  const prop = r.within(length, 'table feature property', (): TableFeatureProperty => {
    r.pos += 4;
    const entry = PROPERTY_TABLE[type];
    if (!entry) return { type: 'unknown', propertyType: type, data: r.rest() };
    switch (entry.kind) {
      case 'instructions':
        return { type: entry.name, instructionIds: decodeTlvIds(r) } as TableFeatureProperty;
      case 'actions':
        return { type: entry.name, actionIds: decodeTlvIds(r) } as TableFeatureProperty;
      case 'tables': {
        const tableIds: number[] = [];
        while (r.pos < r.end) tableIds.push(r.u8());
        return { type: entry.name, tableIds } as TableFeatureProperty;
      }
      case 'oxms': {
        const oxmIds: OxmId[] = [];
        while (r.pos < r.end) oxmIds.push(decodeOxmId(r));
        return { type: entry.name, oxmIds } as TableFeatureProperty;
      }
      case 'experimenter': {
        const experimenter = r.u32();
        const expType = r.u32();
        return { type: entry.name, experimenter, expType, data: r.rest() } as TableFeatureProperty;
      }
    }
  });
  // Padding to 8 follows the property; tolerate a last property that omits it.
  const padded = Math.min(((length + 7) & ~7) - length, r.end - r.pos);
  r.skip(padded);
  return prop;
}

function encodeTlvIds(w: Writer, ids: readonly TlvId[], path: string): void {
  if (!Array.isArray(ids)) throw new OfpEncodeError(path, 'expected a list of ids');
  ids.forEach((id, i) => {
    if (id === null || typeof id !== 'object') throw new OfpEncodeError(`${path}[${i}]`, 'expected an id object');
    const data = id.data ? checkBytes(id.data, `${path}[${i}].data`) : undefined;
    w.u16(checkUint(id.type, 16, `${path}[${i}].type`));
    w.u16(4 + (data?.length ?? 0));
    if (data) w.bytes(data);
  });
}

function encodeProperty(w: Writer, p: TableFeatureProperty, path: string): void {
  if (p === null || typeof p !== 'object') throw new OfpEncodeError(path, 'expected a property object');
  const start = w.pos;
  const code = p.type === 'unknown' ? checkUint(p.propertyType, 16, path, 'propertyType') : PROPERTY_CODES.get(p.type);
  if (code === undefined) throw new OfpEncodeError(path, `unknown table feature property ${show(p.type)}`);
  w.u16(code);
  w.u16(0);
  switch (p.type) {
    case 'instructions':
    case 'instructions_miss':
      encodeTlvIds(w, p.instructionIds, `${path}.instructionIds`);
      break;
    case 'write_actions':
    case 'write_actions_miss':
    case 'apply_actions':
    case 'apply_actions_miss':
      encodeTlvIds(w, p.actionIds, `${path}.actionIds`);
      break;
    case 'next_tables':
    case 'next_tables_miss':
      if (!Array.isArray(p.tableIds)) throw new OfpEncodeError(`${path}.tableIds`, 'expected a list');
      p.tableIds.forEach((t, i) => w.u8(checkUint(t, 8, `${path}.tableIds[${i}]`)));
      break;
    case 'match':
    case 'wildcards':
    case 'write_setfield':
    case 'write_setfield_miss':
    case 'apply_setfield':
    case 'apply_setfield_miss':
      if (!Array.isArray(p.oxmIds)) throw new OfpEncodeError(`${path}.oxmIds`, 'expected a list');
      p.oxmIds.forEach((id, i) => encodeOxmId(w, id, `${path}.oxmIds[${i}]`));
      break;
    case 'experimenter':
    case 'experimenter_miss':
      w.u32(checkUint(p.experimenter, 32, path, 'experimenter'));
      w.u32(checkUint(p.expType, 32, path, 'expType'));
      w.bytes(checkBytes(p.data, path, 'data'));
      break;
    case 'unknown':
      w.bytes(checkBytes(p.data, path, 'data'));
      break;
  }
  const length = w.pos - start;
  if (length > 0xffff) throw new OfpEncodeError(path, 'property too long');
  w.patch16(start + 2, length);
  w.pad8(start);
}

const tableFeatureProperty = wireType<TableFeatureProperty>(decodeProperty, encodeProperty);

/** struct ofp_table_features (§7.3.5.5.1): 64 fixed bytes, then the properties. */
export const TABLE_FEATURES = struct<TableFeatures>('table features', [
  ownLength,
  ['tableId', u8],
  pad(5),
  ['name', str(OFP_MAX_TABLE_NAME_LEN)],
  ['metadataMatch', u64],
  ['metadataWrite', u64],
  ['config', u32],
  ['maxEntries', u32],
  ['properties', list(tableFeatureProperty)],
]);
