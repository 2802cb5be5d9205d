// Byte round-trips for every message and multipart body type, every OXM field with and
// without mask, the prerequisite checks, unknown and experimenter TLVs kept byte for byte,
// the error-name tables and the builders.
import { describe, expect, test } from 'vitest';
import {
  MESSAGE_TABLE,
  MULTIPART_TABLE,
  OFPET,
  OFPMMFC,
  OXM_FIELD_NAMES,
  OfpEncodeError,
  applyActions,
  decodeMessage,
  dropBand,
  encodeMessage,
  errorCodeName,
  errorTypeName,
  flowMod,
  flowStatsRequest,
  ipv4Mask,
  ipv6Mask,
  meterConfigRequest,
  meterInstruction,
  meterMod,
  output,
  readHeader,
  setField,
  toJsonSafe,
  writeActions,
  type FlowStats,
  type MultipartReplyBody,
  type MultipartRequestBody,
  type OfpMessage,
  type Oxm,
  type Port,
  type TableFeatures,
} from '../../../src/openflow/codec/index.js';
import { formatIpv6, parseIpv6Into } from '../../../src/util/addresses.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

/** encode → decode gives the same value, and encoding that again gives the same bytes. */
function roundTrip(msg: OfpMessage, options = { checkPrerequisites: true }): Uint8Array {
  const encoded = encodeMessage(msg, options);
  const decoded = decodeMessage(encoded);
  if (!decoded.ok) throw new Error(`decode failed: ${JSON.stringify(decoded.error)}`);
  expect(decoded.message).toEqual(msg);
  expect(hex(encodeMessage(decoded.message, options))).toBe(hex(encoded));
  expect(readHeader(encoded)).toEqual({ version: 4, type: readHeader(encoded)!.type, length: encoded.length, xid: msg.xid });
  return encoded;
}

const port: Port = {
  portNo: 3,
  hwAddr: '02:00:00:00:00:03',
  name: 'eth3',
  config: 0,
  state: 4,
  curr: 0x2008,
  advertised: 0,
  supported: 0,
  peer: 0,
  currSpeed: 10_000_000,
  maxSpeed: 10_000_000,
};

const ipv6Match: Oxm[] = [
  { field: 'in_port', value: 1 },
  { field: 'eth_type', value: 0x86dd },
  { field: 'ipv6_src', value: '2001:db8::1' },
  { field: 'ipv6_dst', value: '2001:db8::', mask: 'ffff:ffff:ffff:ffff::' },
  { field: 'ipv6_flabel', value: 0x12345, mask: 0xfffff },
  { field: 'ip_dscp', value: 46 },
  { field: 'ip_proto', value: 17 },
  { field: 'udp_dst', value: 5001 },
];

const flowStats: FlowStats = {
  tableId: 0,
  durationSec: 12,
  durationNsec: 5,
  priority: 100,
  idleTimeout: 0,
  hardTimeout: 0,
  flags: 1,
  cookie: 0xdeadbeefn,
  packetCount: 2n ** 40n,
  byteCount: 2n ** 60n + 1n,
  match: ipv6Match,
  instructions: [meterInstruction(7), applyActions(setField({ field: 'ip_dscp', value: 0 }), output(2))],
};

const tableFeatures: TableFeatures = {
  tableId: 0,
  name: 'classifier',
  metadataMatch: 0xffffffffffffffffn,
  metadataWrite: 0n,
  config: 3,
  maxEntries: 1_000_000,
  properties: [
    { type: 'instructions', instructionIds: [{ type: 1 }, { type: 6 }, { type: 0xffff, data: bytes('00002320') }] },
    { type: 'instructions_miss', instructionIds: [{ type: 4 }] },
    { type: 'next_tables', tableIds: [1, 2, 3] },
    { type: 'next_tables_miss', tableIds: [] },
    { type: 'write_actions', actionIds: [{ type: 0 }] },
    { type: 'write_actions_miss', actionIds: [{ type: 22 }] },
    { type: 'apply_actions', actionIds: [{ type: 25 }, { type: 0xffff, data: bytes('00002320') }] },
    { type: 'apply_actions_miss', actionIds: [] },
    { type: 'match', oxmIds: [{ field: 'ipv6_flabel', hasMask: true, length: 8 }, { field: 'ip_dscp', hasMask: false, length: 1 }] },
    { type: 'wildcards', oxmIds: [{ field: 'ipv4_src', hasMask: false, length: 4 }] },
    { type: 'write_setfield', oxmIds: [{ field: 'unknown', oxmClass: 1, oxmField: 33, hasMask: false, length: 4 }] },
    { type: 'write_setfield_miss', oxmIds: [] },
    { type: 'apply_setfield', oxmIds: [{ field: 'unknown', oxmClass: 0xffff, oxmField: 3, hasMask: false, length: 8, experimenter: 0x4f4e4600 }] },
    { type: 'apply_setfield_miss', oxmIds: [{ field: 'tunnel_id', hasMask: true, length: 16 }] },
    { type: 'experimenter', experimenter: 0x2320, expType: 9, data: bytes('0102') },
    { type: 'experimenter_miss', experimenter: 0x2320, expType: 10, data: new Uint8Array(0) },
    { type: 'unknown', propertyType: 0x0100, data: bytes('aabbcc') },
  ],
};

