// OpenFlowNetwork with `openflow.connect`: the controller dials a switch that listens for
// its controller (OpenFlow 1.3.5 §6.3; Open vSwitch's `ptcp:` target) and treats it like a
// switch that connected by itself. The switch is the runtime tests' scripted fake switch on
// a real loopback socket; the same against real Open vSwitch is in test/openflow/ovs.test.ts.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import { OpenFlowNetwork } from '../../src/network/network.js';
import { FakeSwitch, port } from '../openflow/fake-switch.js';

let server: Server | undefined;
let network: OpenFlowNetwork | undefined;
const accepted: FakeSwitch[] = [];

afterEach(async () => {
  await network?.stop();
  for (const sw of accepted) sw.destroy();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
});

test('a switch listed in openflow.connect is dialled at start and becomes ready', async () => {
  server = createServer((socket: Socket) => {
    accepted.push(new FakeSwitch({ port: 0, socket, datapathId: 0x42n, ports: [port(1, 'eth1'), port(2, 'eth2')] }));
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  const config = defaultConfig();
  config.log.level = 'silent';
  config.openflow.listen = { host: '127.0.0.1', port: 0 };
  config.openflow.connect = [{ host: '127.0.0.1', port: (server.address() as AddressInfo).port }];
  network = new OpenFlowNetwork(config, { egress: false });
  await network.start();
  await network.switchReady(0x42n);
  expect(accepted).toHaveLength(1);
  // The dialled switch got the controller's start-of-day state like any other (a flow-mod clearing its tables).
  const cleared = await accepted[0]!.waitFor((m) => m.type === 'flow_mod');
  expect(cleared.type).toBe('flow_mod');
});
