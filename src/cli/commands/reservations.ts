// `payflow reservations [ID] [--cancel] [--state S]` (issue 5, item 8): lists the
// controller's reservations, shows one, or cancels one.
import { flagBool, flagString, parseArgs, UsageError } from '../args.js';
import type { Command } from '../command.js';
import { ApiClient } from '../../api/client.js';
import { RESERVATION_STATES, type ReservationState } from '../../reservations/types.js';
import { apiUrl, reservationText } from './client-args.js';

const usage = [
  'usage: payflow reservations [ID] [--cancel] [--state STATE] [--limit N] [--api URL] [--json]',
  '',
  '  ID               show one reservation (with --cancel: cancel it; no refund)',
  `  --state STATE    only reservations in this state (${RESERVATION_STATES.join(', ')})`,
  '  --limit N        at most N (default 100, newest first)',
  '  --api URL        the controller (default http://127.0.0.1:8080)',
  '  --json           JSON output',
].join('\n');

export const reservationsCommand: Command = {
  name: 'reservations',
  summary: 'list, show or cancel reservations',
  usage,
  async run(argv) {
    const args = parseArgs(argv, { values: ['api', 'state', 'limit'], switches: ['json', 'cancel'] });
    const api = new ApiClient(apiUrl(args));
    const json = flagBool(args, 'json');
    const [id, ...rest] = args.positionals;
    if (rest.length) throw new UsageError('at most one reservation id');
    if (id !== undefined) {
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
    if (json) process.stdout.write(JSON.stringify(list) + '\n');
    else process.stdout.write(list.length ? list.map(reservationText).join('\n') + '\n' : 'no reservations\n');
    return 0;
  },
};