/** One request body per multipart type. */
const requestBodies: MultipartRequestBody[] = [
  { bodyType: 'desc' },
  { ...flowStatsRequest({ tableId: 0, match: ipv6Match, cookie: 5n, cookieMask: 0xffn }).body } as MultipartRequestBody,
  { ...(flowStatsRequest().body as object), bodyType: 'aggregate' } as MultipartRequestBody,
  { bodyType: 'table' },
  { bodyType: 'port_stats', portNo: 0xffffffff },
  { bodyType: 'queue', portNo: 1, queueId: 0xffffffff },
  { bodyType: 'group', groupId: 0xfffffffc },
  { bodyType: 'group_desc' },
  { bodyType: 'group_features' },
  { bodyType: 'meter', meterId: 0xffffffff },
  { bodyType: 'meter_config', meterId: 3 },
  { bodyType: 'meter_features' },
  { bodyType: 'table_features', tables: [] },
  { bodyType: 'table_features', tables: [tableFeatures] },
  { bodyType: 'port_desc' },
  { bodyType: 'experimenter', experimenter: 0x2320, expType: 1, data: bytes('0102030405') },
];

/** One reply body per multipart type. */
const replyBodies: MultipartReplyBody[] = [
  { bodyType: 'desc', mfrDesc: 'Nicira, Inc.', hwDesc: 'Open vSwitch', swDesc: '3.1.0', serialNum: 'None', dpDesc: 's1 — ünïcode' },
  { bodyType: 'flow', stats: [flowStats, { ...flowStats, match: [], instructions: [] }] },
  { bodyType: 'flow', stats: [] },
  { bodyType: 'aggregate', packetCount: 10n, byteCount: 1000n, flowCount: 3 },
  { bodyType: 'table', stats: [{ tableId: 0, activeCount: 3, lookupCount: 100n, matchedCount: 90n }] },
  {
    bodyType: 'port_stats',
    stats: [
      {
        portNo: 1,
        rxPackets: 1n,
        txPackets: 2n,
        rxBytes: 3n,
        txBytes: 4n,
        rxDropped: 5n,
        txDropped: 6n,
        rxErrors: 7n,
        txErrors: 8n,
        rxFrameErr: 9n,
        rxOverErr: 10n,
        rxCrcErr: 11n,
        collisions: 12n,
        durationSec: 13,
        durationNsec: 14,
      },
    ],
  },
  { bodyType: 'queue', stats: [{ portNo: 1, queueId: 2, txBytes: 3n, txPackets: 4n, txErrors: 5n, durationSec: 6, durationNsec: 7 }] },
  {
    bodyType: 'group',
    stats: [
      {
        groupId: 1,
        refCount: 2,
        packetCount: 3n,
        byteCount: 4n,
        durationSec: 5,
        durationNsec: 6,
        bucketStats: [{ packetCount: 7n, byteCount: 8n }],
      },
    ],
  },
  {
    bodyType: 'group_desc',
    groups: [{ groupType: 1, groupId: 9, buckets: [{ weight: 2, watchPort: 0xffffffff, watchGroup: 0xffffffff, actions: [output(1)] }] }],
  },
  { bodyType: 'group_features', types: 15, capabilities: 5, maxGroups: [1, 2, 3, 4], actions: [5, 6, 7, 8] },
  {
    bodyType: 'meter',
    stats: [
      {
        meterId: 1,
        flowCount: 2,
        packetInCount: 3n,
        byteInCount: 4n,
        durationSec: 5,
        durationNsec: 6,
        bandStats: [{ packetBandCount: 7n, byteBandCount: 8n }],
      },
    ],
  },
  { bodyType: 'meter_config', meters: [{ flags: 9, meterId: 1, bands: [dropBand(10_000, 400)] }] },
  { bodyType: 'meter_features', maxMeter: 100, bandTypes: 2, capabilities: 15, maxBands: 1, maxColor: 0 },
  { bodyType: 'table_features', tables: [tableFeatures] },
  { bodyType: 'port_desc', ports: [port, { ...port, portNo: 0xfffffffe, name: 'br0' }] },
  { bodyType: 'experimenter', experimenter: 0x2320, expType: 2, data: new Uint8Array(0) },
];

