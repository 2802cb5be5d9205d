// Per-flow egress queues from the controller's side: OpenFlowNetwork asks each switch for
// its description (OFPMP_DESC); towards a `payflow switch` every reserved flow's flow-mods
// carry set_queue with a queue of its own on the hop's output port (the paid rate encoded
// in the id, unique per port) and the reservation lists the queues it holds; towards any
// other switch (Open vSwitch) the flow-mods are as before. The
// switches are the runtime tests' scripted fake switches on real loopback sockets; tc
// towards Open vSwitch is exercised against the real one in network-ovs.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import type { EnforcedReservation } from '../../src/network/contracts.js';
import { OpenFlowNetwork } from '../../src/network/network.js';
import { isPayflowSwitchDescription } from '../../src/network/capabilities.js';
import type { FlowModMessage, OfpMessage } from '../../src/openflow/codec/index.js';
import { encodeFlowQueueId, encodedQueueWeight, PAYFLOW_SWITCH_DESC } from '../../src/util/flow-queues.js';
import { FakeSwitch, port } from '../openflow/fake-switch.js';

let network: OpenFlowNetwork | undefined;
const switches: FakeSwitch[] = [];

afterEach(async () => {
  await network?.stop();
  network = undefined;
  for (const sw of switches.splice(0)) sw.destroy();
});

async function start(desc: { mfrDesc: string; hwDesc: string }): Promise<{ net: OpenFlowNetwork; sw: FakeSwitch }> {
  const config = defaultConfig();
  config.log.level = 'silent';
  config.openflow.listen = { host: '127.0.0.1', port: 0 };
  const net = new OpenFlowNetwork(config, { egress: { dryRun: true } });
  network = net;
  await net.start();
  const sw = new FakeSwitch({ port: net.address!.port, datapathId: 0x7n, ports: [port(1, 'eth1'), port(2, 'eth2'), port(3, 'eth3')], desc });
  switches.push(sw);
  await net.switchReady(0x7n);
  return { net, sw };
}

function reservation(id: string, inPort: number, rateBps: number, dstPort: number): EnforcedReservation {
  return {
    id,
    classId: 'gold',
    dscp: 46,
    rateBps,
    burstBits: 50_000,
    match: { src: '10.0.0.1', dst: '10.0.0.2', proto: 17, dstPort },
    path: { hops: [{ dpid: 0x7n, inPort, outPort: 3 }], resources: ['0000000000000007:3'] },
    expiresAtMs: Date.now() + 60_000,
  };
}

/** The queue ids the reservation flow-mods (cookie of kind "PR") the switch got set, in order. */
function setQueues(sw: FakeSwitch): number[] {
  return sw.received
    .filter((m): m is FlowModMessage & OfpMessage => m.type === 'flow_mod' && m.command === 0 && m.cookie >> 48n === 0x5052n)
    .flatMap((m) => m.instructions.flatMap((i) => (i.type === 'apply_actions' ? i.actions : [])))
    .flatMap((a) => (a.type === 'set_queue' ? [a.queueId] : []));
}

describe('per-flow queues by switch kind', () => {
  it('recognises payflow switch by the description its agent sends', () => {
    expect(isPayflowSwitchDescription(PAYFLOW_SWITCH_DESC)).toBe(true);
    expect(isPayflowSwitchDescription({ mfrDesc: 'Nicira, Inc.', hwDesc: 'Open vSwitch' })).toBe(false);
  });

  it('towards a payflow switch: set_queue with a queue of its own per reserved flow, weight = paid rate, unique per port', async () => {
    const { net, sw } = await start(PAYFLOW_SWITCH_DESC);
    await net.enforcer.install(reservation('a'.repeat(32), 1, 2e6, 5001));
    await net.enforcer.install(reservation('b'.repeat(32), 2, 2e6, 5002));
    await net.enforcer.install(reservation('c'.repeat(32), 1, 400e3, 5003));
    const first = encodeFlowQueueId(2e6, 0);
    const second = encodeFlowQueueId(2e6, 1);
    const third = encodeFlowQueueId(400e3, 0);
    expect(setQueues(sw)).toEqual([first, second, third]);
    expect(encodedQueueWeight(first)).toBe(2);
    expect(encodedQueueWeight(third)).toBe(0.4);
    expect(encodedQueueWeight(encodeFlowQueueId(500e3, 0))).toBe(0.504); // rates round up to 8 kbit/s
    expect(net.enforcer.queuesOf('b'.repeat(32))).toEqual([{ dpid: '0000000000000007', port: 3, queueId: second, weightMbps: 2 }]);
    // a queue freed by a removal is handed out again
    await net.enforcer.remove('a'.repeat(32));
    await net.enforcer.install(reservation('d'.repeat(32), 2, 2e6, 5004));
    expect(setQueues(sw).at(-1)).toBe(first);
    expect(net.enforcer.queuesOf('a'.repeat(32))).toEqual([]);
  });

  it('towards Open vSwitch: no set_queue, no queues held', async () => {
    const { net, sw } = await start({ mfrDesc: 'Nicira, Inc.', hwDesc: 'Open vSwitch' });
    await net.enforcer.install(reservation('e'.repeat(32), 1, 2e6, 5001));
    expect(sw.received.some((m) => m.type === 'flow_mod' && m.cookie >> 48n === 0x5052n)).toBe(true);
    expect(setQueues(sw)).toEqual([]);
    expect(net.enforcer.queuesOf('e'.repeat(32))).toEqual([]);
  });
});
