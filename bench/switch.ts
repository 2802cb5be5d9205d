// Switch pipeline benchmark: verdicts per second of `payflow switch`'s OpenFlow pipeline on the
// WebAssembly datapath (src/switch/wasm-pipeline.ts, build/payflow-switch.wasm) and on its
// TypeScript twin (src/switch/pipeline.ts), with 1 and 10 000 flows in table 0 (exact IPv4
// source + UDP; distinct priorities), every flow metering its packets (a dscp_remark band whose
// rate is never reached, so the bucket arithmetic runs on every packet) and rewriting the DSCP
// (IPv4 checksum updated) before the output. 64-byte frames in batches of 64 (the switch's
// default recvmmsg batch): each operation copies the batch's frames into a receive buffer (as
// recvmmsg would), runs processBatch and counts the outputs in a sink that keeps nothing.
// Classification differs by algorithm as well as by language: the twin scans each table in
// priority order, the wasm tables are searched by tuple space (one tuple here).
// `switch.flow_mod.10k`: flow-mods per second against a table of 10 000 entries.
import type { BenchCase, BenchOperation, BenchOptions, BenchSuite, Impl } from './harness.js';
import { OFPFC, OFPMC, OFPMF, applyActions, flowMod, meterInstruction, output, setField } from '../src/openflow/codec/index.js';
import { flowTuple, ipv4Text, udpFrame } from '../src/dataplane/synthetic.js';
import { Pipeline, type PacketSink, type SwitchPipeline } from '../src/switch/pipeline.js';
import { WasmPipeline } from '../src/switch/wasm-pipeline.js';

const BATCH = 64;
const FRAME = 64;
const PORTS = [1, 2];

function build(impl: Impl, flows: number): { pipeline: SwitchPipeline; arena: Uint8Array; frames: number } {
  const valid = () => new Set(PORTS);
  const pipeline: SwitchPipeline = impl === 'wasm' ? new WasmPipeline(valid, { ruleCapacity: Math.max(1024, flows + 16) }) : new Pipeline(valid);
  pipeline.meters.modify(OFPMC.ADD, OFPMF.KBPS | OFPMF.BURST, 1, [{ type: 'dscp_remark', rate: 100_000_000, burstSize: 1_000_000, precLevel: 1 }], 0);
  const frames = Math.max(flows, BATCH);
  const arena = new Uint8Array(frames * FRAME);
  for (let i = 0; i < frames; i++) arena.set(udpFrame(i % flows, { payload: FRAME - 42 }), i * FRAME);
  for (let i = 0; i < flows; i++) {
    const src = ipv4Text(flowTuple(i).src);
    const r = pipeline.flowMod(flowMod({
      command: OFPFC.ADD,
      priority: 1 + i,
      match: [{ field: 'eth_type', value: 0x0800 }, { field: 'ipv4_src', value: src }, { field: 'ip_proto', value: 17 }],
      instructions: [meterInstruction(1), applyActions(setField({ field: 'ip_dscp', value: 34 }), output(2))],
    }));
    if (r.error) throw new Error(`switch bench: flow ${i}: ${r.error.reason}`);
  }
  return { pipeline, arena, frames };
}

function operation(impl: Impl, flows: number): BenchOperation {
  const { pipeline, arena, frames } = build(impl, flows);
  const rx = new Uint8Array(BATCH * FRAME);
  const lengths = new Uint32Array(BATCH).fill(FRAME);
  let outputs = 0;
  const sink: PacketSink = {
    portNumbers: PORTS,
    output() {
      outputs++;
    },
    packetIn() {},
  };
  let first = 0;
  let now = 1;
  const run = (): void => {
    rx.set(arena.subarray(first * FRAME, (first + BATCH) * FRAME));
    first = first + 2 * BATCH > frames ? 0 : first + BATCH;
    pipeline.now = now++;
    pipeline.processBatch(rx, FRAME, lengths, BATCH, 1, sink);
  };
  run();
  if (outputs !== BATCH) throw new Error(`switch bench: ${impl} forwarded ${outputs} of ${BATCH} frames`);
  return { run, extra: () => ({ flows, frameBytes: FRAME }) };
}

/**
 * Flow-mods per second with `flows` entries of one priority in table 0 (as a controller's
 * reservations are): each operation adds an entry identical to one in the table (§6.4: it
 * replaces it), in a scattered order. The twin finds the identical entry by scanning the
 * entries of that priority; the wasm pipeline looks it up in its index of mirrored entries,
 * then replaces the rule in the module.
 */
function flowModOperation(impl: Impl, flows: number): BenchOperation {
  const valid = () => new Set(PORTS);
  const pipeline: SwitchPipeline = impl === 'wasm' ? new WasmPipeline(valid, { ruleCapacity: Math.max(1024, flows + 16) }) : new Pipeline(valid);
  const messages = Array.from({ length: flows }, (_, i) =>
    flowMod({
      command: OFPFC.ADD,
      priority: 100,
      match: [{ field: 'eth_type', value: 0x0800 }, { field: 'ipv4_src', value: ipv4Text(flowTuple(i).src) }, { field: 'ip_proto', value: 17 }],
      instructions: [applyActions(setField({ field: 'ip_dscp', value: 34 }), output(2))],
    }),
  );
  for (const m of messages) {
    const r = pipeline.flowMod(m);
    if (r.error) throw new Error(`switch bench: ${r.error.reason}`);
  }
  let next = 0;
  const run = (): void => {
    pipeline.flowMod(messages[next]!);
    // a stride prime to the count: the entry sought is anywhere in the table, not always the oldest
    next = (next + 7919) % flows;
  };
  run();
  const entries = pipeline.flowStats({ tableId: 0, outPort: 0xffffffff, outGroup: 0xffffffff, cookie: 0n, cookieMask: 0n, match: [] } as never);
  if (!entries.ok || entries.stats.length !== flows) throw new Error(`switch bench: ${impl} holds ${entries.ok ? entries.stats.length : 'no'} entries, not ${flows}`);
  return { run, extra: () => ({ flows, priorities: 1 }) };
}

const SCENARIOS = [
  { name: 'switch.pipeline.1', flows: 1 },
  { name: 'switch.pipeline.10k', flows: 10_000 },
] as const;

export const switchSuite: BenchSuite = {
  name: 'switch',
  cases(_options: BenchOptions): BenchCase[] {
    return [
      ...SCENARIOS.flatMap((s) => (['wasm', 'ts'] as const).map((impl): BenchCase => ({ name: s.name, impl, batch: BATCH, setup: () => operation(impl, s.flows) }))),
      ...(['wasm', 'ts'] as const).map((impl): BenchCase => ({ name: 'switch.flow_mod.10k', impl, batch: 1, setup: () => flowModOperation(impl, 10_000) })),
    ];
  },
};
