// `payflow replay` end to end: the built CLI (node dist/src/cli/main.js replay ...) on captures
// this test writes (classic pcap and pcapng, Ethernet and raw-IP link types), with and without a
// rules file (a wildcard rule sending one flow through an srTCM meter), --json output checked
// field by field, captures cut short (replayed up to the cut, flagged, exit 3), Kuznetsov's
// modified pcap and the nanosecond magic giving the verdicts of the standard pcap, and the
// errors for a file that is not a capture, a cut file header and a bad rules file. Needs
// `npm run build` first (npm test does it).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { replayCapture } from '../../../src/dataplane/capture/replay.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const cli = join(root, 'dist/src/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'payflow-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function replay(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, 'replay', ...args], { encoding: 'utf8', cwd: root });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function checksum(b: Buffer): number {
  let s = 0;
  for (let i = 0; i < b.length; i += 2) s += (b[i]! << 8) | (b[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

function ipv4(src: string, dst: string, proto: number, l4: Buffer, tos = 0): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h[1] = tos;
  h.writeUInt16BE(20 + l4.length, 2);
  h[8] = 64;
  h[9] = proto;
  Buffer.from(src.split('.').map(Number)).copy(h, 12);
  Buffer.from(dst.split('.').map(Number)).copy(h, 16);
  h.writeUInt16BE(checksum(h), 10);
  return Buffer.concat([h, l4]);
}

function ipv6(src: number, dst: number, flowLabel: number, dscp: number, l4: Buffer): Buffer {
  const h = Buffer.alloc(40);
  h.writeUInt32BE(((6 << 28) | ((dscp << 2) << 20) | flowLabel) >>> 0, 0);
  h.writeUInt16BE(l4.length, 4);
  h[6] = 17;
  h[7] = 64;
  // 2001:db8::src and 2001:db8::dst
  h.writeUInt32BE(0x20010db8, 8);
  h[23] = src;
  h.writeUInt32BE(0x20010db8, 24);
  h[39] = dst;
  return Buffer.concat([h, l4]);
}

function udp(sport: number, dport: number, payload: number): Buffer {
  const u = Buffer.alloc(8 + payload);
  u.writeUInt16BE(sport, 0);
  u.writeUInt16BE(dport, 2);
  u.writeUInt16BE(8 + payload, 4);
  return u;
}

function tcp(sport: number, dport: number, payload: number): Buffer {
  const t = Buffer.alloc(20 + payload);
  t.writeUInt16BE(sport, 0);
  t.writeUInt16BE(dport, 2);
  t[12] = 5 << 4;
  t[13] = 0x18;
  t.writeUInt16BE(65535, 14);
  return t;
}

function ethernet(etherType: number, payload: Buffer): Buffer {
  const e = Buffer.alloc(14);
  e.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]);
  e.writeUInt16BE(etherType, 12);
  return Buffer.concat([e, payload]);
}

interface PcapOptions {
  /** byte order (default little-endian) */
  order?: 'le' | 'be';
  /** 'us' (0xA1B2C3D4, the default), 'ns' (0xA1B23C4D) or 'kuznetsov' (0xA1B2CD34: µs, 24-byte record headers) */
  magic?: 'us' | 'ns' | 'kuznetsov';
}

