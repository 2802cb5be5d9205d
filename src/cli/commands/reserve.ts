// `payflow reserve`: quote → pay on the controller's ledger (the local
// ledger served at /v1/ledger; the transfer's memo is the quote id) → reserve; prints the
// reservation. --faucet mints the price into the wallet first (testbed ledgers only, with an
// operator token of scope admin: --token or PAYFLOW_TOKEN).
//
// --stream PERIOD pays as you go (PayFlow's streaming micropayments): after
// the first --duration it opens a micropayment channel to the operator and keeps the
// reservation one PERIOD ahead with a signed cumulative voucher each time, priced by an
// extension quote, until it is interrupted (SIGINT/SIGTERM) or the deposit is spent. Then the
// vouchers stop and the reservation ends with the time they paid for; the operator settles
// the last voucher, and the wallet reclaims the rest of the deposit after the channel's timeout.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { flagBool, flagString, parseArgs, UsageError } from '../args.js';
import type { Command } from '../command.js';
import { ApiClient } from '../../api/client.js';
import { accountSigner } from '../../api/request-signature.js';
import { ChannelSigningKey } from '../../payments/channel-keys.js';
import { VoucherSigner } from '../../payments/channels.js';
import { LedgerHttpClient } from '../../payments/http-client.js';
import { SigningKey } from '../../payments/keys.js';
import type { ReservationView } from '../../reservations/types.js';
import { durationMs } from '../../util/units.js';
import { apiUrl, FLOW_FLAGS, FLOW_USAGE, operatorTokenOption, quoteRequest, reservationText } from './client-args.js';

const usage = [
  'usage: payflow reserve --api URL --src IP --dst IP --rate RATE --duration TIME [--class ID] [--wallet FILE] [--faucet [--token TOKEN]] [--json]',
  '                       [--stream PERIOD [--periods N]]',
  '',
  ...FLOW_USAGE,
  '  --wallet FILE    the payer\'s key (default ./payflow-key.json; create with `payflow ledger keygen`);',
  '                   the reservation belongs to it, and its requests are signed with it',
  '  --faucet         mint the price (and a stream\'s deposit) into the wallet first (testbed ledgers only)',
  '  --token TOKEN    the operator token of scope admin that --faucet needs (default: $PAYFLOW_TOKEN)',
  '  --json           print the reservation as JSON (with --stream: one JSON line per event)',
  '  --stream PERIOD  pay as you go after the first --duration: a micropayment channel, one voucher',
  '                   per PERIOD keeping the reservation a PERIOD ahead, until Ctrl-C or the deposit is spent',
  '  --periods N      the channel\'s deposit, in PERIODs at today\'s price (default 60)',
  '',
  'Exit status: 0 reserved (with --stream: streamed until stopped), 1 refused (the error code and',
  'message are printed), 2 usage.',
].join('\n');

export const reserveCommand: Command = {
  name: 'reserve',
  usage,
  async run(argv) {
    const args = parseArgs(argv, { values: [...FLOW_FLAGS, 'wallet', 'stream', 'periods', 'token'], switches: ['json', 'faucet'] });
    const input = quoteRequest(args);
    const stream = streamOptions(args);
    const walletPath = resolve(flagString(args, 'wallet') ?? './payflow-key.json');
    if (!existsSync(walletPath)) throw new UsageError(`no wallet at ${walletPath} (create one with \`payflow ledger keygen --out ${walletPath}\`)`);
    const key = SigningKey.load(walletPath);
    const api = new ApiClient(apiUrl(args), { signer: accountSigner(key) });
    const q = await api.quote(input);
    if (q.quote.ledger !== 'local') throw new Error(`the controller is paid on the ${q.quote.ledger} ledger; pay quote ${q.quote.id} there and POST the proof`);
    const ledger = new LedgerHttpClient(api.ledgerUrl, operatorTokenOption(args));
    const amount = BigInt(q.quote.amount);
    if (flagBool(args, 'faucet')) await ledger.faucet(key.address, amount);
    const proof = await ledger.pay(key, q.quote.payTo, amount, q.quote.id);
    // One Idempotency-Key for the purchase: a retry after a lost answer gets the reservation.
    const idempotencyKey = randomBytes(16).toString('hex');
    const r = await api.reserve(q.quote.id, proof, { idempotencyKey }).catch((err: unknown) => {
      if ((err as { status?: number }).status === 0) return api.reserve(q.quote.id, proof, { idempotencyKey });
      throw err;
    });
    const json = flagBool(args, 'json');
    process.stdout.write((json ? JSON.stringify(stream ? { event: 'reserved', reservation: r } : r) : reservationText(r)) + '\n');
    if (stream) await streamPayments({ api, ledger, key, reservation: r, payTo: q.quote.payTo, faucet: flagBool(args, 'faucet'), json, ...stream });
    return 0;
  },
};

