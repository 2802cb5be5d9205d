// `payflow reserve` (issue 5, item 8): quote → pay on the controller's ledger (the local
// ledger served at /v1/ledger; the transfer's memo is the quote id) → reserve; prints the
// reservation. --faucet mints the price into the wallet first (testbed ledgers only).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { flagBool, flagString, parseArgs, UsageError } from '../args.js';
import type { Command } from '../command.js';
import { ApiClient } from '../../api/client.js';
import { LedgerHttpClient } from '../../payments/http-client.js';
import { SigningKey } from '../../payments/keys.js';
import { apiUrl, FLOW_FLAGS, FLOW_USAGE, quoteInput, reservationText } from './client-args.js';

const usage = [
  'usage: payflow reserve --api URL --src IP --dst IP --rate RATE --duration TIME [--class ID] [--wallet FILE] [--faucet] [--json]',
  '',
  ...FLOW_USAGE,
  '  --wallet FILE    the payer\'s key (default ./payflow-key.json; create with `payflow ledger keygen`)',
  '  --faucet         mint the price into the wallet first (testbed ledgers only)',
  '  --json           print the reservation as JSON',
  '',
  'Exit status: 0 reserved, 1 refused (the error code and message are printed), 2 usage.',
].join('\n');

export const reserveCommand: Command = {
  name: 'reserve',
  summary: 'buy a bandwidth reservation: quote, pay, reserve',
  usage,
  async run(argv) {
    const args = parseArgs(argv, { values: [...FLOW_FLAGS, 'wallet'], switches: ['json', 'faucet'] });
    const input = quoteInput(args);
    const walletPath = resolve(flagString(args, 'wallet') ?? './payflow-key.json');
    if (!existsSync(walletPath)) throw new UsageError(`no wallet at ${walletPath} (create one with \`payflow ledger keygen --out ${walletPath}\`)`);
    const key = SigningKey.load(walletPath);
    const api = new ApiClient(apiUrl(args));
    const q = await api.quote(input);
    if (q.quote.ledger !== 'local') throw new Error(`the controller is paid on the ${q.quote.ledger} ledger; pay quote ${q.quote.id} there and POST the proof`);
    const ledger = new LedgerHttpClient(api.ledgerUrl);
    const amount = BigInt(q.quote.amount);
    if (flagBool(args, 'faucet')) await ledger.faucet(key.address, amount);
    const proof = await ledger.pay(key, q.quote.payTo, amount, q.quote.id);
    const r = await api.reserve(q.quote.id, proof);
    process.stdout.write((flagBool(args, 'json') ? JSON.stringify(r) : reservationText(r)) + '\n');
    return 0;
  },
};
