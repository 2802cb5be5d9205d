// The IPv6 probe the controller sends to a restored host (buildNeighborProbe): a Neighbor
// Solicitation from the unspecified address to the target's solicited-node group, and a
// real Linux host in a namespace answering it with a Neighbor Advertisement for its
// address, to all nodes, from its own MAC: what the controller learns the binding from.
// The namespace part needs root: skipped with the reason otherwise.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNeighborProbe, ICMPV6_NA, ICMPV6_NS, icmpv6ChecksumOk, parseFrame } from '../../src/network/hosts.js';
import { PROBE_MAC } from '../../src/network/network.js';
import { run, sendRawFrame, startCapture } from '../helpers/ovs.js';

describe('the neighbour probe', () => {
  it('is a DAD-form Neighbor Solicitation to the solicited-node group, with a valid checksum', () => {
    const f = buildNeighborProbe({ target: 'fd00:91::2:abcd', srcMac: PROBE_MAC });
    const p = parseFrame(f);
    expect(p).toMatchObject({ dstMac: '33:33:ff:02:ab:cd', srcMac: PROBE_MAC, ip: { family: 6, src: '::', dst: 'ff02::1:ff02:abcd' }, nd: { icmpType: ICMPV6_NS, target: 'fd00:91::2:abcd' } });
    expect(f[21]).toBe(255); // hop limit, RFC 4861 §7.1.1
    expect(icmpv6ChecksumOk(f)).toBe(true);
  });
});

const root = typeof process.getuid === 'function' && process.getuid() === 0;

describe.skipIf(!root)(`a Linux host answers the probe${root ? '' : ' (skipped: needs root for namespaces)'}`, () => {
  const tag = String(process.pid % 100000);
  const [asker, host] = [`pfnpa${tag}`, `pfnph${tag}`];
  let dir = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'payflow-ndprobe-'));
    for (const ns of [asker, host]) await run('ip', ['netns', 'add', ns]);
    await run('ip', ['link', 'add', `${asker}`, 'netns', asker, 'type', 'veth', 'peer', 'name', `${host}`, 'netns', host]);
    await run('ip', ['netns', 'exec', asker, 'ip', 'link', 'set', asker, 'up']);
    await run('ip', ['netns', 'exec', host, 'ip', 'link', 'set', host, 'up']);
    await run('ip', ['netns', 'exec', host, 'ip', '-6', 'addr', 'add', 'fd00:91::2/64', 'dev', host, 'nodad']);
  }, 60_000);

  afterAll(async () => {
    for (const ns of [asker, host]) await run('ip', ['netns', 'del', ns]).catch(() => {});
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('with a Neighbor Advertisement for its address from its own MAC', async () => {
    const hostMac = (await run('ip', ['netns', 'exec', host, 'cat', `/sys/class/net/${host}/address`])).trim();
    const capture = await startCapture(asker, asker, 'icmp6 and ip6[40] == 136', join(dir, 'na.pcap'));
    const probe = buildNeighborProbe({ target: 'fd00:91::2', srcMac: PROBE_MAC });
    for (let i = 0; i < 3; i++) await sendRawFrame(asker, asker, probe);
    const frames = (await capture.frames(1, 10_000)).map((f) => parseFrame(f));
    expect(frames.length).toBeGreaterThanOrEqual(1);
    expect(frames[0]).toMatchObject({ srcMac: hostMac, ip: { family: 6, dst: 'ff02::1' }, nd: { icmpType: ICMPV6_NA, target: 'fd00:91::2' } });
  });
});
