// Queues (OpenFlow 1.3.5 §7.3.7 queue configuration: struct ofp_packet_queue and the
// ofp_queue_prop_* properties min-rate, max-rate, experimenter), carried by
// queue-get-config replies. Rates are in 1/10 of a percent; 0xffff means disabled.
// Lengths are taken as written: a queue or property whose length is not a multiple of 8
// still decodes and encodes back identically.
import { OfpEncodeError, Reader, Writer, checkBytes, checkUint, show } from './buffer.js';
import { OFPQT } from './constants.js';
import { list, ownLength, pad, struct, u32, wireType } from './layout.js';

export type QueueProperty =
  | { type: 'min_rate'; rate: number }
  | { type: 'max_rate'; rate: number }
  | { type: 'experimenter'; experimenter: number; data: Uint8Array }
  /** a property type outside the spec: `data` follows the 8-byte property header */
  | { type: 'unknown'; propertyType: number; data: Uint8Array };

export interface PacketQueue {
  queueId: number;
  port: number;
  properties: QueueProperty[];
}

function decodeQueueProperty(r: Reader): QueueProperty {
  const start = r.pos;
  r.need(8, 'queue property header');
  const type = r.u16();
  const len = r.u16();
  if (len < 8) r.fail(`queue property length ${len} < 8`, start + 2);
  r.pos = start;
  return r.within(len, 'queue property', () => {
    r.pos += 8;
    switch (type) {
      case OFPQT.MIN_RATE:
      case OFPQT.MAX_RATE: {
        const rate = r.u16();
        return { type: type === OFPQT.MIN_RATE ? 'min_rate' : 'max_rate', rate };
      }
      case OFPQT.EXPERIMENTER: {
        const experimenter = r.u32();
        r.skip(4);
        return { type: 'experimenter', experimenter, data: r.rest() };
      }
      default:
        return { type: 'unknown', propertyType: type, data: r.rest() };
    }
  });
}

function encodeQueueProperty(w: Writer, p: QueueProperty, path: string): void {
  if (p === null || typeof p !== 'object') throw new OfpEncodeError(path, 'expected a queue property object');
  const start = w.pos;
  switch (p.type) {
    case 'min_rate':
    case 'max_rate':
      w.u16(p.type === 'min_rate' ? OFPQT.MIN_RATE : OFPQT.MAX_RATE);
      w.u16(16);
      w.zeros(4);
      w.u16(checkUint(p.rate, 16, path, 'rate'));
      w.zeros(6);
      return;
    case 'experimenter':
      w.u16(OFPQT.EXPERIMENTER);
      w.u16(0);
      w.zeros(4);
      w.u32(checkUint(p.experimenter, 32, path, 'experimenter'));
      w.zeros(4);
      w.bytes(checkBytes(p.data, path, 'data'));
      break;
    case 'unknown':
      w.u16(checkUint(p.propertyType, 16, path, 'propertyType'));
      w.u16(0);
      w.zeros(4);
      w.bytes(checkBytes(p.data, path, 'data'));
      break;
    default:
      throw new OfpEncodeError(path, `unknown queue property ${show((p as { type: unknown }).type)}`);
  }
  w.patch16(start + 2, w.pos - start);
}

const queueProperty = wireType<QueueProperty>(decodeQueueProperty, encodeQueueProperty);

/** struct ofp_packet_queue: its length sits after queue_id and port. */
export const PACKET_QUEUE = struct<PacketQueue>('packet queue', [
  ['queueId', u32],
  ['port', u32],
  ownLength,
  pad(6),
  ['properties', list(queueProperty)],
]);