/** One sample per message type (the multipart ones come from the body lists above). */
const samples: OfpMessage[] = [
  { type: 'hello', xid: 1, versions: [4] },
  { type: 'hello', xid: 2, versions: [1, 4, 5, 6, 40] },
  { type: 'hello', xid: 3 },
  { type: 'hello', xid: 4, versions: [4], unknownElements: [{ elementType: 7, data: bytes('0102') }] },
  { type: 'error', xid: 5, errorType: OFPET.METER_MOD_FAILED, code: OFPMMFC.BAD_BAND, data: bytes('0401001000000001') },
  { type: 'error', xid: 6, errorType: OFPET.EXPERIMENTER, code: 7, experimenter: 0x2320, data: bytes('ff') },
  { type: 'echo_request', xid: 7, data: bytes('00010203') },
  { type: 'echo_reply', xid: 8, data: new Uint8Array(0) },
  { type: 'experimenter', xid: 9, experimenter: 0x2320, expType: 11, data: bytes('abcdef') },
  { type: 'features_request', xid: 10 },
  { type: 'features_reply', xid: 11, datapathId: 0x0000_0242_ac11_0002n, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0x4f, reserved: 0 },
  { type: 'get_config_request', xid: 12 },
  { type: 'get_config_reply', xid: 13, flags: 0, missSendLen: 0xffff },
  { type: 'set_config', xid: 14, flags: 1, missSendLen: 128 },
  {
    type: 'packet_in',
    xid: 15,
    bufferId: 0xffffffff,
    totalLen: 60,
    reason: 0,
    tableId: 0,
    cookie: 0xffffffffffffffffn,
    match: [{ field: 'in_port', value: 2 }],
    data: new Uint8Array(60).fill(7),
  },
  {
    type: 'flow_removed',
    xid: 16,
    cookie: 1n,
    priority: 10,
    reason: 2,
    tableId: 1,
    durationSec: 3,
    durationNsec: 4,
    idleTimeout: 5,
    hardTimeout: 6,
    packetCount: 7n,
    byteCount: 8n,
    match: ipv6Match,
  },
  { type: 'port_status', xid: 17, reason: 2, desc: port },
  { type: 'packet_out', xid: 18, bufferId: 0xffffffff, inPort: 0xfffffffd, actions: [output(1), output(0xfffffffb)], data: bytes('ffffffffffff0200000000010800') },
  flowMod({
    xid: 19,
    priority: 200,
    match: ipv6Match,
    instructions: [meterInstruction(1), applyActions(setField({ field: 'ip_dscp', value: 10 }), output(2)), { type: 'goto_table', tableId: 1 }],
  }),
  flowMod({ xid: 20, command: 3, match: [], instructions: [] }),
  {
    type: 'group_mod',
    xid: 21,
    command: 0,
    groupType: 1,
    groupId: 5,
    buckets: [
      { weight: 1, watchPort: 1, watchGroup: 0xffffffff, actions: [output(1)] },
      { weight: 3, watchPort: 2, watchGroup: 0xffffffff, actions: [{ type: 'push_vlan', ethertype: 0x8100 }, output(2)] },
    ],
  },
  { type: 'port_mod', xid: 22, portNo: 1, hwAddr: 'aa:bb:cc:dd:ee:ff', config: 1, mask: 1, advertise: 0 },
  { type: 'table_mod', xid: 23, tableId: 0xff, config: 3 },
  meterMod({ xid: 24, meterId: 1, bands: [dropBand(10_000, 400)] }),
  { type: 'meter_mod', xid: 25, command: 2, flags: 0, meterId: 2, bands: [] },
  { type: 'barrier_request', xid: 26 },
  { type: 'barrier_reply', xid: 27 },
  { type: 'queue_get_config_request', xid: 28, port: 0xffffffff },
  {
    type: 'queue_get_config_reply',
    xid: 29,
    port: 1,
    queues: [
      {
        queueId: 1,
        port: 1,
        properties: [
          { type: 'min_rate', rate: 100 },
          { type: 'max_rate', rate: 1000 },
          { type: 'experimenter', experimenter: 1, data: bytes('00000000') },
          { type: 'unknown', propertyType: 9, data: bytes('0102030405060708') },
        ],
      },
    ],
  },
  { type: 'role_request', xid: 30, role: 2, generationId: 0xfedcba9876543210n },
  { type: 'role_reply', xid: 31, role: 3, generationId: 0n },
  { type: 'get_async_request', xid: 32 },
  { type: 'get_async_reply', xid: 33, packetInMask: [3, 1], portStatusMask: [7, 7], flowRemovedMask: [15, 0] },
  { type: 'set_async', xid: 34, packetInMask: [0, 0], portStatusMask: [0, 0], flowRemovedMask: [0xffffffff, 0] },
  ...requestBodies.map((body, i): OfpMessage => ({ type: 'multipart_request', xid: 100 + i, flags: i === 0 ? 1 : 0, body })),
  ...replyBodies.map((body, i): OfpMessage => ({ type: 'multipart_reply', xid: 200 + i, flags: i === 1 ? 1 : 0, body })),
];

