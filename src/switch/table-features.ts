// What the switch's flow tables can do, as the table-features multipart reply describes it
// (OpenFlow Switch Specification 1.3.5 §7.3.5.5): the instructions, actions, match fields
// (with maskability), set-field targets and next tables of every table. Controllers such as
// ovs-ofctl read this before they send a flow-mod.
import { OFPAT, OFPIT, type TableFeatures } from '../openflow/codec/index.js';
import { matchableFields } from './fields.js';
import { N_TABLES } from './pipeline.js';

const SET_FIELDS = [
  { field: 'ip_dscp', hasMask: false, length: 1 },
  { field: 'ip_ecn', hasMask: false, length: 1 },
  { field: 'eth_dst', hasMask: false, length: 6 },
  { field: 'eth_src', hasMask: false, length: 6 },
] as const;

export function tableFeatures(): TableFeatures[] {
  const instructionIds = [OFPIT.GOTO_TABLE, OFPIT.WRITE_METADATA, OFPIT.WRITE_ACTIONS, OFPIT.APPLY_ACTIONS, OFPIT.CLEAR_ACTIONS, OFPIT.METER].map((type) => ({ type }));
  const actionIds = [OFPAT.OUTPUT, OFPAT.SET_QUEUE, OFPAT.SET_FIELD].map((type) => ({ type }));
  const fields = matchableFields();
  const match = fields.map((f) => ({ field: f.field, hasMask: f.maskable, length: f.maskable ? 2 * f.size : f.size }));
  const wildcards = fields.map((f) => ({ field: f.field, hasMask: false, length: f.size }));
  const setFields = SET_FIELDS.map((f) => ({ ...f }));
  return Array.from({ length: N_TABLES }, (_, tableId): TableFeatures => {
    const next = Array.from({ length: N_TABLES - tableId - 1 }, (_, i) => tableId + 1 + i);
    return {
      tableId,
      name: `table${tableId}`,
      metadataMatch: 0xffffffffffffffffn,
      metadataWrite: 0xffffffffffffffffn,
      config: 0,
      maxEntries: 1_000_000,
      properties: [
        { type: 'instructions', instructionIds },
        { type: 'next_tables', tableIds: next },
        { type: 'write_actions', actionIds },
        { type: 'apply_actions', actionIds },
        { type: 'match', oxmIds: match },
        { type: 'wildcards', oxmIds: wildcards },
        { type: 'write_setfield', oxmIds: setFields },
        { type: 'apply_setfield', oxmIds: setFields },
      ],
    };
  });
}
