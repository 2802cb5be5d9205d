// Reassembly of multipart replies (OpenFlow Switch Specification 1.3.5, ONF TS-023,
// §7.3.5 "Multipart Messages"): a switch may split one reply over several messages with
// the same xid, each but the last flagged OFPMPF_REPLY_MORE. The parts' entry lists
// (flow stats, ports, meters, ...) are concatenated into one body, so a caller sees one
// reply however the switch cut it.
import type { MultipartReplyBody } from './codec/index.js';

/** The list-valued member of each reply body type that carries its entries. */
const LIST_MEMBER: Partial<Record<MultipartReplyBody['bodyType'], string>> = {
  flow: 'stats',
  table: 'stats',
  port_stats: 'stats',
  queue: 'stats',
  group: 'stats',
  group_desc: 'groups',
  meter: 'stats',
  meter_config: 'meters',
  table_features: 'tables',
  port_desc: 'ports',
};

export class MultipartMismatchError extends Error {
  override readonly name = 'MultipartMismatchError';
}

/**
 * Adds `next` to the body assembled so far. Bodies with entry lists concatenate them;
 * an experimenter body concatenates its data; the single-record bodies (desc, aggregate,
 * group features, meter features) are not split by switches, so the later part wins.
 */
export function appendMultipartBody(sofar: MultipartReplyBody, next: MultipartReplyBody): MultipartReplyBody {
  if (sofar.bodyType !== next.bodyType) {
    throw new MultipartMismatchError(`multipart reply part of type ${next.bodyType} continues a ${sofar.bodyType} reply`);
  }
  const member = LIST_MEMBER[sofar.bodyType];
  if (member !== undefined) {
    const a = (sofar as unknown as Record<string, unknown[]>)[member]!;
    const b = (next as unknown as Record<string, unknown[]>)[member]!;
    return { ...sofar, [member]: a.concat(b) } as MultipartReplyBody;
  }
  if (sofar.bodyType === 'experimenter' && next.bodyType === 'experimenter') {
    const data = new Uint8Array(sofar.data.length + next.data.length);
    data.set(sofar.data, 0);
    data.set(next.data, sofar.data.length);
    return { ...sofar, data };
  }
  return next;
}