describe('round-trips per message type', () => {
  test('the samples cover every message type and multipart body type', () => {
    const messageNames = new Set(samples.map((m) => m.type));
    expect([...messageNames].sort()).toEqual(Object.values(MESSAGE_TABLE).map((c) => c.name).sort());
    const bodyNames = Object.values(MULTIPART_TABLE).map((c) => c.name).sort();
    expect([...new Set(requestBodies.map((b) => b.bodyType))].sort()).toEqual(bodyNames);
    expect([...new Set(replyBodies.map((b) => b.bodyType))].sort()).toEqual(bodyNames);
  });

  test.each(samples.map((m) => [`${m.type} ${'body' in m ? m.body.bodyType : ''} xid ${m.xid}`, m] as const))('%s', (_n, msg) => {
    roundTrip(msg);
  });

  test('exact bytes of a flow-mod that meters and re-marks an IPv6 flow', () => {
    const msg = flowMod({
      xid: 0x01020304,
      priority: 0x1234,
      match: [
        { field: 'eth_type', value: 0x86dd },
        { field: 'ipv6_flabel', value: 0x12345, mask: 0xfffff },
        { field: 'ip_dscp', value: 46 },
      ],
      instructions: [meterInstruction(9), applyActions(setField({ field: 'ip_dscp', value: 0 }), output(2))],
    });
    expect(hex(encodeMessage(msg))).toBe(
      [
        '040e 0080 01020304', // header: version, OFPT_FLOW_MOD, length 128, xid
        '0000000000000000 0000000000000000', // cookie, cookie mask
        '00 00 0000 0000 1234 ffffffff ffffffff ffffffff 0000 0000', // table, command, timeouts, priority, buffer, out port/group, flags, pad
        '0001 001b', // match: OFPMT_OXM, length 27
        '80000a02 86dd', // eth_type
        '80003908 00012345 000fffff', // ipv6_flabel with mask (field 28, hasmask)
        '80001001 2e', // ip_dscp 46
        '0000000000', // padding to 32
        '0006 0008 00000009', // meter instruction
        '0004 0028 00000000', // apply-actions, length 40
        '0019 0010 80001001 00 00000000000000', // set_field ip_dscp 0, padded
        '0000 0010 00000002 ffff 000000000000', // output port 2, no buffer
      ]
        .join('')
        .replace(/\s+/g, ''),
    );
  });

  test('exact bytes of a select group-mod with weighted buckets (§7.3.4.2), and back', () => {
    const msg: OfpMessage = {
      type: 'group_mod',
      xid: 7,
      command: 0,
      groupType: 1,
      groupId: 0x10,
      buckets: [
        { weight: 3, watchPort: 0xffffffff, watchGroup: 0xffffffff, actions: [output(2)] },
        { weight: 1, watchPort: 0xffffffff, watchGroup: 0xffffffff, actions: [{ type: 'push_vlan', ethertype: 0x88a8 }, setField({ field: 'ipv4_dst', value: '10.0.0.9' }), output(3)] },
      ],
    };
    const expected = [
      '040f 0068 00000007', // header: OFPT_GROUP_MOD, length 104
      '0000 01 00 00000010', // command add, type select, pad, group id
      '0020 0003 ffffffff ffffffff 00000000', // bucket: length 32, weight 3, watch port/group, pad
      '0000 0010 00000002 ffff 000000000000', // output 2
      '0038 0001 ffffffff ffffffff 00000000', // bucket: length 56, weight 1
      '0011 0008 88a8 0000', // push_vlan 0x88a8
      '0019 0010 80001804 0a000009 00000000', // set_field ipv4_dst 10.0.0.9, padded
      '0000 0010 00000003 ffff 000000000000', // output 3
    ].join('').replace(/\s+/g, '');
    expect(hex(encodeMessage(msg, { checkPrerequisites: false }))).toBe(expected);
    const decoded = decodeMessage(bytes(expected));
    expect(decoded.ok && decoded.message).toEqual(msg);
  });

  test('exact bytes of a group stats reply (§7.3.5.9), and back', () => {
    const msg: OfpMessage = {
      type: 'multipart_reply',
      xid: 9,
      flags: 0,
      body: { bodyType: 'group', stats: [{ groupId: 2, refCount: 1, packetCount: 5n, byteCount: 300n, durationSec: 4, durationNsec: 5, bucketStats: [{ packetCount: 5n, byteCount: 300n }] }] },
    };
    const expected = [
      '0413 0048 00000009', // header: OFPT_MULTIPART_REPLY, length 72
      '0006 0000 00000000', // OFPMP_GROUP, flags, pad
      '0038 0000 00000002 00000001 00000000', // length 56, pad, group id, ref count, pad
      '0000000000000005 000000000000012c 00000004 00000005', // packets, bytes, duration
      '0000000000000005 000000000000012c', // bucket counter
    ].join('').replace(/\s+/g, '');
    expect(hex(encodeMessage(msg))).toBe(expected);
    const decoded = decodeMessage(bytes(expected));
    expect(decoded.ok && decoded.message).toEqual(msg);
  });
});

describe('OXM fields', () => {
  const sampleValue = (name: string): { value: unknown; mask?: unknown } => {
    if (/^(eth|arp)_(src|dst|sha|tha)$|^ipv6_nd_(sll|tll)$/.test(name)) return { value: '02:00:00:00:00:01', mask: 'ff:ff:ff:00:00:00' };
    if (/^ipv6_(src|dst|nd_target)$/.test(name)) return { value: 'fe80::1', mask: 'ffff:ffff::' };
    if (/ipv4|arp_spa|arp_tpa/.test(name)) return { value: '10.0.0.1', mask: '255.255.0.0' };
    if (name === 'metadata' || name === 'tunnel_id') return { value: 0x1234_5678_9abc_def0n, mask: 0xffff_0000_0000_0000n };
    if (name === 'vlan_vid') return { value: 0x1000 | 100, mask: 0x1fff };
    if (name === 'ipv6_flabel') return { value: 0xfffff, mask: 0xf0000 };
    if (name === 'ipv6_exthdr') return { value: 0x1ff, mask: 0x100 };
    if (name === 'pbb_isid') return { value: 0xabcdef, mask: 0xff0000 };
    if (/^(ip_ecn|mpls_bos|pbb_uca|vlan_pcp|mpls_tc|ip_dscp)$/.test(name)) return { value: 1 };
    return { value: 3 };
  };
  const maskable = new Set([
    'metadata',
    'eth_dst',
    'eth_src',
    'vlan_vid',
    'ipv4_src',
    'ipv4_dst',
    'arp_spa',
    'arp_tpa',
    'arp_sha',
    'arp_tha',
    'ipv6_src',
    'ipv6_dst',
    'ipv6_flabel',
    'pbb_isid',
    'tunnel_id',
    'ipv6_exthdr',
    'tun_ipv4_src',
    'tun_ipv4_dst',
  ]);

  test('all 40 standard fields are known', () => {
    expect(OXM_FIELD_NAMES.length).toBeGreaterThanOrEqual(40);
    for (const f of ['ipv6_flabel', 'ip_dscp', 'ipv6_exthdr', 'pbb_isid', 'tunnel_id', 'mpls_label', 'ipv6_nd_tll']) {
      expect(OXM_FIELD_NAMES).toContain(f);
    }
  });

  test.each(OXM_FIELD_NAMES.map((n) => [n]))('%s without mask, and with one where §7.2.3.8 allows it', (name) => {
    const { value, mask } = sampleValue(name);
    const plain = { field: name, value } as Oxm;
    roundTrip(flowMod({ xid: 1, match: [plain] }), { checkPrerequisites: false });
    roundTrip({ type: 'packet_out', xid: 2, bufferId: 0, inPort: 1, actions: [setField(plain)], data: new Uint8Array(0) });
    const masked = { field: name, value, mask: mask ?? value } as Oxm;
    if (maskable.has(name)) roundTrip(flowMod({ xid: 3, match: [masked] }), { checkPrerequisites: false });
    else expect(() => encodeMessage(flowMod({ match: [masked] }), { checkPrerequisites: false })).toThrow(/cannot be masked/);
  });

  test('values wider than the field are refused', () => {
    expect(() => encodeMessage(flowMod({ match: [{ field: 'eth_type', value: 0x800 }, { field: 'ip_dscp', value: 64 }] }))).toThrow(/6 bits/);
    expect(() => encodeMessage(flowMod({ match: [{ field: 'eth_type', value: 0x86dd }, { field: 'ipv6_flabel', value: 0x100000 }] }))).toThrow(
      /20 bits/,
    );
    expect(() => encodeMessage(flowMod({ match: [{ field: 'eth_type', value: 0x86dd }, { field: 'ipv6_src', value: 'fe80:::1' }] }))).toThrow(
      /not an IPv6 address/,
    );
    expect(() => encodeMessage(flowMod({ match: [{ field: 'eth_type', value: 0x800 }, { field: 'ipv4_src', value: '10.0.0.256' }] }))).toThrow(
      /not an IPv4 address/,
    );
  });

  test('an unknown OXM class is kept raw and encoded back byte for byte', () => {
    const unknown: Oxm = { field: 'unknown', oxmClass: 0x0003, oxmField: 5, hasMask: true, data: bytes('01020304') };
    const encoded = roundTrip(flowMod({ xid: 4, match: [unknown] }));
    expect(hex(encoded)).toContain('00030b04' + '01020304');
  });

  test('a known field with a length the spec does not allow is kept raw', () => {
    // eth_type (0x8000/5) with 3 bytes instead of 2
    const msg = flowMod({ xid: 5, match: [{ field: 'unknown', oxmClass: 0x8000, oxmField: 5, hasMask: false, data: bytes('0800ff') }] });
    roundTrip(msg, { checkPrerequisites: false });
  });
});

