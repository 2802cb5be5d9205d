// Reservation ids as a person types them: the CLI prints a reservation's id short (its
// shortest unique prefix, at least SHORT_ID_LENGTH hex digits, as git does for commits) and
// accepts any unique prefix back. The controller's API takes only whole ids, so a prefix
// is resolved here, on the client side, by listing the reservations and matching it.
import { UsageError } from '../args.js';
import type { ApiClient } from '../../api/client.js';
import { RESERVATION_STATES, type ReservationView } from '../../reservations/types.js';

/** A reservation id is 16 random bytes in hex. */
export const FULL_ID_LENGTH = 32;
/** Hex digits of a short id: 32 bits, unique among tens of thousands of reservations. */
export const SHORT_ID_LENGTH = 8;
/** The most the API lists in one request. */
const LIST_LIMIT = 1000;

/** For each id, its shortest prefix of at least `min` digits that no other id in `ids` starts with. */
export function shortIds(ids: readonly string[], min = SHORT_ID_LENGTH): Map<string, string> {
  const sorted = [...new Set(ids)].sort();
  const out = new Map<string, string>();
  sorted.forEach((id, i) => {
    // the ids that share the longest prefix with this one are its neighbours in sorted order
    const common = Math.max(commonPrefix(id, sorted[i - 1]), commonPrefix(id, sorted[i + 1]));
    out.set(id, id.slice(0, Math.max(min, common + 1)));
  });
  return out;
}

function commonPrefix(a: string, b: string | undefined): number {
  if (b === undefined) return 0;
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

/** The reservations a prefix is matched against: the newest of all, and of each state when there are many. */
async function knownReservations(api: ApiClient): Promise<{ list: ReservationView[]; complete: boolean }> {
  const byId = new Map<string, ReservationView>();
  const all = await api.reservations({ limit: LIST_LIMIT });
  for (const r of all) byId.set(r.id, r);
  let complete = all.length < LIST_LIMIT;
  if (!complete) {
    complete = true;
    for (const state of RESERVATION_STATES) {
      const some = await api.reservations({ state, limit: LIST_LIMIT });
      for (const r of some) byId.set(r.id, r);
      if (some.length >= LIST_LIMIT) complete = false;
    }
  }
  return { list: [...byId.values()], complete };
}

/**
 * The whole id of the reservation that `text` (a whole id or a prefix of one, any case)
 * names. Throws a UsageError for text that cannot be an id, and an Error naming the
 * candidates when the prefix matches several reservations, or saying so when it matches none.
 */
export async function resolveReservationId(api: ApiClient, text: string): Promise<string> {
  const prefix = text.trim().toLowerCase();
  if (!/^[0-9a-f]+$/.test(prefix) || prefix.length > FULL_ID_LENGTH) {
    throw new UsageError(`'${text}' is not a reservation id (up to ${FULL_ID_LENGTH} hex digits; a unique prefix is enough)`);
  }
  if (prefix.length === FULL_ID_LENGTH) return prefix;
  const { list, complete } = await knownReservations(api);
  const matches = list.filter((r) => r.id.startsWith(prefix));
  if (matches.length === 1) return matches[0]!.id;
  if (matches.length === 0) {
    const scope = complete ? `among the controller's ${list.length} reservations` : `among the newest ${list.length} reservations the controller lists`;
    throw new Error(`no reservation id starts with '${prefix}' (${scope})`);
  }
  const lines = matches.map((r) => `  ${r.id}  ${r.state.padEnd(10)} ${r.classId} ${r.match.src} -> ${r.match.dst}`);
  throw new Error(`'${prefix}' is ambiguous: ${matches.length} reservations start with it; give more digits:\n${lines.join('\n')}`);
}
