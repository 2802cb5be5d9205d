// RFC 2697 / RFC 2698 colours to the re-mark a class's excess policy asks for, in both
// engines (the wasm pipeline and its TypeScript twin), and the two engines against each
// other on the same traffic (differential). `excess: drop` is yellow and red dropped;
// `excess: degrade` is both downgraded to the next lower class (its class, queue and DSCP
// written into the frame); a class whose policy was never set keeps the engines' default,
// yellow downgraded to best effort and red dropped.
import { describe, expect, it } from 'vitest';
import { udpFrame } from '../../src/dataplane/synthetic.js';
import type { ClassExcessPolicy, MeterParams } from '../../src/dataplane/types.js';
import { engineKinds, makeEngine, type EngineKind } from './engines.js';

const GOLD = 2;
const SILVER = 1;
const BE = 0;
const SILVER_DSCP = 26;
const DEGRADE_TO_BE: ClassExcessPolicy = { yellow: 'downgrade', red: 'downgrade', to: { class: BE, queue: 0, dscp: 0 } };
const DROP: ClassExcessPolicy = { yellow: 'drop', red: 'drop' };

/** An engine with silver (class 1) behind meter 1, gold (class 2) behind meter 2, best effort class 0. */
function engine(kind: EngineKind, meter: MeterParams, policies: [number, ClassExcessPolicy][]) {
  const e = makeEngine(kind, { flowCapacity: 64, meterCapacity: 4 });
  e.setBestEffort(BE, 0, 0);
  for (const [cls, p] of policies) e.setClassExcess(cls, p);
  e.setMeter(1, meter, 0);
  e.setMeter(2, meter, 0);
  e.setRule(0, { priority: 2, proto: 17, dport: 5001, action: { action: 'forward', class: SILVER, queue: 1, dscp: SILVER_DSCP, meter: 1 } });
  e.setRule(1, { priority: 1, proto: 17, dport: 5002, action: { action: 'forward', class: GOLD, queue: 2, dscp: 46, meter: 2 } });
  return e;
}

// srTCM, CIR 1000 B/s, CBS 100 B, EBS 100 B: three 64-byte frames at one instant are green, yellow, red
const SRTCM: MeterParams = { mode: 'srTCM', colorAware: false, cir: 1000, cbs: 100, ebs: 100 };
// trTCM, CIR 1000 B/s, CBS 100 B, PIR 2000 B/s, PBS 200 B: green, yellow, yellow, red
const TRTCM: MeterParams = { mode: 'trTCM', colorAware: false, cir: 1000, cbs: 100, pir: 2000, pbs: 200 };

const silverFrames = (n: number) => Array.from({ length: n }, () => udpFrame(1, { dscp: 0 }));