describe('prerequisites (§7.2.3.6)', () => {
  const encode = (match: Oxm[]) => encodeMessage(flowMod({ match }));
  const catchError = (fn: () => unknown): OfpEncodeError => {
    try {
      fn();
    } catch (e) {
      if (e instanceof OfpEncodeError) return e;
      throw e;
    }
    throw new Error('expected an OfpEncodeError');
  };

  test('tcp_dst without ip_proto', () => {
    const e = catchError(() => encode([{ field: 'eth_type', value: 0x800 }, { field: 'tcp_dst', value: 80 }]));
    expect(e.path).toBe('flow_mod.match[1]');
    expect(e.message).toMatch(/tcp_dst requires ip_proto=6, but the match has no ip_proto/);
  });

  test('tcp_dst with ip_proto=17', () => {
    const e = catchError(() => encode([{ field: 'eth_type', value: 0x800 }, { field: 'ip_proto', value: 17 }, { field: 'tcp_dst', value: 80 }]));
    expect(e.message).toMatch(/tcp_dst requires ip_proto=6, but the match has ip_proto=17/);
  });

  test('ip_proto without eth_type, ipv6_flabel on IPv4, nd_sll on a neighbour advertisement', () => {
    expect(() => encode([{ field: 'ip_proto', value: 6 }])).toThrow(/ip_proto requires eth_type=0x0800 or eth_type=0x86dd/);
    expect(() => encode([{ field: 'eth_type', value: 0x800 }, { field: 'ipv6_flabel', value: 1 }])).toThrow(/ipv6_flabel requires eth_type=0x86dd/);
    expect(() =>
      encode([
        { field: 'eth_type', value: 0x86dd },
        { field: 'ip_proto', value: 58 },
        { field: 'icmpv6_type', value: 136 },
        { field: 'ipv6_nd_sll', value: '02:00:00:00:00:01' },
      ]),
    ).toThrow(/ipv6_nd_sll requires icmpv6_type=135/);
  });

  test('a masked prerequisite does not count', () => {
    expect(() => encode([{ field: 'eth_type', value: 0x800 }, { field: 'ipv4_dst', value: '10.0.0.1' }])).not.toThrow();
    expect(() => encode([{ field: 'vlan_pcp', value: 3 }])).toThrow(/vlan_pcp requires vlan_vid/);
    expect(() => encode([{ field: 'vlan_vid', value: 0 }, { field: 'vlan_pcp', value: 3 }])).toThrow(/vlan_vid!=0/);
  });

  test('a field given twice', () => {
    expect(() => encode([{ field: 'in_port', value: 1 }, { field: 'in_port', value: 2 }])).toThrow(/twice/);
  });

  test('flow stats requests are checked too; turning the check off encodes anyway', () => {
    expect(() => encodeMessage(flowStatsRequest({ match: [{ field: 'udp_dst', value: 53 }] }))).toThrow(/udp_dst requires ip_proto=17/);
    expect(() => encodeMessage(flowStatsRequest({ match: [{ field: 'udp_dst', value: 53 }] }), { checkPrerequisites: false })).not.toThrow();
  });

  test('a complete IPv4 and IPv6 chain passes', () => {
    expect(() =>
      encode([
        { field: 'eth_type', value: 0x800 },
        { field: 'ipv4_src', value: '10.0.0.0', mask: ipv4Mask(8) },
        { field: 'ip_proto', value: 6 },
        { field: 'tcp_dst', value: 443 },
        { field: 'ip_dscp', value: 46 },
      ]),
    ).not.toThrow();
    expect(() => encode(ipv6Match)).not.toThrow();
  });
});