interface StreamOptions {
  periodMs: number;
  periods: number;
}

function streamOptions(args: ReturnType<typeof parseArgs>): StreamOptions | undefined {
  const period = flagString(args, 'stream');
  const periods = flagString(args, 'periods');
  if (period === undefined) {
    if (periods !== undefined) throw new UsageError('--periods needs --stream');
    return undefined;
  }
  let periodMs: number;
  try {
    periodMs = durationMs(period, { minMs: 1000, maxMs: 86_400_000 });
  } catch (err) {
    throw new UsageError(`--stream: ${(err as Error).message}`);
  }
  if (periods !== undefined && !/^[1-9][0-9]{0,5}$/.test(periods)) throw new UsageError('--periods must be a whole number from 1 to 999999');
  return { periodMs, periods: periods === undefined ? 60 : Number(periods) };
}

/**
 * The pay-as-you-go loop: opens a channel (deposit = periods x one PERIOD's price now), then
 * whenever the reservation has less than 1.5 PERIODs left pays one more PERIOD with a voucher.
 * Stops on SIGINT/SIGTERM or when the next voucher would pass the deposit.
 */
async function streamPayments(o: StreamOptions & {
  api: ApiClient;
  ledger: LedgerHttpClient;
  key: SigningKey;
  reservation: ReservationView;
  payTo: string;
  faucet: boolean;
  json: boolean;
}): Promise<void> {
  const say = (event: string, text: string, fields: Record<string, unknown>) =>
    process.stdout.write((o.json ? JSON.stringify({ event, ...fields }) : text) + '\n');
  let stopped = false;
  let wake: (() => void) | undefined;
  const stop = () => {
    stopped = true;
    wake?.();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const perPeriod = BigInt((await o.api.quoteExtension(o.reservation.id, o.periodMs)).quote.amount);
    const deposit = perPeriod * BigInt(o.periods);
    if (o.faucet) await o.ledger.faucet(o.key.address, deposit);
    const channelKey = ChannelSigningKey.generate();
    // The channel stays open for the whole stream and an hour after, for the operator to settle.
    const timeoutAt = Date.now() + o.periods * o.periodMs + (o.reservation.expiresAt - Date.now()) + 3_600_000;
    const channel = await o.ledger.openChannel(o.key, o.payTo, channelKey.publicKey, deposit, timeoutAt);
    const signer = new VoucherSigner(channelKey, channel, deposit);
    say('channel', `channel ${channel} open: deposit ${deposit} (${o.periods} periods of ${o.periodMs / 1000} s), ${channelKey.scheme} key; reclaimable after ${new Date(timeoutAt).toISOString()}`,
      { channel, deposit: deposit.toString(), scheme: channelKey.scheme, timeoutAt });
    let expiresAt = o.reservation.expiresAt;
    while (!stopped) {
      const dueIn = expiresAt - Date.now() - 1.5 * o.periodMs;
      if (dueIn > 0) {
        await new Promise<void>((r) => {
          const t = setTimeout(r, dueIn);
          wake = () => {
            clearTimeout(t);
            r();
          };
        });
        continue;
      }
      const amount = BigInt((await o.api.quoteExtension(o.reservation.id, o.periodMs)).quote.amount);
      if (signer.paid + amount > deposit) {
        say('spent', `the deposit is spent (${signer.paid} of ${deposit} paid): no more vouchers`, { paid: signer.paid.toString(), deposit: deposit.toString() });
        break;
      }
      const voucher = signer.pay(amount);
      const r = await o.api.payVoucher(o.reservation.id, voucher);
      expiresAt = r.expiresAt;
      say('voucher', `voucher ${voucher.sequence}: ${amount} more (${voucher.cumulative} of ${deposit}), +${r.extendedByMs / 1000} s, now until ${new Date(expiresAt).toISOString()}`,
        { sequence: voucher.sequence, amount: amount.toString(), cumulative: voucher.cumulative, extendedByMs: r.extendedByMs, expiresAt });
    }
    say('stopped', `vouchers stopped after ${signer.paid} of ${deposit}; reservation ${o.reservation.id} ends ${new Date(expiresAt).toISOString()}, with the time paid for`,
      { paid: signer.paid.toString(), deposit: deposit.toString(), expiresAt });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
