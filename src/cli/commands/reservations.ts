// `payflow reservations [ID] [--cancel] [--state S]`: lists the wallet's reservations (one
// line each, with a short id), shows one, or cancels one (refunding the unused time). ID is
// a whole id or any unique prefix of one (reservation-id.ts). Requests are signed with the
// wallet's key (the one that paid); an operator uses --token instead. Without either, the
// controller shows only its load per class.
import { flagBool, flagString, parseArgs, UsageError } from '../args.js';
import type { Command } from '../command.js';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ApiClient, type ApiClientOptions } from '../../api/client.js';
import { accountSigner } from '../../api/request-signature.js';
import { SigningKey } from '../../payments/keys.js';
import { RESERVATION_STATES, type LoadView, type RefundView, type ReservationState, type ReservationView } from '../../reservations/types.js';
import { apiUrl, flowText, reservationText } from './client-args.js';
import { resolveReservationId, shortIds } from './reservation-id.js';
import { formatRate } from '../../util/units.js';
import { table } from '../table.js';

const usage = [
  'usage: payflow reservations [ID] [--cancel] [--state STATE] [--limit N] [--wallet FILE | --token TOKEN] [--api URL] [--json]',
  '',
  '  ID               show one reservation (with --cancel: cancel it; the unused time is refunded);',
  '                   the whole id or any unique prefix of it, such as the short id the list prints',
  '  --wallet FILE    sign with this key, the one that paid (default ./payflow-key.json if it exists)',
  '  --token TOKEN    an operator token instead (admin: any reservation; read: read only);',
  '                   without --wallet or --token, $PAYFLOW_TOKEN when it is set',
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
  usage,
  async run(argv) {
    const args = parseArgs(argv, { values: ['api', 'state', 'limit', 'wallet', 'token'], switches: ['json', 'cancel'] });
    const api = new ApiClient(apiUrl(args), credentials(flagString(args, 'wallet'), flagString(args, 'token')));
    const json = flagBool(args, 'json');
    const [idText, ...rest] = args.positionals;
    if (rest.length) throw new UsageError('at most one reservation id');
    if (idText !== undefined) {
      // A prefix is matched against the reservations the signer may list; unsigned, the
      // controller refuses the request anyway, and says why.
      const id = api.signs ? await resolveReservationId(api, idText) : idText;
      const r = flagBool(args, 'cancel') ? await api.cancel(id) : await api.reservation(id);
      process.stdout.write((json ? JSON.stringify(r) : reservationText(r) + refundText(r.refund)) + '\n');
      return 0;
    }
    if (flagBool(args, 'cancel')) throw new UsageError('--cancel needs a reservation id');
    const state = flagString(args, 'state');
    if (state !== undefined && !(RESERVATION_STATES as readonly string[]).includes(state)) throw new UsageError(`--state must be one of ${RESERVATION_STATES.join(', ')}`);
    const limitText = flagString(args, 'limit');
    if (limitText !== undefined && !/^[1-9][0-9]{0,3}$/.test(limitText)) throw new UsageError('--limit must be a whole number from 1 to 1000');
    if (!api.signs) {
      const load = await api.load();
      process.stdout.write((json ? JSON.stringify({ load }) : loadText(load)) + '\n');
      return 0;
    }
    const list = await api.reservations({ ...(state ? { state: state as ReservationState } : {}), ...(limitText ? { limit: Number(limitText) } : {}) });
    if (json) {
      process.stdout.write(JSON.stringify(list) + '\n');
      return 0;
    }
    if (!list.length) {
      process.stdout.write('no reservations\n');
      return 0;
    }
    // A short id must stay unique among all reservations listed, not only the ones shown.
    const others = state !== undefined || limitText !== undefined ? await api.reservations({ limit: 1000 }) : [];
    const short = shortIds([...list, ...others].map((r) => r.id));
    process.stdout.write(listText(list, short) + '\n');
    return 0;
  },
};

/**
 * Who signs: --wallet or --token as given (not both); without either, the environment's
 * PAYFLOW_TOKEN, and only then the wallet in the working directory.
 */
function credentials(wallet: string | undefined, token: string | undefined): ApiClientOptions {
  if (wallet !== undefined && token !== undefined) throw new UsageError('give --wallet or --token, not both');
  if (token !== undefined) return { token };
  const envToken = process.env['PAYFLOW_TOKEN'];
  if (wallet === undefined && envToken) return { token: envToken };
  const path = resolve(wallet ?? './payflow-key.json');
  if (!existsSync(path)) {
    if (wallet !== undefined) throw new UsageError(`no wallet at ${path}`);
    return {};
  }
  return { signer: accountSigner(SigningKey.load(path)) };
}

function refundText(refund: RefundView | null | undefined): string {
  if (!refund) return '';
  return `\n  refunded ${refund.amount} to ${refund.to} (${refund.unusedMs} ms unused: ${refund.gross}, fee ${refund.fee})${refund.transfer ? `, transfer ${refund.transfer}` : ''}`;
}

function loadText(load: LoadView): string {
  const lines = [`${load.active} reservations in force, ${load.reservedBps} bit/s reserved (sign with --wallet to see your own)`];
  for (const c of load.classes) lines.push(`  ${c.classId}: ${c.active}, ${c.reservedBps} bit/s`);
  return lines.join('\n');
}