describe('flow-mods a switch refuses (§7.2.3.5, §7.2.3.6, §7.2.5)', () => {
  const catchError = (msg: OfpMessage): OfpEncodeError => {
    try {
      encodeMessage(msg);
    } catch (e) {
      if (e instanceof OfpEncodeError) return e;
      throw e;
    }
    throw new Error('expected an OfpEncodeError');
  };
  const ipv4: Oxm = { field: 'eth_type', value: 0x0800 };

  test('a prerequisite listed after the field that needs it (OFPBMC_BAD_PREREQ)', () => {
    const e = catchError(flowMod({ match: [{ field: 'ip_proto', value: 6 }, ipv4] }));
    expect(e.path).toBe('flow_mod.match[0]');
    expect(e.message).toMatch(/^flow_mod\.match\[0\]: ip_proto: prerequisite eth_type=0x0800 \(match\[1\]\) must come before it/);
    expect(e.message).toMatch(/OFPBMC_BAD_PREREQ/);
    // the same fields in prerequisite order are fine
    expect(() => encodeMessage(flowMod({ match: [ipv4, { field: 'ip_proto', value: 6 }] }))).not.toThrow();
    // ... and so is the wrong order when the rules are turned off, to re-encode what a peer sent
    expect(() => encodeMessage(flowMod({ match: [{ field: 'ip_proto', value: 6 }, ipv4] }), { checkPrerequisites: false })).not.toThrow();
  });

  test('a masked set_field (OFPBAC_BAD_SET_MASK)', () => {
    const e = catchError(
      flowMod({ match: [ipv4], instructions: [applyActions(setField({ field: 'ipv4_dst', value: '10.0.0.1', mask: '255.255.255.0' }), output(1))] }),
    );
    expect(e.path).toBe('flow_mod.instructions[0].actions[0].field');
    expect(e.message).toMatch(/set_field ipv4_dst cannot carry a mask .*OFPBAC_BAD_SET_MASK/);
  });

  test('an OXM value with bits outside its mask (OFPBMC_BAD_WILDCARDS)', () => {
    const e = catchError(flowMod({ match: [ipv4, { field: 'ipv4_src', value: '10.0.0.1', mask: '255.255.255.0' }] }));
    expect(e.path).toBe('flow_mod.match[1]');
    expect(e.message).toMatch(/ipv4_src value "10\.0\.0\.1" has bits set outside its mask "255\.255\.255\.0" .*OFPBMC_BAD_WILDCARDS/);
    expect(() => encodeMessage(flowMod({ match: [{ field: 'metadata', value: 0x10n, mask: 0xf0n }] }))).not.toThrow();
    expect(() => encodeMessage(flowMod({ match: [{ field: 'metadata', value: 0x11n, mask: 0xf0n }] }))).toThrow(/BAD_WILDCARDS/);
    expect(() => encodeMessage(flowMod({ match: [{ field: 'eth_dst', value: '01:00:00:00:00:00', mask: '01:00:00:00:00:00' }] }))).not.toThrow();
    expect(() => encodeMessage(flowMod({ match: [{ field: 'eth_dst', value: '02:00:00:00:00:01', mask: 'ff:ff:ff:00:00:00' }] }))).toThrow(
      /flow_mod\.match\[0\]: eth_dst value/,
    );
    // flow stats requests carry a match with the same rules
    expect(() => encodeMessage(flowStatsRequest({ match: [{ field: 'tunnel_id', value: 3n, mask: 1n }] }))).toThrow(/BAD_WILDCARDS/);
  });

  test("a set_field whose prerequisite the flow's match does not establish", () => {
    const e = catchError(flowMod({ match: [{ field: 'in_port', value: 1 }], instructions: [applyActions(setField({ field: 'ipv4_dst', value: '10.0.0.2' }), output(2))] }));
    expect(e.path).toBe('flow_mod.instructions[0].actions[0].field');
    expect(e.message).toMatch(/set_field ipv4_dst requires eth_type=0x0800, but the flow has no eth_type/);
    expect(() =>
      encodeMessage(flowMod({ match: [{ field: 'eth_type', value: 0x86dd }], instructions: [writeActions(setField({ field: 'ipv4_dst', value: '10.0.0.2' }))] })),
    ).toThrow(/flow_mod\.instructions\[0\]\.actions\[0\]\.field: set_field ipv4_dst requires eth_type=0x0800, but the flow has eth_type=0x86dd/);
    expect(() =>
      encodeMessage(flowMod({ match: [ipv4], instructions: [applyActions(output(1), setField({ field: 'tcp_dst', value: 80 }))] })),
    ).toThrow(/actions\[1\]\.field: set_field tcp_dst requires ip_proto=6/);
    // established by the match, or by an action before it
    expect(() => encodeMessage(flowMod({ match: [ipv4], instructions: [applyActions(setField({ field: 'ipv4_dst', value: '10.0.0.2' }))] }))).not.toThrow();
    const pushThenSet = applyActions({ type: 'push_vlan', ethertype: 0x8100 }, setField({ field: 'vlan_pcp', value: 5 }));
    expect(() => encodeMessage(flowMod({ instructions: [pushThenSet] }))).not.toThrow();
    const setThenPush = applyActions(setField({ field: 'vlan_pcp', value: 5 }), { type: 'push_vlan', ethertype: 0x8100 });
    expect(() => encodeMessage(flowMod({ instructions: [setThenPush] }))).toThrow(/set_field vlan_pcp requires vlan_vid/);
    // in the action set, pushes run before set-fields whatever the list order (§5.10)
    expect(() => encodeMessage(flowMod({ instructions: [writeActions(setField({ field: 'mpls_label', value: 7 }), { type: 'push_mpls', ethertype: 0x8847 })] }))).not.toThrow();
    // after pop_mpls to IPv4, the packet is IPv4
    const popped = applyActions({ type: 'pop_mpls', ethertype: 0x0800 }, setField({ field: 'ip_dscp', value: 46 }));
    expect(() => encodeMessage(flowMod({ match: [{ field: 'eth_type', value: 0x8847 }], instructions: [popped] }))).not.toThrow();
  });

  test('a set_field of a field that is not a packet header (in_port, in_phy_port, metadata)', () => {
    for (const field of [
      { field: 'in_port', value: 3 },
      { field: 'in_phy_port', value: 3 },
      { field: 'metadata', value: 1n },
    ] as Oxm[]) {
      const e = catchError(flowMod({ instructions: [applyActions(output(1)), writeActions(setField(field))] }));
      expect(e.path).toBe('flow_mod.instructions[1].actions[0].field');
      expect(e.message).toMatch(new RegExp(`set_field cannot write ${field.field}: it is not a packet header field .*OFPBAC_BAD_SET_TYPE`));
    }
    // a packet-out is not a flow: its actions are encoded as given
    expect(() => encodeMessage({ type: 'packet_out', xid: 0, bufferId: 0, inPort: 1, actions: [setField({ field: 'in_port', value: 2 })], data: new Uint8Array(0) })).not.toThrow();
  });
});

