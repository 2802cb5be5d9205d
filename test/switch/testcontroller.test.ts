// `payflow switch` driven by another controller: Open vSwitch's ovs-testcontroller (Debian
// package openvswitch-testcontroller, installed by scripts/setup-system.sh), a MAC-learning
// controller speaking OpenFlow 1.3 that answers packet-ins with packet-outs and installs
// flows. Two namespaces ping each other through the switch; ovs-ofctl, on the switch's
// ptcp: listener, shows the flows the controller installed.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeTcpPort } from '../helpers/free-port.js';
import { createHost, netName, removeHost, type Host } from './netns.js';

const cli = 'dist/src/cli/main.js';
let CONTROLLER_PORT = 0;
let OFCTL_PORT = 0;
const installed = spawnSync('ovs-testcontroller', ['--version'], { stdio: 'ignore' }).status === 0;

let controller: ChildProcess;
let sw: ChildProcess;
let a: Host;
let b: Host;
let log = '';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function pings(from: Host, to: string): boolean {
  return spawnSync('ip', ['netns', 'exec', from.ns, 'ping', '-c', '3', '-i', '0.2', '-W', '1', '-q', to], { stdio: 'ignore' }).status === 0;
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(5000)]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

describe.skipIf(!installed)('payflow switch driven by ovs-testcontroller', () => {
  beforeAll(async () => {
    CONTROLLER_PORT = await freeTcpPort();
    OFCTL_PORT = await freeTcpPort();
    a = createHost(netName('otA'), netName('ota'));
    b = createHost(netName('otB'), netName('otb'));
    execFileSync('ip', ['-n', a.ns, 'addr', 'add', '10.6.0.1/24', 'dev', 'eth0']);
    execFileSync('ip', ['-n', b.ns, 'addr', 'add', '10.6.0.2/24', 'dev', 'eth0']);
    controller = spawn('ovs-testcontroller', ['-O', 'OpenFlow13', `ptcp:${CONTROLLER_PORT}:127.0.0.1`], { stdio: ['ignore', 'pipe', 'pipe'] });
    controller.stderr!.on('data', (d: Buffer) => (log += `controller: ${d.toString()}`));
    await sleep(300);
    sw = spawn('node', [cli, 'switch', '--controller', `tcp:127.0.0.1:${CONTROLLER_PORT}`, '--listen', `ptcp:${OFCTL_PORT}:127.0.0.1`, '--port', netName('ota'), '--port', netName('otb')], { stdio: ['ignore', 'pipe', 'pipe'] });
    sw.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    for (let i = 0; i < 100 && !/connected to controller/.test(log); i++) await sleep(100);
  }, 60_000);

  afterAll(async () => {
    await stop(sw);
    await stop(controller);
    if (a) removeHost(a);
    if (b) removeHost(b);
  }, 30_000);

  it('hosts ping each other through the switch, and the controller installs its flows', async () => {
    expect(log).toMatch(/connected to controller/);
    let ok = false;
    for (let i = 0; i < 5 && !ok; i++) ok = pings(a, '10.6.0.2');
    expect(ok, log).toBe(true);
    expect(pings(b, '10.6.0.1')).toBe(true);
    const flows = execFileSync('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-flows', `tcp:127.0.0.1:${OFCTL_PORT}`], { encoding: 'utf8' });
    expect(flows, log).toMatch(/actions=output:[12]/);
    expect(flows).toMatch(/n_packets=[1-9]/);
    expect(sw.exitCode).toBeNull();
    expect(controller.exitCode).toBeNull();
  }, 60_000);
});
