// The switch's egress queues over real namespaces: a UDP sender in one namespace, a receiver
// in the other, and `payflow switch` between them with the receiver's port shaped. Rates are
// measured at the receiver (udp-traffic.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OFPFC, OFPP, OFPTT, applyActions, flowMod, output, type Action } from '../../src/openflow/codec/index.js';
import { OpenFlowListener } from '../../src/openflow/listener.js';
import type { SwitchConnection } from '../../src/openflow/connection.js';
import { encodeFlowQueueId } from '../../src/util/flow-queues.js';
import { addressHosts, createHost, netName, removeHost, stopProcess, type Host } from './netns.js';
import { FRAME_OVERHEAD, udpTraffic, windowRate, type Received } from './udp-traffic.js';

const cli = 'dist/src/cli/main.js';
const PORT_RATE = 20e6;

let a: Host;
let b: Host;
let listener: OpenFlowListener;
let sw: ChildProcess | undefined;
let conn: SwitchConnection;


async function startSwitch(extra: string[]): Promise<void> {
  const connected = new Promise<SwitchConnection>((resolve) => listener.once('switchConnected', resolve));
  sw = spawn('node', [cli, 'switch', '--controller', `tcp:127.0.0.1:${listener.address!.port}`, '--port', netName('sqa'), '--port', `${netName('sqb')}@${PORT_RATE / 1e6}mbit`, ...extra], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  conn = await connected;
}

async function stopSwitch(): Promise<void> {
  await stopProcess(sw);
}

/** A → B on UDP port `port` goes to `queue`; everything else is switched across. */
async function install(queues: Record<number, number>): Promise<void> {
  const flows = [
    flowMod({ command: OFPFC.DELETE, tableId: OFPTT.ALL, outPort: OFPP.ANY }),
    flowMod({ priority: 1, match: [{ field: 'in_port', value: 1 }], instructions: [applyActions(output(2))] }),
    flowMod({ priority: 1, match: [{ field: 'in_port', value: 2 }], instructions: [applyActions(output(1))] }),
    ...Object.entries(queues).map(([port, queue]) => {
      const actions: Action[] = [{ type: 'set_queue', queueId: queue }, output(2)];
      return flowMod({
        priority: 10,
        match: [{ field: 'in_port', value: 1 }, { field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 17 }, { field: 'udp_dst', value: Number(port) }],
        instructions: [applyActions(...actions)],
      });
    }),
  ];
  await conn.sendConfirmed(flows);
}

/** Sends the flows (UDP port → offered frame bits/s) from A to B; returns what B received. */
const traffic = (flows: Record<number, number>, seconds = 5, warm = 1.5, window = 3): Promise<Received> =>
  udpTraffic(b, '10.9.7.2', [{ host: a, flows }], seconds, warm, window);

const rate = windowRate;

async function queueStats(queueId: number) {
  const reply = await conn.multipart({ bodyType: 'queue', portNo: 2, queueId });
  return reply.stats[0]!;
}

beforeAll(async () => {
  a = createHost(netName('sqA'), netName('sqa'));
  b = createHost(netName('sqB'), netName('sqb'));
  addressHosts([[a, '10.9.7.1'], [b, '10.9.7.2']]);
  listener = new OpenFlowListener({ host: '127.0.0.1', port: 0, echoIntervalMs: 60_000 });
  await listener.listen();
}, 60_000);

afterAll(async () => {
  await stopSwitch();
  await listener?.close();
  if (a) removeHost(a);
  if (b) removeHost(b);
}, 30_000);

describe('payflow switch egress queues (deficit round robin)', () => {
  beforeAll(() => startSwitch(['--queue', '1:3', '--queue', '2:1']), 60_000);
  afterAll(() => stopSwitch(), 30_000);

  it('lists the port queues with their weights in queue-get-config', async () => {
    const reply = await conn.request({ type: 'queue_get_config_request', port: 2 });
    if (reply.type !== 'queue_get_config_reply') throw new Error(reply.type);
    const q = new Map(reply.queues.map((x) => [x.queueId, x.properties]));
    expect([...q.keys()]).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // weights 1,3,1,1,1,1,1,1 → min_rate in ‰ of the port
    expect(q.get(1)).toEqual([{ type: 'min_rate', rate: 300 }]);
    expect(q.get(2)).toEqual([{ type: 'min_rate', rate: 100 }]);
  });

  it('shapes a flood offered at twice the port rate to the port rate ±10 %', async () => {
    await install({});
    const r = await traffic({ 5000: 2 * PORT_RATE });
    const got = rate(r, 5000);
    console.log(`shaping: offered ${(2 * PORT_RATE) / 1e6} Mbit/s, delivered ${(got / 1e6).toFixed(2)} Mbit/s at a ${PORT_RATE / 1e6} Mbit/s port`);
    // Never above the port rate; the lower bound (75 %) catches a shaper that starves the port
    // without failing when a loaded machine stalls the datapath thread for a few milliseconds.
    expect(got).toBeGreaterThan(PORT_RATE * 0.75);
    expect(got).toBeLessThan(PORT_RATE * 1.1);
    const q0 = await queueStats(0);
    expect(Number(q0.txErrors)).toBeGreaterThan(0); // the excess was dropped in the switch
  });

  it('shares the port 3:1 between two queues of weights 3 and 1 under overload, and queue stats match the receiver', async () => {
    await install({ 5001: 1, 5002: 2 });
    const r = await traffic({ 5001: 1.5 * PORT_RATE, 5002: 1.5 * PORT_RATE });
    const heavy = rate(r, 5001);
    const light = rate(r, 5002);
    console.log(`DRR 3:1: ${(heavy / 1e6).toFixed(2)} and ${(light / 1e6).toFixed(2)} Mbit/s, ratio ${(heavy / light).toFixed(3)}`);
    expect(heavy / light).toBeGreaterThan(3 * 0.9);
    expect(heavy / light).toBeLessThan(3 * 1.1);
    expect(heavy + light).toBeGreaterThan(PORT_RATE * 0.75);
    for (const [queueId, port] of [[1, 5001], [2, 5002]] as const) {
      const s = await queueStats(queueId);
      const seen = r.ports[port]!;
      console.log(`queue ${queueId}: switch sent ${s.txPackets} packets / ${s.txBytes} bytes (dropped ${s.txErrors}); receiver got ${seen.packets} / ${seen.bytes + FRAME_OVERHEAD * seen.packets}`);
      expect(Math.abs(Number(s.txPackets) - seen.packets)).toBeLessThanOrEqual(Math.max(2, seen.packets * 0.005));
      expect(Math.abs(Number(s.txBytes) - (seen.bytes + FRAME_OVERHEAD * seen.packets))).toBeLessThanOrEqual(Math.max(2 * 1042, seen.bytes * 0.005));
      expect(Number(s.txErrors)).toBeGreaterThan(0);
    }
  });
});

describe('payflow switch per-flow queues (rate-encoded ids, DRR in WebAssembly)', () => {
  beforeAll(() => startSwitch([]), 60_000);
  afterAll(() => stopSwitch(), 30_000);

  it('shares the port by paid rate: three overloaded flow queues get 1:2:4 of the bytes, each within 5 %', async () => {
    const paid = { 5001: 2e6, 5002: 4e6, 5003: 8e6 };
    const ids = Object.fromEntries(Object.entries(paid).map(([port, rate]) => [port, encodeFlowQueueId(rate, 0)]));
    await install(ids);
    // every flow offers the whole port: each queue stays backlogged however the sender is scheduled
    const run = traffic({ 5001: PORT_RATE, 5002: PORT_RATE, 5003: PORT_RATE }, 10);
    // the queues exist once the first frames came (the receiver and sender start slowly on a
    // loaded machine); a second later they are full
    const started = Date.now();
    for (;;) {
      const found = await Promise.all(Object.values(ids).map((q) => queueStats(q).catch(() => undefined)));
      if (found.every((q) => q && q.txErrors > 0n)) break;
      if (Date.now() - started > 20_000) throw new Error('the flow queues did not fill within 20 s');
      await new Promise((r) => setTimeout(r, 250));
    }
    await new Promise((r) => setTimeout(r, 1000));
    const before = await Promise.all(Object.values(ids).map((q) => queueStats(q)));
    const r = await run;
    const after = await Promise.all(Object.values(ids).map((q) => queueStats(q)));
    // bytes that left each queue between the two readings: the scheduler's own decisions, not the receiver's clock
    const sent = after.map((a, i) => Number(a.txBytes - before[i]!.txBytes));
    const total = sent.reduce((x, y) => x + y, 0);
    const weights = Object.values(paid);
    const wsum = weights.reduce((x, y) => x + y, 0);
    console.log(`per-flow DRR: ${sent.map((b, i) => `${(weights[i]! / 1e6).toFixed(0)} Mbit/s paid → ${((100 * b) / total).toFixed(2)} % of ${total} bytes`).join(', ')}`);
    expect(total).toBeGreaterThan(PORT_RATE / 8); // at least a second of the port's bytes
    sent.forEach((b, i) => {
      expect(Math.abs(b / total / (weights[i]! / wsum) - 1)).toBeLessThan(0.05);
      expect(Number(after[i]!.txErrors)).toBeGreaterThan(0); // overloaded: the bound dropped some of each
    });
    // the receiver got what the switch says it sent
    for (const [i, port] of [5001, 5002, 5003].entries()) {
      const seen = r.ports[port]!;
      expect(Math.abs(Number(after[i]!.txPackets) - seen.packets)).toBeLessThanOrEqual(Math.max(2, seen.packets * 0.005));
    }
  });
});

describe('payflow switch egress queues (strict priority)', () => {
  beforeAll(() => startSwitch(['--sched', 'strict']), 60_000);
  afterAll(() => stopSwitch(), 30_000);

  it('gives the high queue its offered load and the low queue the rest', async () => {
    await install({ 5001: 1, 5002: 6 });
    const offeredHigh = 0.4 * PORT_RATE;
    const r = await traffic({ 5001: 1.5 * PORT_RATE, 5002: offeredHigh });
    const low = rate(r, 5001);
    const high = rate(r, 5002);
    console.log(`strict: high ${(high / 1e6).toFixed(2)} of ${offeredHigh / 1e6} Mbit/s offered, low ${(low / 1e6).toFixed(2)} Mbit/s`);
    expect(high).toBeGreaterThan(offeredHigh * 0.95);
    expect(high + low).toBeGreaterThan(PORT_RATE * 0.75);
    expect(high + low).toBeLessThan(PORT_RATE * 1.1);
    // the high queue loses nothing the bound could have kept (a stalled datapath on a loaded machine may cost a few frames)
    const high6 = await queueStats(6);
    expect(Number(high6.txErrors)).toBeLessThanOrEqual(Number(high6.txPackets) * 0.01);
  });
});