describe('other encode errors carry a path', () => {
  test('bad integers, unknown names, strings that do not fit', () => {
    expect(() => encodeMessage({ ...flowMod(), priority: 70000 })).toThrow(/flow_mod.priority: expected an integer/);
    expect(() => encodeMessage({ ...flowMod(), xid: -1 })).toThrow(/flow_mod.xid/);
    expect(() => encodeMessage({ type: 'nope', xid: 0 } as unknown as OfpMessage)).toThrow(OfpEncodeError);
    expect(() => encodeMessage(flowMod({ instructions: [applyActions({ type: 'teleport' } as never)] }))).toThrow(
      /flow_mod.instructions\[0\].actions\[0\]: unknown action type/,
    );
    expect(() => encodeMessage({ type: 'port_status', xid: 0, reason: 0, desc: { ...port, name: 'x'.repeat(16) } })).toThrow(/does not fit/);
    expect(() => encodeMessage({ type: 'multipart_request', xid: 0, flags: 0, body: { bodyType: 'nope' } as never })).toThrow(/bodyType/);
  });
});

describe('unknown and experimenter TLVs are kept byte for byte', () => {
  test('action, instruction, meter band, hello element', () => {
    roundTrip(
      flowMod({
        xid: 1,
        instructions: [
          { type: 'unknown', instructionType: 0x77, data: bytes('01020304') },
          { type: 'experimenter', experimenter: 0x2320, data: bytes('0001020304050607') },
          applyActions(
            { type: 'unknown', actionType: 0x55, data: bytes('0a0b0c0d') },
            { type: 'experimenter', experimenter: 0x2320, data: bytes('0011223344556677') },
          ),
        ],
      }),
    );
    roundTrip(
      meterMod({
        xid: 2,
        meterId: 3,
        bands: [
          { type: 'dscp_remark', rate: 1, burstSize: 2, precLevel: 1 },
          { type: 'experimenter', rate: 1, burstSize: 2, experimenter: 0x2320, data: bytes('01020304') },
          { type: 'unknown', bandType: 9, rate: 1, burstSize: 2, data: bytes('00000000') },
        ],
      }),
    );
  });

  test('decoding raw bytes with unknown TLVs and encoding them back', () => {
    // packet-out whose single action has the unassigned type 0x0042
    const raw = bytes('040d0020 00000001' + 'ffffffff fffffffd 0008 000000000000' + '0042 0008 deadbeef');
    const decoded = decodeMessage(raw);
    expect(decoded.ok && decoded.message.type === 'packet_out' && decoded.message.actions).toEqual([
      { type: 'unknown', actionType: 0x42, data: bytes('deadbeef') },
    ]);
    if (decoded.ok) expect(hex(encodeMessage(decoded.message))).toBe(hex(raw));
  });
});

describe('error names (§7.4.4)', () => {
  test('types and codes by name', () => {
    expect(errorTypeName(OFPET.METER_MOD_FAILED)).toBe('OFPET_METER_MOD_FAILED');
    expect(errorCodeName(OFPET.METER_MOD_FAILED, OFPMMFC.BAD_BAND)).toBe('OFPMMFC_BAD_BAND');
    expect(errorCodeName(1, 1)).toBe('OFPBRC_BAD_TYPE');
    expect(errorCodeName(0, 0)).toBe('OFPHFC_INCOMPATIBLE');
    expect(errorCodeName(4, 9)).toBe('OFPBMC_BAD_PREREQ');
    expect(errorTypeName(0xffff)).toBe('OFPET_EXPERIMENTER');
    expect(errorTypeName(99)).toBe('OFPET_UNKNOWN_99');
    expect(errorCodeName(1, 99)).toBe('OFPET_BAD_REQUEST_CODE_99');
  });
});