/** Classic pcap (default: little-endian, microseconds); times in µs after 1 700 000 000 s. */
function pcap(linkType: number, packets: { us: number; data: Buffer }[], options: PcapOptions = {}): Buffer {
  const le = (options.order ?? 'le') === 'le';
  const magic = options.magic ?? 'us';
  const u32 = (b: Buffer, v: number, at: number): number => (le ? b.writeUInt32LE(v, at) : b.writeUInt32BE(v, at));
  const u16 = (b: Buffer, v: number, at: number): number => (le ? b.writeUInt16LE(v, at) : b.writeUInt16BE(v, at));
  const h = Buffer.alloc(24);
  u32(h, magic === 'kuznetsov' ? 0xa1b2cd34 : magic === 'ns' ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  u16(h, 2, 4);
  u16(h, 4, 6);
  u32(h, 65535, 16);
  u32(h, linkType, 20);
  const parts = [h];
  for (const p of packets) {
    const r = Buffer.alloc(magic === 'kuznetsov' ? 24 : 16);
    u32(r, 1_700_000_000 + Math.floor(p.us / 1e6), 0);
    u32(r, magic === 'ns' ? (p.us % 1e6) * 1000 : p.us % 1e6, 4);
    u32(r, p.data.length, 8);
    u32(r, p.data.length, 12);
    if (magic === 'kuznetsov') {
      u32(r, 2, 16); // ifindex
      u16(r, 0x0800, 20); // protocol
      r[22] = 0; // pkt_type: PACKET_HOST
    }
    parts.push(r, p.data);
  }
  return Buffer.concat(parts);
}

/** Big-endian pcapng: SHB, `interfaces` IDBs (ns resolution), EPBs. */
function pcapngBE(linkType: number, packets: { ns: bigint; data: Buffer; ifId?: number }[], interfaces = 1): Buffer {
  const blk = (type: number, body: Buffer): Buffer => {
    const pad = Buffer.alloc((4 - (body.length % 4)) % 4);
    const len = 12 + body.length + pad.length;
    const h = Buffer.alloc(8);
    h.writeUInt32BE(type, 0);
    h.writeUInt32BE(len, 4);
    const t = Buffer.alloc(4);
    t.writeUInt32BE(len, 0);
    return Buffer.concat([h, body, pad, t]);
  };
  const shb = Buffer.alloc(16);
  shb.writeUInt32BE(0x1a2b3c4d, 0);
  shb.writeUInt16BE(1, 4);
  shb.writeBigInt64BE(-1n, 8);
  const idb = Buffer.alloc(16);
  idb.writeUInt16BE(linkType, 0);
  idb.writeUInt16BE(9, 8); // if_tsresol = 9: nanoseconds
  idb.writeUInt16BE(1, 10);
  idb[12] = 9;
  const parts = [blk(0x0a0d0d0a, shb)];
  for (let i = 0; i < interfaces; i++) parts.push(blk(1, Buffer.concat([idb, Buffer.alloc(4)])));
  for (const p of packets) {
    const e = Buffer.alloc(20);
    e.writeUInt32BE(p.ifId ?? 0, 0);
    e.writeUInt32BE(Number(p.ns >> 32n), 4);
    e.writeUInt32BE(Number(p.ns & 0xffffffffn), 8);
    e.writeUInt32BE(p.data.length, 12);
    e.writeUInt32BE(p.data.length, 16);
    parts.push(blk(6, Buffer.concat([e, p.data])));
  }
  return Buffer.concat(parts);
}

// The traffic: flow A, 10 UDP packets of 200 bytes 1 µs apart; flow B, 3 TCP packets; flow C,
// 2 IPv6 UDP packets with flow label 0x12345 and DSCP 46; one IPv4 frame cut inside its header.
const flowA = Array.from({ length: 10 }, () => ethernet(0x0800, ipv4('10.0.0.1', '10.0.0.2', 17, udp(1000, 5001, 200 - 14 - 20 - 8))));
const flowB = Array.from({ length: 3 }, (_, i) => ethernet(0x0800, ipv4('10.0.0.3', '10.0.0.4', 6, tcp(2000, 80, 100 * i))));
const flowC = Array.from({ length: 2 }, () => ethernet(0x86dd, ipv6(1, 2, 0x12345, 46, udp(3000, 4000, 50))));
const malformed = ethernet(0x0800, Buffer.from([0x45, 0, 0, 40, 0, 0, 0, 0, 64, 17]));
const all = [...flowA, ...flowB, ...flowC, malformed];
const sum = (frames: Buffer[]): number => frames.reduce((s, f) => s + f.length, 0);

const ipv4Type = { etherType: 0x0800, etherTypeName: 'ipv4' };
const expectedFlows = [
  { src: '10.0.0.1', dst: '10.0.0.2', proto: 17, sport: 1000, dport: 5001, flowLabel: 0, dscp: 0, packets: 10, bytes: 2000, ...ipv4Type },
  { src: '10.0.0.3', dst: '10.0.0.4', proto: 6, sport: 2000, dport: 80, flowLabel: 0, dscp: 0, packets: 3, bytes: sum(flowB), ...ipv4Type },
  { src: '2001:db8::1', dst: '2001:db8::2', proto: 17, sport: 3000, dport: 4000, flowLabel: 0x12345, dscp: 46, packets: 2, bytes: sum(flowC), etherType: 0x86dd, etherTypeName: 'ipv6' },
];

interface JsonOut {
  packets: number;
  malformed: number;
  flows: (typeof expectedFlows)[number][];
}

function sorted(flows: JsonOut['flows']): JsonOut['flows'] {
  return [...flows].sort((a, b) => a.sport - b.sport);
}

describe('payflow replay', () => {
  it('the CLI has been built', () => {
    expect(existsSync(cli), `${cli} missing: run npm run build`).toBe(true);
  });

  const pcapPath = join(dir, 'traffic.pcap');
  writeFileSync(pcapPath, pcap(1, all.map((data, i) => ({ us: i, data }))));

  for (const engine of ['wasm', 'ts']) {
    it(`--json on a classic pcap (${engine} engine): exactly one object with per-flow counts`, () => {
      const r = replay(pcapPath, '--json', '--engine', engine);
      expect(r.stderr).toMatch(/replay: 16 packets in/);
      expect(r.code).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      const out = JSON.parse(lines[0]!) as JsonOut;
      expect(Object.keys(out)).toEqual(['packets', 'malformed', 'flows']);
      expect(out.packets).toBe(16);
      expect(out.malformed).toBe(1);
      expect(sorted(out.flows)).toEqual(expectedFlows);
      // the documented fields in their order, then the EtherType
      for (const f of out.flows) expect(Object.keys(f)).toEqual(['src', 'dst', 'proto', 'sport', 'dport', 'flowLabel', 'dscp', 'packets', 'bytes', 'etherType', 'etherTypeName']);
    });
  }

  it('a big-endian pcapng of raw IP packets gives the same flows (synthetic Ethernet header)', () => {
    const path = join(dir, 'raw.pcapng');
    const raw = [...flowA, ...flowB, ...flowC].map((f) => f.subarray(14));
    writeFileSync(path, pcapngBE(101, raw.map((data, i) => ({ ns: 1_700_000_000_000_000_000n + BigInt(i * 1000), data }))));
    const r = replay(path, '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as JsonOut;
    expect(out.packets).toBe(15);
    expect(out.malformed).toBe(0);
    expect(sorted(out.flows)).toEqual(expectedFlows); // bytes include the 14-byte header added
  });

  it('a pcapng interface is the ingress port: a rule on inPort 1 drops only what interface 1 saw', () => {
    const path = join(dir, 'two-ports.pcapng');
    const packets = flowA.map((data, i) => ({ ns: BigInt(i), data, ifId: i % 2 }));
    writeFileSync(path, pcapngBE(1, packets, 2));
    const rules = join(dir, 'port-rules.json');
    writeFileSync(rules, JSON.stringify({ rules: [{ priority: 5, inPort: 1, action: { action: 'drop' } }] }));
    const r = replay(path, '--rules', rules);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/verdicts: 5 forward, 0 downgraded, 5 dropped/);
  });

  it('--rules (YAML): a wildcard rule puts flow A through an srTCM meter', () => {
    const rules = join(dir, 'rules.yaml');
    writeFileSync(
      rules,
      [
        '# flow A: srTCM CIR 1000 B/s, CBS 1000, EBS 400 -> of ten 200-byte packets 1 µs apart,',
        '# 5 are green (1000 B), 2 yellow (400 B), 3 red',
        'meters:',
        '  - { id: 1, mode: srTCM, cir: 1000, cbs: 1000, ebs: 400 }',
        'classes:',
        '  - { id: 15, basePrice: 0.16, cmaxBps: 1000000, targetBps: 500000, maxPrice: 1.6, reservedBps: 600000 }',
        '  - { id: 12, basePrice: 0.09, cmaxBps: 1000000, targetBps: 700000, maxPrice: 0.9, reservedBps: 800000 }',
        'rules:',
        '  - priority: 10',
        '    src: 10.0.0.0/24',
        '    proto: 17',
        '    dport: [5000, 5010]',
        '    action: { action: forward, class: 15, dscp: 46, meter: 1 }',
        'bestEffort: { class: 0, queue: 0, dscp: 0 }',
      ].join('\n'),
    );
    const r = replay(pcapPath, '--rules', rules);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/traffic\.pcap: pcap, 16 packets, 1 malformed/);
    expect(r.stdout).toMatch(/2 downgraded, 4 dropped/); // 3 red + the malformed frame
    expect(r.stdout).toMatch(/2 yellow, 3 red/);
    expect(r.stdout).toMatch(/engine wasm: 16 packets in [\d.]+ s = [\d.]+ [kM]pps overall/);
    // class 15 carries flow A's green bytes: 5 x 200 B = 8000 bit over the 15 µs the capture spans
    // = 533.333 Mbit/s, far above Cmax: the price is held at Pmax = 1.6
    expect(r.stdout).toMatch(/class 15: price 1\.600000 per Mbit, demand 533\.333 Mbit\/s/);
    // class 12 carries nothing; 800 kbit/s reserved: 0.09 * 10^((800 000 - 700 000) / 300 000) = 0.09 * 10^(1/3) = 0.193899
    expect(r.stdout).toMatch(/class 12: price 0\.193899 per Mbit, demand 0\.800 Mbit\/s/);
    expect(r.stdout).toMatch(/10\.0\.0\.1\s+10\.0\.0\.2\s+17\s+1000\s+5001\s+0\s+0\s+10\s+2000\s+5\/2\/3/);
    // the same rules as JSON, through the TypeScript twin: the same colours
    const jsonRules = join(dir, 'rules.json');
    writeFileSync(jsonRules, JSON.stringify({
      meters: [{ id: 1, mode: 'srTCM', cir: 1000, cbs: 1000, ebs: 400 }],
      rules: [{ priority: 10, src: '10.0.0.0/24', proto: 17, dport: [5000, 5010], action: { action: 'forward', meter: 1 } }],
    }));
    const t = replay(pcapPath, '--rules', jsonRules, '--engine', 'ts');
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/2 yellow, 3 red/);
  });

  it("a class's excess (degrade | drop) decides what its out-of-profile packets get, in both engines", () => {
    // flow A through the srTCM meter above: 5 green, 2 yellow, 3 red; the malformed frame is dropped anyway
    const withExcess = (excess: string | undefined): string => {
      const path = join(dir, `excess-${excess ?? 'default'}.yaml`);
      writeFileSync(
        path,
        [
          'meters:',
          '  - { id: 1, mode: srTCM, cir: 1000, cbs: 1000, ebs: 400 }',
          'classes:',
          `  - { id: 15, basePrice: 0.16, cmaxBps: 1000000, targetBps: 500000${excess ? `, excess: ${excess}` : ''} }`,
          'rules:',
          '  - { priority: 10, src: 10.0.0.0/24, proto: 17, dport: 5001, action: { action: forward, class: 15, dscp: 46, meter: 1 } }',
          'bestEffort: { class: 0, queue: 0, dscp: 0 }',
        ].join('\n'),
      );
      return path;
    };
    const expected: [string | undefined, RegExp][] = [
      [undefined, /verdicts: 10 forward, 2 downgraded, 4 dropped; colours: \d+ green, 2 yellow, 3 red/], // yellow degraded, red dropped
      ['degrade', /verdicts: 10 forward, 5 downgraded, 1 dropped; colours: \d+ green, 2 yellow, 3 red/],
      ['drop', /verdicts: 10 forward, 0 downgraded, 6 dropped; colours: \d+ green, 2 yellow, 3 red/],
    ];
    for (const engine of ['wasm', 'ts']) {
      for (const [excess, verdicts] of expected) {
        const r = replay(pcapPath, '--rules', withExcess(excess), '--engine', engine);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout, `${engine} ${excess ?? 'default'}`).toMatch(verdicts);
      }
    }
    const bad = withExcess('squeeze');
    const r = replay(pcapPath, '--rules', bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${bad}: classes[0].excess: expected 'drop' or 'degrade', got "squeeze"`);
    expect(r.stdout).toBe('');
  });

  it('a file that is not a capture, a cut file header, a missing file: a clear error and exit 1', () => {
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'this is not a capture\n');
    const r = replay(text, '--json');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/notes\.txt is not a pcap or pcapng capture/);
    const cut = join(dir, 'cut-header.pcap');
    writeFileSync(cut, pcap(1, all.map((data, i) => ({ us: i, data }))).subarray(0, 20));
    const c = replay(cut, '--json');
    expect(c.code).toBe(1);
    expect(c.stdout).toBe('');
    expect(c.stderr).toMatch(/pcap file header cut short \(20 of 24 bytes\)/);
    const m = replay(join(dir, 'nope.pcap'));
    expect(m.code).toBe(1);
    expect(m.stderr).toMatch(/cannot open/);
  });

  describe('a capture cut short (the writer killed mid-write)', () => {
    const full = pcap(1, all.map((data, i) => ({ us: i, data })));
    /** byte offset of record i in `full` */
    const recordAt = (i: number): number => 24 + all.slice(0, i).reduce((n, f) => n + 16 + f.length, 0);

    it('--json: the records before the cut are replayed and counted, "truncated" says where; exit 3', () => {
      const path = join(dir, 'cut-data.pcap');
      writeFileSync(path, full.subarray(0, full.length - 5)); // inside the data of record 15 (the malformed frame)
      const r = replay(path, '--json');
      expect(r.code, r.stderr).toBe(3);
      const lines = r.stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      const out = JSON.parse(lines[0]!) as JsonOut & { truncated: { offset: number; records: number } };
      expect(Object.keys(out)).toEqual(['packets', 'malformed', 'flows', 'truncated']); // the contract's fields, then the new one
      expect(out.packets).toBe(15);
      expect(out.malformed).toBe(0);
      expect(sorted(out.flows)).toEqual(expectedFlows);
      expect(out.truncated).toEqual({ offset: recordAt(15), records: 15 });
      expect(r.stderr).toMatch(/replay: 15 packets in/);
      expect(r.stderr).toMatch(new RegExp(`warning: .*cut-data\\.pcap: record 15 at byte ${recordAt(15)} cut short: ${all[15]!.length - 5} of ${all[15]!.length} packet bytes`));
    });

    for (const order of ['le', 'be'] as const) {
      it(`cut inside a record header (${order === 'le' ? 'little' : 'big'}-endian pcap): the table names the cut; exit 3`, () => {
        const file = pcap(1, all.map((data, i) => ({ us: i, data })), { order });
        const path = join(dir, `cut-header-${order}.pcap`);
        writeFileSync(path, file.subarray(0, recordAt(13) + 7)); // 7 bytes into record 13's header: flows A and B only
        const r = replay(path);
        expect(r.code, r.stderr).toBe(3);
        expect(r.stdout).toMatch(new RegExp(`cut-header-${order}\\.pcap: pcap, 13 packets, 0 malformed\n`));
        expect(r.stdout).toMatch(new RegExp(`truncated: the file \\(${recordAt(13) + 7} bytes\\) ends inside the record at byte ${recordAt(13)}; the 13 complete packet records before it were replayed`));
        expect(r.stdout).toMatch(/verdicts: 13 forward, 0 downgraded, 0 dropped/);
        expect(r.stdout).toMatch(/10\.0\.0\.1\s+10\.0\.0\.2\s+17\s+1000\s+5001\s+0\s+0\s+10\s+2000\s/);
        expect(r.stdout).toMatch(/^2 flows:/m);
        expect(r.stderr).toMatch(/warning: .*record 13 at byte \d+ cut short: header has 7 of 16 bytes/);
        const j = JSON.parse(replay(path, '--json', '--engine', 'ts').stdout) as JsonOut & { truncated: unknown };
        expect(j.packets).toBe(13);
        expect(sorted(j.flows)).toEqual(expectedFlows.slice(0, 2));
        expect(j.truncated).toEqual({ offset: recordAt(13), records: 13 });
      });
    }

    it('a big-endian pcapng cut inside a packet block: the same, at the block\'s offset', () => {
      const raw = [...flowA, ...flowB, ...flowC].map((f) => f.subarray(14));
      const file = pcapngBE(101, raw.map((data, i) => ({ ns: BigInt(i * 1000), data })));
      // blocks: SHB 28 bytes, IDB 32, then EPBs of 32 + the data padded to 4
      const blockAt = (i: number): number => 28 + 32 + raw.slice(0, i).reduce((n, d) => n + 32 + ((d.length + 3) & ~3), 0);
      const path = join(dir, 'cut.pcapng');
      writeFileSync(path, file.subarray(0, blockAt(12) + 40)); // inside packet 12's data: flow A and two of flow B
      const r = replay(path, '--json');
      expect(r.code, r.stderr).toBe(3);
      const out = JSON.parse(r.stdout) as JsonOut & { truncated: unknown };
      expect(out.packets).toBe(12);
      expect(out.truncated).toEqual({ offset: blockAt(12), records: 12 });
      expect(sorted(out.flows).map((f) => [f.sport, f.packets])).toEqual([[1000, 10], [2000, 2]]);
      expect(r.stderr).toMatch(new RegExp(`warning: .*block at byte ${blockAt(12)} cut short`));
      const t = replay(path);
      expect(t.code).toBe(3);
      expect(t.stdout).toMatch(new RegExp(`ends inside the block at byte ${blockAt(12)}; the 12 complete packet records`));
    });

    it('replayCapture (library): result.truncated with offset, records, file size and message', async () => {
      const path = join(dir, 'cut-lib.pcap');
      const cut = full.subarray(0, recordAt(3) + 20);
      writeFileSync(path, cut);
      const result = await replayCapture(path, { engine: 'ts' });
      expect(result.packets).toBe(3);
      expect(result.counters.actions[0]).toBe(3);
      expect(result.truncated).toEqual({
        offset: recordAt(3),
        records: 3,
        fileSize: cut.length,
        message: `${path}: record 3 at byte ${recordAt(3)} cut short: 4 of 200 packet bytes`,
      });
      expect((await replayCapture(pcapPath, { engine: 'ts' })).truncated).toBeNull();
    });
  });

  it("Kuznetsov's modified pcap (0xA1B2CD34) in both byte orders and the nanosecond pcap give the standard pcap's verdicts", () => {
    const rules = join(dir, 'meter-rules.yaml');
    writeFileSync(
      rules,
      [
        'meters:',
        '  - { id: 1, mode: srTCM, cir: 1000, cbs: 1000, ebs: 400 }',
        'rules:',
        '  - { priority: 10, src: 10.0.0.0/24, proto: 17, dport: 5001, action: { action: forward, class: 15, dscp: 46, meter: 1 } }',
        '  - { priority: 5, proto: 6, action: { action: drop } }',
      ].join('\n'),
    );
    // 100 ms apart: the meter refills 100 bytes between packets, so the colours depend on the
    // timestamps being read at the right scale (µs for Kuznetsov's format, ns for 0xA1B23C4D)
    const packets = all.map((data, i) => ({ us: i * 100_000, data }));
    const run = (name: string, options: PcapOptions): { text: string; json: string } => {
      const path = join(dir, `${name}.pcap`);
      writeFileSync(path, pcap(1, packets, options));
      const t = replay(path, '--rules', rules);
      expect(t.code, `${name}: ${t.stderr}`).toBe(0);
      const j = replay(path, '--rules', rules, '--json');
      expect(j.code, `${name}: ${j.stderr}`).toBe(0);
      // everything but the file name and the timing line
      const text = t.stdout.split('\n').filter((l) => !l.startsWith('engine ')).join('\n').replace(`${path}: `, '');
      return { text, json: j.stdout };
    };
    const standard = run('standard-us', {});
    expect(standard.text).toMatch(/^pcap, 16 packets, 1 malformed/);
    // flow A: srTCM with 100 B of tokens between 200-byte packets: 9 green, then 1 yellow (read as
    // ns the refill would vanish: 5/2/3); TCP dropped by the rule, plus the malformed frame
    expect(standard.text).toMatch(/verdicts: 11 forward, 1 downgraded, 4 dropped; colours: 15 green, 1 yellow, 0 red/);
    expect(standard.text).toMatch(/10\.0\.0\.1\s+10\.0\.0\.2\s+17\s+1000\s+5001\s+0\s+0\s+10\s+2000\s+9\/1\/0/);
    for (const [name, options] of [
      ['kuznetsov-le', { magic: 'kuznetsov', order: 'le' }],
      ['kuznetsov-be', { magic: 'kuznetsov', order: 'be' }],
      ['nanosecond-le', { magic: 'ns', order: 'le' }],
      ['nanosecond-be', { magic: 'ns', order: 'be' }],
    ] as const) {
      const other = run(name, options);
      expect(other.text, name).toBe(standard.text);
      expect(other.json, name).toBe(standard.json);
    }
  });

  it('bad rules files and bad options are refused before any packet is read', () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'meters:\n  - { id: 1, mode: trTCM, cir: 2000, cbs: 100, pir: 1000, pbs: 100 }\n');
    const r = replay(pcapPath, '--rules', bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad rules file: .*meters\[0\]: PIR below CIR \(code -21\)/);
    writeFileSync(bad, 'rules:\n  - { priority: 1, dport: 70000, action: { action: forward } }\n');
    expect(replay(pcapPath, '--rules', bad).stderr).toMatch(/rules\[0\]\.dport: expected a port/);
    writeFileSync(bad, 'colours: 3\n');
    expect(replay(pcapPath, '--rules', bad).stderr).toMatch(/unknown key 'colours'/);
    const u = replay(pcapPath, '--engine', 'gpu');
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/--engine must be wasm or ts/);
  });

  it('--progress prints a progress line on stderr (here: the closing one) and the counts stay right', () => {
    const path = join(dir, 'big.pcap');
    const frames = Array.from({ length: 60_000 }, (_, i) => ({ us: i, data: flowA[0]! }));
    writeFileSync(path, pcap(1, frames));
    const r = spawnSync(process.execPath, [cli, 'replay', path, '--progress', '--json'], {
      encoding: 'utf8',
      cwd: root,
      env: { ...process.env },
    });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/replay: 100\.0% of 12\.\d MiB, 60000 packets, [\d.]+ [kM]pps/);
    const out = JSON.parse(r.stdout) as JsonOut;
    expect(out.packets).toBe(60_000);
    expect(out.flows).toHaveLength(1);
    expect(out.flows[0]!.bytes).toBe(60_000 * 200);
  });

  describe('frames that are not IP: one row per EtherType', () => {
    const arp = ethernet(0x0806, Buffer.alloc(28));
    const lldp = ethernet(0x88cc, Buffer.alloc(40));
    const unnamed = ethernet(0x88b5, Buffer.alloc(30)); // IEEE 802 local experimental
    // an 802.1Q-tagged ARP frame (VLAN 5): the engine keys it apart, the replay adds it to ARP
    const taggedArp = Buffer.concat([Buffer.from([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x81, 0x00, 0x00, 0x05, 0x08, 0x06]), Buffer.alloc(28)]);
    const frames = [...flowA.slice(0, 2), arp, arp, taggedArp, lldp, unnamed];
    const path = join(dir, 'non-ip.pcap');
    writeFileSync(path, pcap(1, frames.map((data, i) => ({ us: i, data }))));

    for (const engine of ['wasm', 'ts']) {
      it(`--json (${engine} engine): non-IP rows have src and dst null, their EtherType and its name`, () => {
        const r = replay(path, '--json', '--engine', engine);
        expect(r.code, r.stderr).toBe(0);
        const out = JSON.parse(r.stdout) as { packets: number; malformed: number; flows: Record<string, unknown>[] };
        expect(out.packets).toBe(7);
        expect(out.malformed).toBe(0);
        const nonIp = (type: number) => out.flows.find((f) => f['etherType'] === type);
        expect(nonIp(0x0806)).toEqual({ src: null, dst: null, proto: 0, sport: 0, dport: 0, flowLabel: 0, dscp: 0, packets: 3, bytes: 2 * arp.length + taggedArp.length, etherType: 0x0806, etherTypeName: 'arp' });
        expect(nonIp(0x88cc)).toMatchObject({ src: null, dst: null, packets: 1, bytes: lldp.length, etherTypeName: 'lldp' });
        expect(nonIp(0x88b5)).toMatchObject({ src: null, dst: null, packets: 1, etherTypeName: null });
        expect(out.flows.filter((f) => f['src'] !== null)).toEqual([{ ...expectedFlows[0], packets: 2, bytes: 400 }]);
        expect(out.flows).toHaveLength(4);
        expect(JSON.stringify(out)).not.toContain('0.0.0.0');
      });
    }

    it('the table names them: "arp (0x0806)", never "0.0.0.0 0.0.0.0"', () => {
      const r = replay(path);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^1 flows and 3 non-IP EtherTypes:/m);
      expect(r.stdout).toMatch(/^ {2}arp \(0x0806\)\s+\(not IP\)\s+-\s+-\s+-\s+-\s+-\s+3\s+\d+\s+3\/0\/0$/m);
      expect(r.stdout).toMatch(/^ {2}lldp \(0x88cc\)\s+\(not IP\)/m);
      expect(r.stdout).toMatch(/^ {2}ethertype 0x88b5\s+\(not IP\)/m);
      expect(r.stdout).not.toContain('0.0.0.0');
    });

    it('replayCapture (library): a non-IP row is marked ip: false', async () => {
      const result = await replayCapture(path, { engine: 'ts' });
      const arpRow = result.flows.find((f) => f.etherType === 0x0806)!;
      expect(arpRow).toMatchObject({ ip: false, src: null, dst: null, packets: 3, colors: [3, 0, 0] });
      expect(result.flows.find((f) => f.ip)).toMatchObject({ etherType: 0x0800, etherTypeName: 'ipv4', src: '10.0.0.1' });
    });
  });
});
