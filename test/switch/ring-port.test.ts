// The switch's ring ports (src/switch/ports.ts RingPort: TPACKET_V2 receive and transmit
// rings, packet_mmap.rst) over real veth pairs into two network namespaces: frames sent in one
// namespace are read from the receive ring, copied into the other port's transmit ring and
// captured as they arrive in the other namespace. Also: a ring smaller than the traffic (the
// ring wraps around many times), a frame longer than a ring slot (dropped and counted, never
// forwarded cut), runt and malformed frames (carried as they are: the pipeline judges them),
// and a VLAN tag the kernel moved into the slot header (put back into the frame).
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { C_RX_DROPPED, C_RX_ERRORS, C_RX_PACKETS, C_TX_PACKETS, PacketPort, PORT_COUNTERS, RingPort, openPort, type SwitchPort } from '../../src/switch/ports.js';
import { Capture, createHost, removeHost, sendFrames, type Host } from './netns.js';

const tag = String(process.pid % 100000);
let a: Host;
let b: Host;
let input: RingPort;
let output: RingPort;

/** An Ethernet frame to b's eth0 carrying `seq` in its first payload bytes, `size` bytes long. */
function frame(seq: number, size = 64, ethertype = 0x88b5): Uint8Array {
  const f = new Uint8Array(size);
  f.set([0x02, 0, 0, 0, 0, 0x0b, 0x02, 0, 0, 0, 0, 0x0a, ethertype >> 8, ethertype & 0xff]);
  new DataView(f.buffer).setUint32(14, seq);
  for (let i = 18; i < size; i++) f[i] = i & 0xff;
  return f;
}

/** Reads what the input ring holds until `count` frames came or `ms` passed; each goes out of `output`. */
async function forward(count: number, ms = 3000): Promise<Uint8Array[]> {
  const got: Uint8Array[] = [];
  const end = Date.now() + ms;
  while (got.length < count && Date.now() < end) {
    const n = input.receive();
    for (let i = 0; i < n; i++) {
      const at = input.rxFirst + i * input.rxStride;
      got.push(input.rx.slice(at, at + input.rxLengths[i]!));
      output.queueCopy(input.rx, at, input.rxLengths[i]!);
    }
    output.flush();
    input.release();
    if (n === 0) await new Promise((r) => setTimeout(r, 1));
  }
  return got;
}

const seqOf = (f: Uint8Array): number => new DataView(f.buffer, f.byteOffset).getUint32(14);
const ours = (frames: Uint8Array[]): Uint8Array[] => frames.filter((f) => f[12] === 0x88 && f[13] === 0xb5);

beforeAll(() => {
  a = createHost(`pfrgA${tag}`, `pfrga${tag}`);
  b = createHost(`pfrgB${tag}`, `pfrgb${tag}`);
  // batch 8 and 32 slots: 100 frames go round the receive ring three times. No wait bound: the
  // frames here wait for a child process to send them (the bound has a test of its own).
  input = new RingPort(a.rootIf, 1, new Float64Array(PORT_COUNTERS), 8, 32, 0);
  output = new RingPort(b.rootIf, 2, new Float64Array(PORT_COUNTERS), 8, 32, 0);
});

afterAll(() => {
  input?.close();
  output?.close();
  if (a) removeHost(a);
  if (b) removeHost(b);
});

