// A second, independent decoder for what this codec encodes: Open vSwitch's own
// `ovs-ofctl ofp-print HEX` (offline, no switch needed). Each message a controller sends
// is encoded here and must read back, in OVS's words, as what was meant. The test needs
// ovs-ofctl (Debian package openvswitch-common, installed by the OVS integration setup);
// without it the cases are reported as skipped, by name, never passed.
import { execFileSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import {
  OFPFF,
  OFPP,
  applyActions,
  dropBand,
  encodeMessage,
  flowMod,
  flowStatsRequest,
  ipv4Mask,
  ipv6Mask,
  meterConfigRequest,
  meterInstruction,
  meterMod,
  output,
  packetOut,
  setField,
  writeActions,
  type OfpMessage,
} from '../../../src/openflow/codec/index.js';

function ovsOfctlAvailable(): boolean {
  try {
    execFileSync('ovs-ofctl', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const available = ovsOfctlAvailable();

function ofpPrint(msg: OfpMessage): string {
  const hex = Buffer.from(encodeMessage(msg)).toString('hex');
  return execFileSync('ovs-ofctl', ['ofp-print', hex], { encoding: 'utf8' }).replace(/\s+/g, ' ');
}

const cases: [string, OfpMessage, (string | RegExp)[]][] = [
  [
    'a metered, re-marked IPv6 reservation flow',
    flowMod({
      xid: 2,
      priority: 1000,
      flags: OFPFF.SEND_FLOW_REM,
      match: [
        { field: 'in_port', value: 1 },
        { field: 'eth_type', value: 0x86dd },
        { field: 'ipv6_src', value: '2001:db8::10' },
        { field: 'ipv6_dst', value: '2001:db8::', mask: ipv6Mask(64) },
        { field: 'ipv6_flabel', value: 0x12345, mask: 0xfffff },
        { field: 'ip_dscp', value: 10 },
        { field: 'ip_proto', value: 17 },
        { field: 'udp_dst', value: 5001 },
      ],
      instructions: [meterInstruction(7), applyActions(setField({ field: 'ip_dscp', value: 46 }), output(2))],
    }),
    [
      'OFPT_FLOW_MOD (OF1.3) (xid=0x2): ADD priority=1000,udp6,in_port=1,ipv6_src=2001:db8::10,ipv6_dst=2001:db8::/64,ipv6_label=0x12345,nw_tos=40,tp_dst=5001 send_flow_rem',
      'actions=meter:7,set_field:46->ip_dscp,output:2',
    ],
  ],
  [
    'an IPv4 flow with masks, metadata and write-actions',
    flowMod({
      xid: 3,
      match: [
        { field: 'eth_type', value: 0x800 },
        { field: 'ipv4_src', value: '10.0.0.0', mask: ipv4Mask(8) },
        { field: 'ip_proto', value: 6 },
        { field: 'tcp_dst', value: 443 },
        { field: 'vlan_vid', value: 0x1000 | 5 },
        { field: 'tunnel_id', value: 5n, mask: 0xffn },
      ],
      instructions: [
        { type: 'write_metadata', metadata: 1n, metadataMask: 0xffn },
        writeActions({ type: 'set_queue', queueId: 1 }, { type: 'group', groupId: 3 }),
        { type: 'goto_table', tableId: 2 },
      ],
    }),
    ['ADD tcp,tun_id=0x5/0xff,dl_vlan=5,nw_src=10.0.0.0/8,tp_dst=443', 'actions=write_actions(set_queue:1,group:3),write_metadata:0x1/0xff,goto_table:2'],
  ],
  [
    'a meter with a drop band and a burst',
    meterMod({ xid: 4, meterId: 7, bands: [dropBand(4000, 400)] }),
    ['OFPT_METER_MOD (OF1.3) (xid=0x4): ADD meter=7 kbps burst stats bands= type=drop rate=4000 burst_size=400'],
  ],
  ['a flow stats request', flowStatsRequest({ xid: 5 }), ['OFPST_FLOW request (OF1.3) (xid=0x5)']],
  ['a meter config request', meterConfigRequest(0xffffffff, 6), ['OFPST_METER_CONFIG request (OF1.3) (xid=0x6): meter=all']],
  ['a hello with a version bitmap', { type: 'hello', xid: 7, versions: [1, 4] }, ['OFPT_HELLO (OF1.3) (xid=0x7): version bitmap: 0x01, 0x04']],
  ['a role request', { type: 'role_request', xid: 8, role: 2, generationId: 5n }, [/OFPT_ROLE_REQUEST \(OF1\.3\) \(xid=0x8\): role=(primary|master) generation_id=5/]],
  [
    'a packet-out',
    packetOut({ xid: 9, actions: [output(OFPP.FLOOD)], data: new Uint8Array(60) }),
    ['OFPT_PACKET_OUT (OF1.3) (xid=0x9): in_port=CONTROLLER actions=FLOOD data_len=60'],
  ],
  [
    'a select group',
    {
      type: 'group_mod',
      xid: 10,
      command: 0,
      groupType: 1,
      groupId: 5,
      buckets: [{ weight: 1, watchPort: 0xffffffff, watchGroup: 0xffffffff, actions: [output(1)] }],
    },
    ['OFPT_GROUP_MOD (OF1.3) (xid=0xa): ADD group_id=5,type=select,bucket=actions=output:1'],
  ],
];

describe('ovs-ofctl ofp-print reads what the codec encodes', () => {
  test.skipIf(!available).each(cases)('%s', (_name, msg, expected) => {
    const printed = ofpPrint(msg);
    for (const part of expected) {
      if (typeof part === 'string') expect(printed).toContain(part);
      else expect(printed).toMatch(part);
    }
  });
});
