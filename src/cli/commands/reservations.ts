// `payflow reservations [ID] [--cancel] [--state S]`: lists the controller's reservations
// (one line each, with a short id), shows one, or cancels one. ID is a whole id or any
// unique prefix of one (reservation-id.ts).
import { flagBool, flagString, parseArgs, UsageError } from '../args.js';
import type { Command } from '../command.js';
import { ApiClient } from '../../api/client.js';
import { RESERVATION_STATES, type ReservationState, type ReservationView } from '../../reservations/types.js';
import { apiUrl, flowText, reservationText } from './client-args.js';
import { resolveReservationId, shortIds } from './reservation-id.js';
import { formatRate } from '../../util/units.js';
import { table } from '../table.js';

const usage = [
  'usage: payflow reservations [ID] [--cancel] [--state STATE] [--limit N] [--api URL] [--json]',
  '',
  '  ID               show one reservation (with --cancel: cancel it; no refund); the whole id',
  '                   or any unique prefix of it, such as the short id the list prints',
  `  --state STATE    only reservations in this state (${RESERVATION_STATES.join(', ')})`,
  '  --limit N        at most N (default 100, newest first)',
  '  --api URL        the controller (default http://127.0.0.1:8080)',
  '  --json           JSON output (whole ids)',
].join('\n');

/** One line per reservation, newest first, with the short id a later command accepts back. */
function listText(list: readonly ReservationView[], short: ReadonlyMap<string, string>): string {
  const rows = list.map((r) => [
    short.get(r.id) ?? r.id,
    r.state,
    r.classId,
    formatRate(r.rateBps),
    flowText(r),
    new Date(r.expiresAt).toISOString(),
    r.paid,
  ]);
  return table(['id', 'state', 'class', 'rate', 'flow', 'until', 'paid (base units)'], rows, { right: [3, 6] });
}

export const reservationsCommand: Command = {
  name: 'reservations',
  summary: 'list, show or cancel reservations',
  usage,
  async run(argv) {
    const args = parseArgs(argv, { values: ['api', 'state', 'limit'], switches: ['json', 'cancel'] });
    const api = new ApiClient(apiUrl(args));
    const json = flagBool(args, 'json');
    const [idText, ...rest] = args.positionals;
    if (rest.length) throw new UsageError('at most one reservation id');
    if (idText !== undefined) {
      const id = await resolveReservationId(api, idText);
      const r = flagBool(args, 'cancel') ? await api.cancel(id) : await api.reservation(id);
      process.stdout.write((json ? JSON.stringify(r) : reservationText(r)) + '\n');
      return 0;
    }
    if (flagBool(args, 'cancel')) throw new UsageError('--cancel needs a reservation id');
    const state = flagString(args, 'state');
    if (state !== undefined && !(RESERVATION_STATES as readonly string[]).includes(state)) throw new UsageError(`--state must be one of ${RESERVATION_STATES.join(', ')}`);
    const limitText = flagString(args, 'limit');
    if (limitText !== undefined && !/^[1-9][0-9]{0,3}$/.test(limitText)) throw new UsageError('--limit must be a whole number from 1 to 1000');
    const list = await api.reservations({ ...(state ? { state: state as ReservationState } : {}), ...(limitText ? { limit: Number(limitText) } : {}) });
    if (json) {
      process.stdout.write(JSON.stringify(list) + '\n');
      return 0;
    }
    if (!list.length) {
      process.stdout.write('no reservations\n');
      return 0;
    }
    // A short id must stay unique among all reservations, not only the ones shown.
    const others = state !== undefined || limitText !== undefined ? await api.reservations({ limit: 1000 }) : [];
    const short = shortIds([...list, ...others].map((r) => r.id));
    process.stdout.write(listText(list, short) + '\n');
    return 0;
  },
};
