// The switch's fail-standalone behaviour (OpenFlow Switch Specification 1.3.5 §6.3.6
// "Connection Interruption": in fail standalone mode the switch processes all packets as
// OFPP_NORMAL, a legacy Ethernet switch): an IEEE 802.1D learning bridge. Each frame's
// source MAC is learned on its ingress port; a frame for a known unicast MAC goes out of
// that port (nowhere when it is the ingress port), anything else is flooded. Entries age out
// after AGEING_MS (802.1D's default ageing time, 300 s). The OpenFlow tables are not touched
// while it runs, so when the controller comes back its flow table is exactly as it left it.
// No allocation per frame; a frame too short for an Ethernet header is dropped and counted.
import type { PacketSink } from './pipeline.js';

const AGEING_MS = 300_000;
const MAX_ENTRIES = 8192;

export class LearningSwitch {
  /** MAC (48 bits as a number) → port and when it was last seen */
  private readonly table = new Map<number, { port: number; seen: number }>();
  /** frames too short to switch */
  malformed = 0;

  clear(): void {
    this.table.clear();
  }

  get size(): number {
    return this.table.size;
  }

  processBatch(frames: Uint8Array, stride: number, lengths: ArrayLike<number>, n: number, inPort: number, sink: PacketSink, nowMs: number): void {
    for (let i = 0; i < n; i++) {
      const at = i * stride;
      const len = lengths[i]!;
      if (len < 14) {
        this.malformed++;
        continue;
      }
      const src = mac(frames, at + 6);
      // A multicast source is not an address of a station (802.1D §7.8): not learned.
      if ((frames[at + 6]! & 1) === 0) this.learn(src, inPort, nowMs);
      const known = (frames[at]! & 1) === 0 ? this.table.get(mac(frames, at)) : undefined;
      if (known && nowMs - known.seen < AGEING_MS) {
        if (known.port !== inPort) sink.output(known.port, frames, at, len, true, 0);
        continue;
      }
      for (const p of sink.portNumbers) if (p !== inPort) sink.output(p, frames, at, len, true, 0);
    }
  }

  private learn(src: number, port: number, nowMs: number): void {
    const entry = this.table.get(src);
    if (entry) {
      entry.port = port;
      entry.seen = nowMs;
      return;
    }
    if (this.table.size >= MAX_ENTRIES) this.age(nowMs);
    if (this.table.size < MAX_ENTRIES) this.table.set(src, { port, seen: nowMs });
  }

  private age(nowMs: number): void {
    for (const [k, e] of this.table) if (nowMs - e.seen >= AGEING_MS) this.table.delete(k);
  }
}

function mac(b: Uint8Array, at: number): number {
  return (b[at]! * 2 ** 40) + (b[at + 1]! * 2 ** 32) + ((b[at + 2]! << 24) >>> 0) + (b[at + 3]! << 16) + (b[at + 4]! << 8) + b[at + 5]!;
}
