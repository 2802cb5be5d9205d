// Error message types and codes (OpenFlow 1.3.5 §7.4.4, enum ofp_error_type and the
// per-type code enums ofp_hello_failed_code ... ofp_table_features_failed_code), as
// numeric constants plus name tables, so a runtime can turn an 'error' message into a
// typed exception ("OFPET_METER_MOD_FAILED / OFPMMFC_BAD_BAND") and send
// OFPET_BAD_REQUEST or OFPET_HELLO_FAILED itself.

export const OFPET = {
  HELLO_FAILED: 0,
  BAD_REQUEST: 1,
  BAD_ACTION: 2,
  BAD_INSTRUCTION: 3,
  BAD_MATCH: 4,
  FLOW_MOD_FAILED: 5,
  GROUP_MOD_FAILED: 6,
  PORT_MOD_FAILED: 7,
  TABLE_MOD_FAILED: 8,
  QUEUE_OP_FAILED: 9,
  SWITCH_CONFIG_FAILED: 10,
  ROLE_REQUEST_FAILED: 11,
  METER_MOD_FAILED: 12,
  TABLE_FEATURES_FAILED: 13,
  EXPERIMENTER: 0xffff,
} as const;

export const OFPHFC = { INCOMPATIBLE: 0, EPERM: 1 } as const;
export const OFPBRC = {
  BAD_VERSION: 0,
  BAD_TYPE: 1,
  BAD_MULTIPART: 2,
  BAD_EXPERIMENTER: 3,
  BAD_EXP_TYPE: 4,
  EPERM: 5,
  BAD_LEN: 6,
  BUFFER_EMPTY: 7,
  BUFFER_UNKNOWN: 8,
  BAD_TABLE_ID: 9,
  IS_SLAVE: 10,
  BAD_PORT: 11,
  BAD_PACKET: 12,
  MULTIPART_BUFFER_OVERFLOW: 13,
} as const;
export const OFPBAC = {
  BAD_TYPE: 0,
  BAD_LEN: 1,
  BAD_EXPERIMENTER: 2,
  BAD_EXP_TYPE: 3,
  BAD_OUT_PORT: 4,
  BAD_ARGUMENT: 5,
  EPERM: 6,
  TOO_MANY: 7,
  BAD_QUEUE: 8,
  BAD_OUT_GROUP: 9,
  MATCH_INCONSISTENT: 10,
  UNSUPPORTED_ORDER: 11,
  BAD_TAG: 12,
  BAD_SET_TYPE: 13,
  BAD_SET_LEN: 14,
  BAD_SET_ARGUMENT: 15,
} as const;
export const OFPBIC = {
  UNKNOWN_INST: 0,
  UNSUP_INST: 1,
  BAD_TABLE_ID: 2,
  UNSUP_METADATA: 3,
  UNSUP_METADATA_MASK: 4,
  BAD_EXPERIMENTER: 5,
  BAD_EXP_TYPE: 6,
  BAD_LEN: 7,
  EPERM: 8,
} as const;
export const OFPBMC = {
  BAD_TYPE: 0,
  BAD_LEN: 1,
  BAD_TAG: 2,
  BAD_DL_ADDR_MASK: 3,
  BAD_NW_ADDR_MASK: 4,
  BAD_WILDCARDS: 5,
  BAD_FIELD: 6,
  BAD_VALUE: 7,
  BAD_MASK: 8,
  BAD_PREREQ: 9,
  DUP_FIELD: 10,
  EPERM: 11,
} as const;
export const OFPFMFC = {
  UNKNOWN: 0,
  TABLE_FULL: 1,
  BAD_TABLE_ID: 2,
  OVERLAP: 3,
  EPERM: 4,
  BAD_TIMEOUT: 5,
  BAD_COMMAND: 6,
  BAD_FLAGS: 7,
} as const;
export const OFPGMFC = {
  GROUP_EXISTS: 0,
  INVALID_GROUP: 1,
  WEIGHT_UNSUPPORTED: 2,
  OUT_OF_GROUPS: 3,
  OUT_OF_BUCKETS: 4,
  CHAINING_UNSUPPORTED: 5,
  WATCH_UNSUPPORTED: 6,
  LOOP: 7,
  UNKNOWN_GROUP: 8,
  CHAINED_GROUP: 9,
  BAD_TYPE: 10,
  BAD_COMMAND: 11,
  BAD_BUCKET: 12,
  BAD_WATCH: 13,
  EPERM: 14,
} as const;
export const OFPPMFC = { BAD_PORT: 0, BAD_HW_ADDR: 1, BAD_CONFIG: 2, BAD_ADVERTISE: 3, EPERM: 4 } as const;
export const OFPTMFC = { BAD_TABLE: 0, BAD_CONFIG: 1, EPERM: 2 } as const;
export const OFPQOFC = { BAD_PORT: 0, BAD_QUEUE: 1, EPERM: 2 } as const;
export const OFPSCFC = { BAD_FLAGS: 0, BAD_LEN: 1, EPERM: 2 } as const;
export const OFPRRFC = { STALE: 0, UNSUP: 1, BAD_ROLE: 2 } as const;
export const OFPMMFC = {
  UNKNOWN: 0,
  METER_EXISTS: 1,
  INVALID_METER: 2,
  UNKNOWN_METER: 3,
  BAD_COMMAND: 4,
  BAD_FLAGS: 5,
  BAD_RATE: 6,
  BAD_BURST: 7,
  BAD_BAND: 8,
  BAD_BAND_VALUE: 9,
  OUT_OF_METERS: 10,
  OUT_OF_BANDS: 11,
} as const;
export const OFPTFFC = { BAD_TABLE: 0, BAD_METADATA: 1, BAD_TYPE: 2, BAD_LEN: 3, BAD_ARGUMENT: 4, EPERM: 5 } as const;

