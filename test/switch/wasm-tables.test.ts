// The WebAssembly flow table's storage at its limits: rule slots and op blocks are taken as
// flows come (the tables start without writing their memory), freed ones are used again, and
// a table that runs out refuses with OFPFMFC_TABLE_FULL and leaves what it holds unchanged.
import { describe, expect, it } from 'vitest';
import { OFPFC, OFPFMFC, OFPP, OFPTT, applyActions, flowMod, output, setField, type Action } from '../../src/openflow/codec/index.js';
import type { PacketSink } from '../../src/switch/pipeline.js';
import { WasmPipeline } from '../../src/switch/wasm-pipeline.js';
import { buildFrame } from '../dataplane/frames.js';

const PORTS = [1, 2];
const valid = () => new Set(PORTS);

class Outputs implements PacketSink {
  readonly portNumbers = PORTS;
  readonly out: { port: number; dscp: number }[] = [];
  output(portNo: number, frame: Uint8Array, at: number): void {
    this.out.push({ port: portNo, dscp: frame[at + 15]! >> 2 });
  }
  packetIn(): void {}
}

function udp(dst: number): Uint8Array {
  return buildFrame({ ip: { v: 4, src: '10.0.0.1', dst: `10.0.1.${dst}`, proto: 17, tos: 0 }, l4: { sport: 1000, dport: 5001 }, payload: 18 }).bytes;
}

function send(p: WasmPipeline, f: Uint8Array): Outputs {
  const sink = new Outputs();
  p.processBatch(f.slice(), f.length, [f.length], 1, 1, sink);
  return sink;
}

/** A rule for 10.0.1.dst whose program is `ops` set_fields (ending on DSCP = dst) and an output. */
function longRule(dst: number, ops: number) {
  const actions: Action[] = [];
  for (let i = ops - 1; i >= 0; i--) actions.push(setField({ field: 'ip_dscp', value: (dst + i) % 64 }));
  return flowMod({ command: OFPFC.ADD, priority: 10, match: [{ field: 'eth_type', value: 0x0800 }, { field: 'ipv4_dst', value: `10.0.1.${dst}` }], instructions: [applyActions(...actions, output(2))] });
}

/** Adds long rules for 10.0.1.1, .2, … until the table is full; returns how many it took. */
function fill(p: WasmPipeline, ops: number): number {
  for (let dst = 1; dst < 250; dst++) {
    const r = p.flowMod(longRule(dst, ops));
    if (r.error) {
      expect(r.error.code).toBe(OFPFMFC.TABLE_FULL);
      return dst - 1;
    }
  }
  throw new Error('the table never filled');
}

describe('wasm flow table storage', () => {
  it('takes rule slots and op blocks as flows come, and refuses the flow that finds none with TABLE_FULL', () => {
    // 16 rules and 16 × 2 + 64 = 96 op blocks of 4 ops; a 31-op program needs 10 blocks (3 ops
    // and a link each), so the blocks run out at the tenth rule.
    const p = new WasmPipeline(valid, { ruleCapacity: 16, meterCapacity: 4 });
    expect(fill(p, 30)).toBe(9);
    for (let dst = 1; dst <= 9; dst++) expect(send(p, udp(dst)).out).toEqual([{ port: 2, dscp: dst }]);
    expect(send(p, udp(10)).out).toEqual([]);
  });

  it('uses freed blocks and slots again: delete all, fill again, and the same number fits', () => {
    const p = new WasmPipeline(valid, { ruleCapacity: 16, meterCapacity: 4 });
    const first = fill(p, 30);
    for (let round = 0; round < 3; round++) {
      expect(p.flowMod(flowMod({ command: OFPFC.DELETE, tableId: OFPTT.ALL, outPort: OFPP.ANY })).error).toBeUndefined();
      expect(send(p, udp(1)).out).toEqual([]);
      expect(fill(p, 30)).toBe(first);
      for (let dst = 1; dst <= first; dst++) expect(send(p, udp(dst)).out).toEqual([{ port: 2, dscp: dst }]);
    }
    // Short programs: the slots (16) run out before the blocks.
    p.flowMod(flowMod({ command: OFPFC.DELETE, tableId: OFPTT.ALL, outPort: OFPP.ANY }));
    expect(fill(p, 1)).toBe(16);
  });

  it('a modify that finds no room keeps the old program', () => {
    const p = new WasmPipeline(valid, { ruleCapacity: 16, meterCapacity: 4 });
    const n = fill(p, 30);
    const grown = longRule(1, 200);
    const r = p.flowMod({ ...grown, command: OFPFC.MODIFY_STRICT });
    expect(r.error?.code).toBe(OFPFMFC.TABLE_FULL);
    for (let dst = 1; dst <= n; dst++) expect(send(p, udp(dst)).out).toEqual([{ port: 2, dscp: dst }]);
  });
});