describe('ring ports (TPACKET_V2) on veth', () => {
  it('opens with rings, sized from the interface', () => {
    expect(input.io).toBe('ring');
    expect(input.ringFrames).toBe(32);
    expect(input.rxStride).toBe(2048);
    const opened = openPort(b.rootIf, 3, new Float64Array(PORT_COUNTERS), { io: 'mmsg' });
    expect(opened.port.io).toBe('mmsg');
    expect(opened.fallback).toBeUndefined();
    opened.port.close();
  });

  it('carries frames in order through more frames than ring slots, and counts them', async () => {
    const cap = new Capture(b);
    await cap.ready;
    const sent: Uint8Array[] = [];
    const received: Uint8Array[] = [];
    for (let burst = 0; burst < 10; burst++) {
      const frames = Array.from({ length: 10 }, (_, i) => frame(burst * 10 + i, 60 + burst * 50));
      sent.push(...frames);
      sendFrames(a, frames);
      received.push(...ours(await forward(10)));
    }
    expect(received.map(seqOf)).toEqual(sent.map(seqOf));
    expect(received).toEqual(sent);
    const out = ours(await cap.stop());
    expect(out.map(seqOf)).toEqual(sent.map(seqOf));
    expect(out).toEqual(sent);
    expect(input.counters[C_RX_PACKETS]).toBeGreaterThanOrEqual(100);
    expect(output.counters[C_TX_PACKETS]).toBe(input.counters[C_RX_PACKETS]);
  });

  it('carries runt and malformed frames as they are', async () => {
    const txBefore = output.counters[C_TX_PACKETS]!;
    const runt = frame(7, 20);
    const badIp = frame(8, 60, 0x0800);
    badIp[14] = 0x4f; // IPv4 with a header longer than the frame
    const cap = new Capture(b);
    await cap.ready;
    sendFrames(a, [runt, badIp, frame(9)]);
    const got = await forward(3);
    const out = await cap.stop();
    expect(got).toEqual([runt, badIp, frame(9)]);
    expect(output.counters[C_TX_PACKETS]! - txBefore).toBeGreaterThanOrEqual(3);
    // (the veth pair itself does not deliver the broken IPv4 header into the namespace, by any socket)
    expect(out.filter((f) => f.length >= 18 && f[12] === 0x88 && seqOf(f) >= 7 && seqOf(f) <= 9)).toEqual([runt, frame(9)]);
  });

  it('drops and counts a frame longer than a ring slot, and goes on with the next', async () => {
    for (const [ns, dev] of [[undefined, a.rootIf], [a.ns, 'eth0']] as const) {
      execFileSync('ip', [...(ns ? ['-n', ns] : []), 'link', 'set', dev, 'mtu', '9000']);
    }
    try {
      const errorsBefore = input.counters[C_RX_ERRORS]!;
      sendFrames(a, [frame(20, 4000), frame(21)]);
      const got = ours(await forward(1));
      expect(got.map(seqOf)).toEqual([21]);
      expect(input.counters[C_RX_ERRORS]! - errorsBefore).toBe(1);
    } finally {
      for (const [ns, dev] of [[undefined, a.rootIf], [a.ns, 'eth0']] as const) {
        execFileSync('ip', [...(ns ? ['-n', ns] : []), 'link', 'set', dev, 'mtu', '1500']);
      }
    }
  });

  it('drops from a full ring the frames that arrived more than the bound before the newest', async () => {
    const bounded = new RingPort(a.rootIf, 4, new Float64Array(PORT_COUNTERS), 8, 32, 2);
    try {
      // A few frames are forwarded however long they waited.
      sendFrames(a, Array.from({ length: 3 }, (_, i) => frame(40 + i)));
      await new Promise((r) => setTimeout(r, 20));
      expect(bounded.receive()).toBe(3);
      bounded.release();
      // 16 frames, 20 ms later 24 more: the 32 slots fill up, and the first 16 are stale.
      sendFrames(a, Array.from({ length: 16 }, (_, i) => frame(100 + i)));
      await new Promise((r) => setTimeout(r, 20));
      sendFrames(a, Array.from({ length: 24 }, (_, i) => frame(200 + i)));
      const n = bounded.receive();
      expect(n).toBe(8);
      expect(seqOf(bounded.rx.subarray(bounded.rxFirst))).toBe(200);
      bounded.release();
      expect(bounded.counters[C_RX_DROPPED]).toBeGreaterThanOrEqual(16);
    } finally {
      bounded.close();
      await forward(1000, 200); // what the other port got meanwhile
    }
  });

  it('puts back a VLAN tag the kernel took into the slot header', async () => {
    const tagged = new Uint8Array(68);
    tagged.set(frame(30).subarray(0, 12));
    tagged.set([0x81, 0x00, 0x20, 0x0a, 0x88, 0xb5, 0, 0, 0, 30], 12); // PCP 1, VID 10
    sendFrames(a, [tagged]);
    const got = (await forward(1)).filter((f) => f[12] === 0x81);
    expect(got).toEqual([tagged]);
  });
});