for (const kind of engineKinds) {
  describe(`excess policy by colour (${kind})`, () => {
    it('degrade (srTCM): green keeps the class, yellow and red go to the next lower class with its DSCP', () => {
      const r = engine(kind, SRTCM, [[SILVER, DEGRADE_TO_BE]]).process(silverFrames(3), 1000);
      expect([0, 1, 2].map((i) => r.verdict(i))).toMatchObject([
        { action: 0, color: 0, class: SILVER, queue: 1, dscp: SILVER_DSCP },
        { action: 1, color: 1, class: BE, queue: 0, dscp: 0 },
        { action: 1, color: 2, class: BE, queue: 0, dscp: 0 },
      ]);
      expect([0, 1, 2].map((i) => r.frame(i)[15]! >> 2)).toEqual([SILVER_DSCP, 0, 0]);
    });

    it('degrade to a lower class of its own: gold yellow and red to silver (queue 1, AF31)', () => {
      const e = engine(kind, SRTCM, [[GOLD, { yellow: 'downgrade', red: 'downgrade', to: { class: SILVER, queue: 1, dscp: SILVER_DSCP } }]]);
      const r = e.process(Array.from({ length: 3 }, () => udpFrame(2)), 1000);
      expect([0, 1, 2].map((i) => [r.verdict(i).action, r.verdict(i).class, r.verdict(i).queue, r.frame(i)[15]! >> 2])).toEqual([
        [0, GOLD, 2, 46],
        [1, SILVER, 1, SILVER_DSCP],
        [1, SILVER, 1, SILVER_DSCP],
      ]);
    });

    it('drop (trTCM): yellow and red dropped, green forwarded; the frames of dropped packets are not rewritten', () => {
      const r = engine(kind, TRTCM, [[SILVER, DROP]]).process(silverFrames(4), 1000);
      expect([0, 1, 2, 3].map((i) => [r.verdict(i).action, r.verdict(i).color])).toEqual([
        [0, 0],
        [2, 1],
        [2, 1],
        [2, 2],
      ]);
      expect(r.frame(1)[15]! >> 2).toBe(0);
    });

    it('no policy set: the default, yellow downgraded to best effort and red dropped (trTCM)', () => {
      const r = engine(kind, TRTCM, []).process(silverFrames(4), 1000);
      expect([0, 1, 2, 3].map((i) => [r.verdict(i).action, r.verdict(i).color, r.verdict(i).class])).toEqual([
        [0, 0, SILVER],
        [1, 1, BE],
        [1, 1, BE],
        [2, 2, 0],
      ]);
    });

    it('yellow forwarded in the class, red downgraded; a policy of one class leaves the others alone', () => {
      const e = engine(kind, SRTCM, [[SILVER, { yellow: 'forward', red: 'downgrade' }]]);
      const r = e.process([...silverFrames(3), ...Array.from({ length: 3 }, () => udpFrame(2))], 1000);
      expect([0, 1, 2, 3, 4, 5].map((i) => r.verdict(i).action)).toEqual([0, 0, 1, 0, 1, 2]);
      expect(r.verdict(1)).toMatchObject({ class: SILVER, dscp: SILVER_DSCP });
      expect(r.verdict(2)).toMatchObject({ class: BE, dscp: 0 }); // no target: best effort
      const c = e.counters();
      expect(c.actions).toEqual([3, 2, 1]);
      expect(c.colors).toEqual([2, 2, 2]);
    });

    it('refuses a bad policy and leaves the old one in force', () => {
      const e = engine(kind, SRTCM, [[SILVER, DROP]]);
      expect(() => e.setClassExcess(SILVER, { yellow: 'paint' as 'drop', red: 'drop' })).toThrow(/yellow/);
      expect(() => e.setClassExcess(64, DROP)).toThrow(/class/);
      expect(() => e.setClassExcess(SILVER, { ...DEGRADE_TO_BE, to: { class: 0, queue: 0, dscp: 64 } })).toThrow(/dscp/);
      const r = e.process(silverFrames(2), 1000);
      expect(r.verdict(1).action).toBe(2);
    });
  });
}

describe('excess policy: wasm and TypeScript engines agree, packet by packet', () => {
  it('on a random stream through srTCM and trTCM meters with every policy', () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const policies: ClassExcessPolicy[] = [DEGRADE_TO_BE, DROP, { yellow: 'forward', red: 'downgrade' }, { yellow: 'downgrade', red: 'drop', to: { class: 3, queue: 7, dscp: 10 } }];
    for (const meter of [SRTCM, TRTCM, { ...SRTCM, colorAware: true }, { ...TRTCM, colorAware: true }]) {
      for (const policy of policies) {
        const [w, t] = (['wasm', 'ts'] as const).map((k) => engine(k, meter, [[SILVER, policy], [GOLD, DROP]]));
        let now = 1000;
        for (let batch = 0; batch < 20; batch++) {
          const n = 1 + Math.floor(rand() * 16);
          const frames = Array.from({ length: n }, () =>
            udpFrame((rand() < 0.7 ? 1 : 2) + 7 * Math.floor(rand() * 3), { dscp: [0, 10, 12, 14, 26, 28][Math.floor(rand() * 6)]!, payload: 18 + Math.floor(rand() * 200) }),
          );
          const times = frames.map(() => (now += Math.floor(rand() * 50_000_000)));
          const rw = w!.process(frames.map((f) => f.slice()), times);
          const rt = t!.process(frames.map((f) => f.slice()), times);
          for (let i = 0; i < n; i++) {
            expect(rw.verdict(i)).toEqual(rt.verdict(i));
            expect(rw.frame(i)).toEqual(rt.frame(i));
          }
        }
        expect(w!.counters()).toEqual(t!.counters());
      }
    }
  });
});
