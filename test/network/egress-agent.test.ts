// The egress agent (`payflow egress-agent`): the controller's egress classes applied on a
// switch's own host through the agent's small JSON protocol, over mutual TLS. The agent
// refuses names that are not this host's non-loopback interfaces or not the named
// datapath's port; a client with a certificate from another CA gets nothing; and a
// controller configured with `egress.agents` shapes a real Open vSwitch port through the
// agent, never with its own tc.
// The Open vSwitch part needs root and OVS: skipped with the reason, except in CI.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import { EgressAgent, EgressAgentClient, parseRequest, type TlsMaterial } from '../../src/network/egress-agent.js';
import { OpenFlowNetwork } from '../../src/network/network.js';
import { acquireOvsLock, ensureOvsRunning, eventually, OvsLab, ovsStatus, run, within } from '../helpers/ovs.js';
import { makePki } from '../helpers/pki.js';

const classes = defaultConfig().classes;
let dir = '';
const pem = (name: string) => readFileSync(join(dir, name));
const material = (leaf: string, ca: string): TlsMaterial => ({ cert: pem(`${leaf}.pem`), key: pem(`${leaf}.key`), ca: pem(`${ca}-ca.pem`) });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'payflow-agent-'));
  makePki(dir, 'good', ['controller', 'agent']);
  makePki(dir, 'other', ['rogue']);
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the egress agent protocol', () => {
  test('requests are checked field by field', () => {
    expect(() => parseRequest({ id: 1, op: 'run', cmd: 'tc' })).toThrow();
    expect(() => parseRequest({ id: 1, op: 'apply', ports: [{ name: 'x', dpid: '1', portNo: 1, capacityBps: 1 }], classes: [] })).toThrow(/capacity/);
    expect(() => parseRequest({ id: 1, op: 'apply', ports: [], classes: [{ id: 'a b', dscp: 1, share: 0.5, bestEffort: false }] })).toThrow(/class/);
    expect(() => parseRequest({ id: 1, op: 'apply', ports: [], classes: [{ id: 'gold', dscp: 64, share: 0.5, bestEffort: false }] })).toThrow(/class/);
    expect(parseRequest({ id: 7, op: 'inspect', port: { name: 'eth0', dpid: '0000000000000001', portNo: 1 } })).toMatchObject({ id: 7, op: 'inspect' });
  });

  test('over mutual TLS it refuses loopback, unknown and malformed names and shapes nothing for them', async () => {
    const agent = await EgressAgent.start({ host: '127.0.0.1', port: 0, tls: material('agent', 'good'), checkOvs: false, dryRun: true });
    const client = new EgressAgentClient({ host: '127.0.0.1', port: agent.address.port, tls: material('controller', 'good') });
    try {
      const dpid = '0000000000000001';
      const r = await client.apply(
        [
          { name: 'lo', dpid, portNo: 1, capacityBps: 1e7 },
          { name: 'pfnosuch0', dpid, portNo: 2, capacityBps: 1e7 },
          { name: '-o/../x', dpid, portNo: 3, capacityBps: 1e7 },
        ],
        classes,
      );
      expect(r.applied).toEqual([]);
      expect(r.refused.map((x) => [x.name, x.reason])).toEqual([
        ['lo', 'a loopback interface'],
        ['pfnosuch0', 'no such interface on this host'],
        ['-o/../x', 'not an interface name'],
      ]);
      await expect(client.inspect({ name: 'lo', dpid, portNo: 1 })).rejects.toThrow(/loopback/);
    } finally {
      client.close();
      await agent.close();
    }
  });

  test('a controller with a certificate from another CA gets no answer', async () => {
    const agent = await EgressAgent.start({ host: '127.0.0.1', port: 0, tls: material('agent', 'good'), checkOvs: false, dryRun: true });
    const rogue = new EgressAgentClient({ host: '127.0.0.1', port: agent.address.port, tls: material('rogue', 'good'), timeoutMs: 3000 });
    const plain = new EgressAgentClient({ host: '127.0.0.1', port: agent.address.port, timeoutMs: 3000 });
    try {
      await expect(rogue.inspect({ name: 'lo', dpid: '0000000000000001', portNo: 1 })).rejects.toThrow(/egress agent/);
      await expect(plain.inspect({ name: 'lo', dpid: '0000000000000001', portNo: 1 })).rejects.toThrow(/egress agent/);
    } finally {
      rogue.close();
      plain.close();
      await agent.close();
    }
  });
});