/** What `port` receives until `count` frames of ours came or `ms` passed, with their receive times. */
async function receiveFrom(port: SwitchPort, count: number, ms = 3000): Promise<{ frames: Uint8Array[]; stamps: number[] }> {
  const frames: Uint8Array[] = [];
  const stamps: number[] = [];
  const end = Date.now() + ms;
  while (frames.length < count && Date.now() < end) {
    const n = port.receive();
    for (let i = 0; i < n; i++) {
      const at = port.rxFirst + i * port.rxStride;
      const f = port.rx.slice(at, at + port.rxLengths[i]!);
      if (ours([f]).length === 0 && f[12] !== 0x81) continue;
      frames.push(f);
      stamps.push(port.arrivalMs(i));
    }
    port.release();
    if (n === 0) await new Promise((r) => setTimeout(r, 1));
  }
  return { frames, stamps };
}

describe('recvmmsg ports (the fallback) on veth', () => {
  let mmsg: PacketPort;
  beforeAll(() => {
    mmsg = new PacketPort(a.rootIf, 5, new Float64Array(PORT_COUNTERS), 8);
  });
  afterAll(async () => {
    mmsg?.close();
    await forward(1000, 200); // what the ring port got meanwhile
  });

  it('stamps each frame with its kernel receive time, in arrival order', async () => {
    const before = Date.now();
    sendFrames(a, Array.from({ length: 20 }, (_, i) => frame(300 + i)));
    const { frames, stamps } = await receiveFrom(mmsg, 20);
    expect(frames.map(seqOf)).toEqual(Array.from({ length: 20 }, (_, i) => 300 + i));
    for (const [i, t] of stamps.entries()) {
      expect(t).toBeGreaterThanOrEqual(before - 1);
      expect(t).toBeLessThanOrEqual(Date.now() + 1);
      if (i > 0) expect(t).toBeGreaterThanOrEqual(stamps[i - 1]!);
    }
  });

  it('puts back a VLAN tag the kernel took off (PACKET_AUXDATA)', async () => {
    const tagged = new Uint8Array(68);
    tagged.set(frame(31).subarray(0, 12));
    tagged.set([0x81, 0x00, 0x20, 0x0a, 0x88, 0xb5, 0, 0, 0, 31], 12); // PCP 1, VID 10
    sendFrames(a, [tagged]);
    const { frames } = await receiveFrom(mmsg, 1);
    expect(frames.filter((f) => f[12] === 0x81)).toEqual([tagged]);
  });

  it('drops and counts a frame longer than a slot, and keeps the frames around it in order', async () => {
    for (const [ns, dev] of [[undefined, a.rootIf], [a.ns, 'eth0']] as const) {
      execFileSync('ip', [...(ns ? ['-n', ns] : []), 'link', 'set', dev, 'mtu', '9000']);
    }
    try {
      const errorsBefore = mmsg.counters[C_RX_ERRORS]!;
      sendFrames(a, [frame(60), frame(61, 4000), frame(62), frame(63)]);
      const { frames } = await receiveFrom(mmsg, 3);
      expect(frames.map(seqOf)).toEqual([60, 62, 63]);
      expect(frames[1]).toEqual(frame(62));
      expect(mmsg.counters[C_RX_ERRORS]! - errorsBefore).toBe(1);
    } finally {
      for (const [ns, dev] of [[undefined, a.rootIf], [a.ns, 'eth0']] as const) {
        execFileSync('ip', [...(ns ? ['-n', ns] : []), 'link', 'set', dev, 'mtu', '1500']);
      }
    }
  });
});