/** error type → the prefix of its codes' names and the codes */
const CODE_TABLES: Record<number, { prefix: string; codes: Record<string, number> }> = {
  [OFPET.HELLO_FAILED]: { prefix: 'OFPHFC', codes: OFPHFC },
  [OFPET.BAD_REQUEST]: { prefix: 'OFPBRC', codes: OFPBRC },
  [OFPET.BAD_ACTION]: { prefix: 'OFPBAC', codes: OFPBAC },
  [OFPET.BAD_INSTRUCTION]: { prefix: 'OFPBIC', codes: OFPBIC },
  [OFPET.BAD_MATCH]: { prefix: 'OFPBMC', codes: OFPBMC },
  [OFPET.FLOW_MOD_FAILED]: { prefix: 'OFPFMFC', codes: OFPFMFC },
  [OFPET.GROUP_MOD_FAILED]: { prefix: 'OFPGMFC', codes: OFPGMFC },
  [OFPET.PORT_MOD_FAILED]: { prefix: 'OFPPMFC', codes: OFPPMFC },
  [OFPET.TABLE_MOD_FAILED]: { prefix: 'OFPTMFC', codes: OFPTMFC },
  [OFPET.QUEUE_OP_FAILED]: { prefix: 'OFPQOFC', codes: OFPQOFC },
  [OFPET.SWITCH_CONFIG_FAILED]: { prefix: 'OFPSCFC', codes: OFPSCFC },
  [OFPET.ROLE_REQUEST_FAILED]: { prefix: 'OFPRRFC', codes: OFPRRFC },
  [OFPET.METER_MOD_FAILED]: { prefix: 'OFPMMFC', codes: OFPMMFC },
  [OFPET.TABLE_FEATURES_FAILED]: { prefix: 'OFPTFFC', codes: OFPTFFC },
};

const TYPE_NAMES = new Map<number, string>(Object.entries(OFPET).map(([name, v]) => [v, `OFPET_${name}`]));
const CODE_NAMES = new Map<number, Map<number, string>>(
  Object.entries(CODE_TABLES).map(([type, t]) => [
    Number(type),
    new Map(Object.entries(t.codes).map(([name, code]) => [code, `${t.prefix}_${name}`])),
  ]),
);

/** `OFPET_BAD_MATCH` for 4; `OFPET_UNKNOWN_<n>` for a type outside the spec. */
export function errorTypeName(type: number): string {
  return TYPE_NAMES.get(type) ?? `OFPET_UNKNOWN_${type}`;
}

/** `OFPBMC_BAD_PREREQ` for (4, 9); `<type name>_CODE_<n>` for a code outside the spec. */
export function errorCodeName(type: number, code: number): string {
  return CODE_NAMES.get(type)?.get(code) ?? `${errorTypeName(type)}_CODE_${code}`;
}