const ovs = ovsStatus();
test.runIf(ovs.requiredButMissing)('Open vSwitch is required when CI=true', () => {
  throw new Error(`CI=true but the Open vSwitch tests cannot run: ${ovs.reason}`);
});

describe.skipIf(!ovs.available)(`a controller shaping through the agent${ovs.available ? '' : ` (skipped: ${ovs.reason})`}`, () => {
  const lab = new OvsLab({ switches: 1, links: [], ipv4Prefix: '10.79.0', ipv6Prefix: 'fd00:79::' });
  let network: OpenFlowNetwork;
  let agent: EgressAgent;
  let releaseLock: (() => void) | undefined;
  const agentLog = () => join(dir, 'agent-tc.log');
  const localLog = () => join(dir, 'local-tc.log');

  /** A tc that records its arguments, then runs the real one. */
  function recordingTc(log: string): string {
    const path = `${log}.sh`;
    writeFileSync(path, `#!/bin/sh\necho "$@" >> '${log}'\nexec tc "$@"\n`);
    chmodSync(path, 0o755);
    return path;
  }

  beforeAll(async () => {
    releaseLock = await acquireOvsLock();
    await ensureOvsRunning();
    agent = await EgressAgent.start({ host: '127.0.0.1', port: 0, tls: material('agent', 'good'), tc: recordingTc(agentLog()) });
    const config = defaultConfig();
    config.openflow.listen = { host: '127.0.0.1', port: 0 };
    config.log.level = 'silent';
    config.links.usePortSpeed = false;
    config.openflow.tls = { cert: join(dir, 'controller.pem'), key: join(dir, 'controller.key'), ca: join(dir, 'good-ca.pem') };
    config.egress.agents = [{ dpid: lab.bridges[0]!.dpidHex, address: { host: '127.0.0.1', port: agent.address.port } }];
    network = new OpenFlowNetwork(config, { egress: { tc: recordingTc(localLog()) } });
    await network.start();
    // the bridge speaks plain TCP to a TLS listener unless told otherwise: dial it over ssl
    await run('ovs-vsctl', ['set-ssl', join(dir, 'agent.key'), join(dir, 'agent.pem'), join(dir, 'good-ca.pem')]);
    await lab.create(network.address!.port);
    await run('ovs-vsctl', ['set-controller', lab.bridges[0]!.name, `ssl:127.0.0.1:${network.address!.port}`]);
    await within(network.switchReady(lab.bridges[0]!.dpid), 60_000, 'the bridge did not connect');
  }, 600_000);

  afterAll(async () => {
    await network?.stop();
    await agent?.close();
    await lab.destroy();
    await run('ovs-vsctl', ['del-ssl']).catch(() => {});
    releaseLock?.();
  }, 120_000);

  test('the host port gets the controller\'s htb through the agent; the controller runs no tc itself', async () => {
    const port = `${lab.hosts[0]!.veth}a`;
    await eventually('the agent shaped the host port', async () => (await run('tc', ['qdisc', 'show', 'dev', port, 'root'])).includes('htb 5046:'), 30_000);
    await network.egressSettled();
    expect(readFileSync(agentLog(), 'utf8')).toContain(`qdisc add dev ${port} root handle 5046: htb`);
    expect(existsSync(localLog())).toBe(false);
    const filters = await run('tc', ['filter', 'show', 'dev', port]);
    expect(filters).toMatch(/match 00b80000\/00fc0000/); // DSCP 46 (gold) → its class
  });
});