describe('header, hello and addresses', () => {
  test('readHeader', () => {
    expect(readHeader(bytes('0400000800000001'))).toEqual({ version: 4, type: 0, length: 8, xid: 1 });
    expect(readHeader(bytes('04000008ffffffff'))!.xid).toBe(0xffffffff);
    expect(readHeader(bytes('04000008000000'))).toBeUndefined();
    expect(readHeader(bytes('00 0400000800000001'), 1)).toEqual({ version: 4, type: 0, length: 8, xid: 1 });
  });

  test('a hello from an OpenFlow 1.0 switch decodes (for version negotiation), its other messages do not', () => {
    expect(decodeMessage(bytes('0100000800000001'))).toEqual({ ok: true, message: { type: 'hello', xid: 1 } });
    expect(decodeMessage(bytes('0105000800000001')).ok).toBe(false);
    // an OpenFlow 1.5 hello offering 1.3 and 1.5
    const r = decodeMessage(bytes('06000010000000020001000800000050'));
    expect(r).toEqual({ ok: true, message: { type: 'hello', xid: 2, versions: [4, 6] } });
  });

  test('IPv6 text forms (RFC 5952)', () => {
    const cases: [string, string][] = [
      ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['::', '::'],
      ['::1', '::1'],
      ['fe80::', 'fe80::'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
      ['::ffff:10.0.0.1', '::ffff:a00:1'],
    ];
    const buf = new Uint8Array(16);
    for (const [input, canonical] of cases) {
      expect(parseIpv6Into(input, buf, 0), input).toBe(true);
      expect(formatIpv6(buf)).toBe(canonical);
    }
    for (const bad of ['1::2::3', '12345::', 'g::', '1:2:3:4:5:6:7:8:9', '']) expect(parseIpv6Into(bad, buf, 0), bad).toBe(false);
    expect(ipv6Mask(64)).toBe('ffff:ffff:ffff:ffff::');
    expect(ipv6Mask(20)).toBe('ffff:f000::');
    expect(ipv4Mask(24)).toBe('255.255.255.0');
    expect(ipv4Mask(0)).toBe('0.0.0.0');
  });

  test('decodes from a Node Buffer that is a view at an offset into a larger buffer', () => {
    const wire = encodeMessage(flowMod({ xid: 9, match: ipv6Match }));
    const framed = Buffer.concat([Buffer.from('garbage!'), Buffer.from(wire), Buffer.from('more')]);
    const view = framed.subarray(8, 8 + wire.length);
    const decoded = decodeMessage(view);
    expect(decoded.ok && decoded.message).toEqual(flowMod({ xid: 9, match: ipv6Match }));
    // encoded messages are independent copies: later encodes do not overwrite them
    const again = encodeMessage(flowMod({ xid: 10 }));
    expect(hex(wire)).toBe(hex(encodeMessage(flowMod({ xid: 9, match: ipv6Match }))));
    expect(again.length).toBeLessThan(wire.length);
  });

  test('toJsonSafe turns bigints and bytes into strings', () => {
    const msg: OfpMessage = { type: 'echo_request', xid: 1, data: bytes('00ff') };
    expect(JSON.stringify(toJsonSafe(msg))).toBe('{"type":"echo_request","xid":1,"data":"00ff"}');
    const reply = replyBodies.find((b) => b.bodyType === 'aggregate')!;
    expect(toJsonSafe(reply)).toEqual({ bodyType: 'aggregate', packetCount: '10', byteCount: '1000', flowCount: 3 });
  });

  test('builders fill the spec defaults', () => {
    expect(flowMod()).toMatchObject({ cookie: 0n, priority: 0x8000, bufferId: 0xffffffff, outPort: 0xffffffff, outGroup: 0xffffffff, command: 0 });
    expect(meterConfigRequest().body).toEqual({ bodyType: 'meter_config', meterId: 0xffffffff });
  });
});

describe('invalid input to the encoder', () => {
  /** Every path to a member of `value` (objects and arrays, depth-first). */
  function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
    if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return [];
    const out: (string | number)[][] = [];
    for (const [k, v] of Object.entries(value)) {
      const key = Array.isArray(value) ? Number(k) : k;
      out.push([...prefix, key], ...paths(v, [...prefix, key]));
    }
    return out;
  }

  function withReplaced(msg: OfpMessage, path: (string | number)[], replacement: unknown): OfpMessage {
    const copy = structuredClone(msg) as unknown as Record<string | number, unknown>;
    let node = copy;
    for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
    node[path.at(-1)!] = replacement;
    return copy as unknown as OfpMessage;
  }

  test('any member replaced by a wrong value gives an OfpEncodeError (or still encodes), never another exception', () => {
    const wrongValues: unknown[] = [undefined, null, -1, 1.5, 2 ** 64, 'text', {}, [], new Uint8Array(3), 10n ** 30n];
    let refused = 0;
    for (const msg of samples) {
      for (const path of paths(msg)) {
        if (path[0] === 'type' && path.length === 1) continue;
        for (const wrong of wrongValues) {
          try {
            encodeMessage(withReplaced(msg, path, wrong));
          } catch (e) {
            if (!(e instanceof OfpEncodeError)) {
              throw new Error(`${msg.type} ${path.join('.')} = ${String(wrong)}: ${String(e)}`);
            }
            refused++;
          }
        }
      }
    }
    expect(refused).toBeGreaterThan(1000);
  });
});
