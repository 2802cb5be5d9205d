// Exact-match flow table: insert, lookup, delete, idle expiry (both engines), slot reuse after
// deletes (backward-shift deletion keeps every other key reachable), a full table, and a
// 1M-flow table filled through the batch API (wasm Engine).
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/dataplane/engine.js';
import { udpFrame, flowTuple, ipv4Text } from '../../src/dataplane/synthetic.js';
import { DataPlaneError, type FlowKeyFields } from '../../src/dataplane/types.js';
import { engineKinds, makeEngine } from './engines.js';

function keyOf(i: number): FlowKeyFields {
  const t = flowTuple(i);
  return { inPort: 1, src: ipv4Text(t.src), dst: ipv4Text(t.dst), proto: 17, sport: t.sport, dport: t.dport };
}

for (const kind of engineKinds) {
  describe(`flow table (${kind})`, () => {
    it('inserts, looks up and deletes flows; deleted slots do not hide other keys', () => {
      const e = makeEngine(kind, { flowCapacity: 1000 });
      const ids = new Map<number, number>();
      for (let i = 0; i < 1000; i++) ids.set(i, e.insertFlow(keyOf(i), { action: 'forward', class: 1 }));
      expect(e.flowsInUse).toBe(1000);
      expect(new Set(ids.values()).size).toBe(1000);
      for (let i = 0; i < 1000; i++) expect(e.lookupFlow(keyOf(i))).toBe(ids.get(i));
      expect(e.lookupFlow(keyOf(5000))).toBe(-1);
      expect(() => e.insertFlow(keyOf(5000), { action: 'forward' })).toThrow(DataPlaneError);
      for (let i = 0; i < 1000; i += 2) expect(e.deleteFlow(keyOf(i))).toBe(true);
      expect(e.deleteFlow(keyOf(0))).toBe(false);
      expect(e.flowsInUse).toBe(500);
      for (let i = 0; i < 1000; i++) expect(e.lookupFlow(keyOf(i))).toBe(i % 2 ? ids.get(i) : -1);
      // freed entries are reused
      for (let i = 1000; i < 1500; i++) expect(e.insertFlow(keyOf(i), { action: 'drop' })).toBeGreaterThanOrEqual(0);
      expect(e.flowsInUse).toBe(1000);
      for (let i = 1; i < 1500; i += 2) if (i < 1000) expect(e.lookupFlow(keyOf(i))).toBe(ids.get(i));
    });

    it('a pinned flow keeps its action; packets are counted on it', () => {
      const e = makeEngine(kind, { flowCapacity: 16 });
      e.setRule(0, { priority: 10, action: { action: 'drop' } }); // matches everything
      const id = e.insertFlow(keyOf(1), { action: 'forward', class: 3, queue: 5, dscp: 46 });
      const r = e.process([udpFrame(1), udpFrame(2)], 100, 1);
      expect(r.verdict(0)).toMatchObject({ action: 0, flow: id, class: 3, queue: 5, dscp: 46, rule: -1 });
      expect(r.verdict(1)).toMatchObject({ action: 2, rule: 0 });
      expect(e.flow(id)!.packets).toEqual([1, 0, 0]);
      expect(e.flow(id)!.pinned).toBe(true);
    });

    it('expires idle flows but not pinned ones', () => {
      const e = makeEngine(kind, { flowCapacity: 64 });
      const pinned = e.insertFlow(keyOf(99), { action: 'forward' }, 0);
      e.process([udpFrame(1), udpFrame(2)], 1_000, 1);
      e.process([udpFrame(3)], 5_000, 1);
      expect(e.flowsInUse).toBe(4);
      expect(e.expireIdle(6_000, 2_000)).toBe(2); // flows 1 and 2 idle for 5 µs
      expect(e.lookupFlow(keyOf(1))).toBe(-1);
      expect(e.lookupFlow(keyOf(3))).toBeGreaterThanOrEqual(0);
      expect(e.lookupFlow(keyOf(99))).toBe(pinned);
      expect(e.counters().flowsExpired).toBe(2);
      expect(e.expireIdle(1e12, 2_000)).toBe(1);
      expect(e.flowsInUse).toBe(1);
    });

    it('a full table still gives verdicts, untracked', () => {
      const e = makeEngine(kind, { flowCapacity: 4 });
      const frames = Array.from({ length: 10 }, (_, i) => udpFrame(i));
      const r = e.process(frames, 0);
      expect(r.count).toBe(10);
      const flows = Array.from({ length: 10 }, (_, i) => r.verdict(i).flow);
      expect(flows.filter((f) => f >= 0).length).toBe(4);
      expect(e.counters().tableFull).toBe(6);
      expect(r.verdict(9).flags & 4).toBe(4);
    });
  });
}

describe('flow table with 1M flows (wasm)', () => {
  it('holds 2^20 flows filled by batches, finds each, deletes and expires', () => {
    const cap = 1 << 20;
    const e = new Engine({ flowCapacity: cap, meterCapacity: 16 });
    const frame = udpFrame(0);
    const batch: Uint8Array[] = [];
    for (let i = 0; i < 1024; i++) batch.push(frame.slice());
    // rewrite the source address in place: flow n has source 10.x.y.z from n
    for (let base = 0; base < cap; base += 1024) {
      for (let i = 0; i < 1024; i++) {
        const n = base + i;
        const f = batch[i]!;
        f[26 + 1] = (n >>> 16) & 255;
        f[26 + 2] = (n >>> 8) & 255;
        f[26 + 3] = n & 255;
      }
      const r = e.process(batch, base);
      if (base === 0 || base === cap - 1024) expect(r.verdict(1023).flags & 1).toBe(1); // new flow
    }
    expect(e.flowsInUse).toBe(cap);
    expect(e.counters().flowsInserted).toBe(cap);
    const t = flowTuple(0);
    const keyN = (n: number): FlowKeyFields => ({ src: `10.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`, dst: ipv4Text(t.dst), proto: 17, sport: t.sport, dport: t.dport });
    for (const n of [0, 1, 77777, cap - 1]) expect(e.lookupFlow(keyN(n))).toBeGreaterThanOrEqual(0);
    expect(e.deleteFlow(keyN(12345))).toBe(true);
    expect(e.lookupFlow(keyN(12345))).toBe(-1);
    expect(e.lookupFlow(keyN(12346))).toBeGreaterThanOrEqual(0);
    expect(e.flowTableBytesPerFlow()).toBe(128 + 8);
    // flows seen at time base ≤ cap/2 are idle at cap, the later ones are not
    const expired = e.expireIdle(cap, cap / 2);
    expect(expired).toBeGreaterThan(cap / 2 - 2048);
    expect(e.flowsInUse).toBe(cap - 1 - expired);
  });
});
