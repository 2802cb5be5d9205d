// `payflow switch --fail secure|standalone` when it loses the controller it dialled (OpenFlow
// 1.3.5 §6.3.6): real switch processes on veth ports into network namespaces, pinged across
// with the kernel's own ping, and the project's controller side (OpenFlowListener) stopped and
// started again on the same port.
//   secure: the flows stay and keep forwarding, expire on their timeouts, and nothing from the
//           outage reaches the controller when it returns;
//   standalone: with the controller gone the switch is a learning bridge (hosts reach each
//           other although the flow table drops everything); when the controller is back
//           the switch goes by that flow table again, unchanged.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OFPP, OFPTT, applyActions, flowMod, output, type PacketInMessage } from '../../src/openflow/codec/index.js';
import { OpenFlowListener } from '../../src/openflow/listener.js';
import type { SwitchConnection } from '../../src/openflow/connection.js';
import { freeTcpPort } from '../helpers/free-port.js';
import { createHost, netName, removeHost, stopProcess, type Host } from './netns.js';

const cli = 'dist/src/cli/main.js';
/** one port for the whole file: the switch reconnects to a controller that comes back on it */
let CONTROLLER_PORT = 0;

let sw: ChildProcess | undefined;
let listener: OpenFlowListener | undefined;
let hosts: Host[] = [];
let log = '';

function addressed(ns: string, rootIf: string, ip: string): Host {
  const h = createHost(ns, rootIf);
  execFileSync('ip', ['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
  hosts.push(h);
  return h;
}

function pings(from: Host, to: string): boolean {
  return spawnSync('ip', ['netns', 'exec', from.ns, 'ping', '-c', '2', '-i', '0.2', '-W', '1', '-q', to], { stdio: 'ignore' }).status === 0;
}

async function controller(): Promise<{ listener: OpenFlowListener; connected: Promise<SwitchConnection> }> {
  const l = new OpenFlowListener({ host: '127.0.0.1', port: CONTROLLER_PORT, echoIntervalMs: 60_000 });
  await l.listen();
  listener = l;
  return { listener: l, connected: new Promise((resolve) => l.once('switchConnected', resolve)) };
}

function startSwitch(mode: 'secure' | 'standalone', ports: string[]): void {
  log = '';
  sw = spawn('node', [cli, 'switch', '--controller', `tcp:127.0.0.1:${CONTROLLER_PORT}`, '--fail', mode, ...ports.flatMap((p) => ['--port', p])], { stdio: ['ignore', 'pipe', 'pipe'] });
  sw.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  sw.stderr!.on('data', (d: Buffer) => (log += d.toString()));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) if (what()) return true;
  return what();
}

const allFlows = { bodyType: 'flow', tableId: OFPTT.ALL, outPort: OFPP.ANY, outGroup: 0xffffffff, cookie: 0n, cookieMask: 0n, match: [] } as const;

afterEach(async () => {
  await stopProcess(sw);
  sw = undefined;
  await listener?.close();
  listener = undefined;
  for (const h of hosts) removeHost(h);
  hosts = [];
}, 30_000);

beforeAll(async () => {
  CONTROLLER_PORT = await freeTcpPort();
});

describe('payflow switch without its controller', () => {
  it('fail secure: flows keep forwarding and expire on their timeouts; nothing from the outage goes to the controller', async () => {
    const a = addressed(netName('fsA'), netName('fsa'), '10.8.0.1');
    addressed(netName('fsB'), netName('fsb'), '10.8.0.2');
    const first = await controller();
    startSwitch('secure', [netName('fsa'), netName('fsb')]);
    const conn = await first.connected;
    await conn.sendConfirmed([
      flowMod({ priority: 10, hardTimeout: 6, match: [{ field: 'in_port', value: 1 }], instructions: [applyActions(output(2))] }),
      flowMod({ priority: 10, hardTimeout: 6, match: [{ field: 'in_port', value: 2 }], instructions: [applyActions(output(1))] }),
      flowMod({ priority: 0, match: [], instructions: [applyActions(output(OFPP.CONTROLLER, 0xffff))] }),
    ]);
    expect(pings(a, '10.8.0.2')).toBe(true);
    await first.listener.close();
    expect(await waitFor(() => /lost controller .*fail-secure/.test(log), 5000)).toBe(true);
    expect(pings(a, '10.8.0.2')).toBe(true); // the controller's flows go on forwarding
    await sleep(6500);
    expect(pings(a, '10.8.0.2')).toBe(false); // ... until their hard timeout; the misses have nowhere to go
    const second = await controller();
    const packetIns: PacketInMessage[] = [];
    const back = await second.connected;
    back.on('packetIn', (m: PacketInMessage) => packetIns.push(m));
    await sleep(1000);
    expect(packetIns).toEqual([]); // nothing queued during the outage
    const flows = await back.multipart(allFlows);
    expect(flows.stats.map((f) => f.priority)).toEqual([0]); // the table-miss entry stayed; the others expired
    expect(sw!.exitCode).toBeNull();
  }, 60_000);

  it('fail standalone: a learning bridge while the controller is gone, its flow table again when it is back', async () => {
    const a = addressed(netName('fsC'), netName('fsc'), '10.8.1.1');
    addressed(netName('fsD'), netName('fsd'), '10.8.1.2');
    const first = await controller();
    startSwitch('standalone', [netName('fsc'), netName('fsd')]);
    const conn = await first.connected;
    // The controller's table drops everything (one entry with no actions).
    await conn.sendConfirmed(flowMod({ priority: 1, cookie: 0x77n, match: [], instructions: [] }));
    expect(pings(a, '10.8.1.2')).toBe(false);
    log = '';
    await first.listener.close();
    expect(await waitFor(() => /learning bridge/.test(log), 5000)).toBe(true);
    expect(pings(a, '10.8.1.2')).toBe(true);
    log = '';
    const second = await controller();
    const back = await second.connected;
    expect(await waitFor(() => /switching through its flow table/.test(log), 5000)).toBe(true);
    const flows = await back.multipart(allFlows);
    expect(flows.stats.map((f) => [f.priority, f.cookie])).toEqual([[1, 0x77n]]);
    expect(pings(a, '10.8.1.2')).toBe(false);
    expect(sw!.exitCode).toBeNull();
  }, 60_000);
});
