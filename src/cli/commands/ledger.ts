// `payflow ledger keygen | faucet | balance | pay | verify | serve`: the local ledger from
// the command line. Commands work on the ledger file under --data
// (default ./payflow-data/payflow.db, the store the controller also uses) or, with
// --url, through a ledger served over HTTP. The faucet only runs with --testbed, and only
// on a testbed ledger (fixed in its genesis entry); over HTTP it needs an operator token of
// scope admin (--token or PAYFLOW_TOKEN), and `serve` mints only for such a token. Every write signs the journal's head
// into DIR/ledger-checkpoint.json; verify compares the journal with it.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { flagBool, flagString, parseArgs, UsageError, type ParsedArgs } from '../args.js';
import type { Command } from '../command.js';
import { Store } from '../../store/index.js';
import { LocalLedger } from '../../payments/local-ledger.js';
import { SigningKey, isAddress } from '../../payments/keys.js';
import { auditLedger } from '../../payments/audit.js';
import { LEDGER_CHECKPOINT_FILE } from '../../payments/checkpoint.js';
import { auditRecords } from '../../reservations/audit.js';
import { parseAmount, parsePositiveAmount, formatAmount } from '../../payments/amount.js';
import { signChannelReclaim, signTransfer } from '../../payments/journal.js';
import { LedgerHttpClient } from '../../payments/http-client.js';
import { IotaLedger } from '../../payments/iota-ledger.js';
import { startLedgerApi } from '../../api/ledger-server.js';
import { operatorTokenOption } from './client-args.js';

const usage = [
  'usage: payflow ledger <subcommand> [options]',
  '',
  '  keygen  [--out FILE]                         new Ed25519 key file (default ./payflow-key.json); prints the address',
  '  faucet  ADDRESS AMOUNT --testbed             mint test money (testbed ledgers only); with --url it needs',
  '                                               an admin token (--token TOKEN or PAYFLOW_TOKEN)',
  '  balance ADDRESS                              balance and nonce of an address',
  '  pay     --key FILE --to ADDRESS --amount N [--memo TEXT]',
  '                                               sign and submit a transfer; prints the payment proof id',
  '  reclaim CHANNEL --key FILE                   after a channel\'s timeout, return what the payee did not',
  '                                               settle to the payer (the key that opened it); prints the amount',
  '  verify  [--proof ID --pay-to ADDRESS --amount N --memo TEXT]',
  '                                               re-check the whole hash chain and name the first bad entry,',
  '                                               compare it with the signed checkpoint (a cut-off tail fails)',
  '                                               and the controller\'s redemptions and reservations with it;',
  '                                               with --proof, verify one payment instead',
  '  checkpoint --init                            write the first checkpoint of a ledger made before checkpoints',
  '                                               existed (after a full audit; needs the authority key)',
  '  serve   [--host 127.0.0.1] [--port 8090] [--testbed] [--operator ADDRESS]',
  '                                               serve the ledger over HTTP under /v1/ledger; its faucet',
  '                                               mints only for an admin token of DIR (`payflow token create`)',
  '',
  'common options:',
  '  --data DIR   data directory (default ./payflow-data): ledger in DIR/payflow.db,',
  '               its authority key in DIR/ledger-authority.json (created with the ledger)',
  '  --url URL    use a ledger served over HTTP (e.g. http://127.0.0.1:8090/v1/ledger)',
  '               instead of the file (faucet, balance, pay, reclaim)',
  '  --testbed    enable the faucet; a ledger created with it is a testbed ledger for good (its',
  '               genesis entry says so), one created without it a production ledger that never mints',
  '  --iota-rpc URL  balance and verify --proof against an IOTA Rebased JSON-RPC node instead',
  '               (--proof is then a transaction digest; --coin-type, default 0x2::iota::IOTA)',
  '  --json       machine-readable output',
  '',
  'Amounts are integer base units. Exit status: 0 ok, 1 refused or chain broken, 2 usage.',
].join('\n');

const spec = {
  values: ['data', 'url', 'out', 'key', 'to', 'amount', 'memo', 'proof', 'pay-to', 'host', 'port', 'operator', 'iota-rpc', 'coin-type', 'token'],
  switches: ['testbed', 'json', 'init'],
};

function dataDir(args: ParsedArgs): string {
  return resolve(flagString(args, 'data') ?? './payflow-data');
}

/** Opens the ledger file; creates it (and its authority key) only when `create` is set. */
function openLocal(args: ParsedArgs, create: boolean, operatorAddress?: string): { store: Store; ledger: LocalLedger } {
  const dir = dataDir(args);
  const dbPath = join(dir, 'payflow.db');
  const keyPath = join(dir, 'ledger-authority.json');
  const noLedger = `no ledger at ${dbPath} (create one with 'payflow ledger faucet --testbed' or 'serve')`;
  if (!create && !existsSync(dbPath)) throw new Error(noLedger);
  let authorityKey: SigningKey | undefined;
  if (existsSync(keyPath)) authorityKey = SigningKey.load(keyPath);
  const store = Store.open(dbPath);
  // The data directory's database may exist without a ledger in it (a token was made first,
  // or the controller ran on another ledger): the ledger is new until its genesis entry is.
  const isNew = !LocalLedger.isCreated(store);
  if (!create && isNew) {
    store.close();
    throw new Error(noLedger);
  }
  // A new authority key only for a new ledger: an existing ledger keeps the key named
  // in its genesis entry (without it the ledger still works, minus the faucet).
  if (!authorityKey && create && isNew) {
    authorityKey = SigningKey.generate();
    authorityKey.save(keyPath);
  }
  try {
    const ledger = LocalLedger.open(store, {
      ...(authorityKey ? { authorityKey } : {}),
      testbed: flagBool(args, 'testbed'),
      checkpointFile: join(dir, LEDGER_CHECKPOINT_FILE),
      ...(operatorAddress ? { operatorAddress } : {}),
    });
    return { store, ledger };
  } catch (err) {
    store.close();
    throw err;
  }
}

function requireAddress(value: string | undefined, what: string): string {
  if (!value) throw new UsageError(`${what} is required`);
  if (!isAddress(value)) throw new UsageError(`${what} must be a local-ledger address (pf1 followed by 64 hex digits)`);
  return value;
}

function amountArg(value: string | undefined, what = '--amount'): bigint {
  if (value === undefined) throw new UsageError(`${what} is required`);
  try {
    return parsePositiveAmount(value, what);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function out(args: ParsedArgs, json: Record<string, unknown>, text: string): void {
  process.stdout.write((flagBool(args, 'json') ? JSON.stringify(json) : text) + '\n');
}

async function keygen(args: ParsedArgs): Promise<number> {
  const path = resolve(flagString(args, 'out') ?? './payflow-key.json');
  if (existsSync(path)) throw new Error(`${path} exists; not overwriting a key`);
  const key = SigningKey.generate();
  key.save(path);
  out(args, { address: key.address, publicKey: key.publicKeyHex, keyFile: path }, `${key.address}\nkey written to ${path}`);
  return 0;
}

async function faucet(args: ParsedArgs): Promise<number> {
  const [addressArg, amountText] = args.positionals;
  const address = requireAddress(addressArg, 'ADDRESS');
  const amount = amountArg(amountText, 'AMOUNT');
  const url = flagString(args, 'url');
  if (url) {
    const r = await new LedgerHttpClient(url, operatorTokenOption(args)).faucet(address, amount);
    out(args, { ...r }, `minted ${amount} to ${address} (entry ${r.seq})`);
    return 0;
  }
  if (!flagBool(args, 'testbed')) throw new UsageError('the faucet runs only with --testbed');
  const { store, ledger } = openLocal(args, true);
  try {
    if (!ledger.genesisTestbed) throw new Error(`${store.path} is a production ledger (its genesis entry says so): it never mints, --testbed or not`);
    const e = ledger.faucet(address, amount);
    out(args, { id: e.txId, seq: e.seq, hash: e.hash }, `minted ${amount} to ${address} (entry ${e.seq})`);
  } finally {
    store.close();
  }
  return 0;
}

async function balance(args: ParsedArgs): Promise<number> {
  const rpcUrl = flagString(args, 'iota-rpc');
  if (rpcUrl) {
    const { store, ledger } = openIota(args, rpcUrl, args.positionals[0] ?? '');
    try {
      const b = await ledger.balance(ledger.operatorAddress);
      out(args, { address: ledger.operatorAddress, balance: formatAmount(b), coinType: ledger.coinType }, formatAmount(b));
      return 0;
    } finally {
      store.close();
    }
  }
  const address = requireAddress(args.positionals[0], 'ADDRESS');
  const url = flagString(args, 'url');
  let account: { balance: bigint; nonce: number };
  if (url) account = await new LedgerHttpClient(url).account(address);
  else {
    const { store, ledger } = openLocal(args, false);
    try {
      account = ledger.account(address);
    } finally {
      store.close();
    }
  }
  out(args, { address, balance: formatAmount(account.balance), nonce: account.nonce }, `${formatAmount(account.balance)}`);
  return 0;
}

async function pay(args: ParsedArgs): Promise<number> {
  const keyPath = flagString(args, 'key');
  if (!keyPath) throw new UsageError('--key FILE is required');
  const key = SigningKey.load(keyPath);
  const to = requireAddress(flagString(args, 'to'), '--to');
  const amount = amountArg(flagString(args, 'amount'));
  const memo = flagString(args, 'memo') ?? '';
  const url = flagString(args, 'url');
  let id: string;
  let seq: number | undefined;
  if (url) {
    id = (await new LedgerHttpClient(url).pay(key, to, amount, memo)).id;
  } else {
    const { store, ledger } = openLocal(args, false);
    try {
      const nonce = ledger.account(key.address).nonce + 1;
      const e = ledger.transfer(signTransfer(key, { to, amount: formatAmount(amount), nonce, memo }));
      id = e.txId;
      seq = e.seq;
    } finally {
      store.close();
    }
  }
  out(args, { proof: { ledger: 'local', id }, ...(seq ? { seq } : {}) }, id);
  return 0;
}

/** Closes a timed-out channel for its payer: the ledger refuses before the timeout or twice. */
async function reclaim(args: ParsedArgs): Promise<number> {
  const channel = args.positionals[0];
  if (!channel || !/^[0-9a-f]{64}$/.test(channel)) throw new UsageError('CHANNEL (the 64-hex channel id) is required');
  const keyPath = flagString(args, 'key');
  if (!keyPath) throw new UsageError('--key FILE is required (the key that opened the channel)');
  const key = SigningKey.load(keyPath);
  const url = flagString(args, 'url');
  let before: bigint;
  let after: bigint;
  if (url) {
    const client = new LedgerHttpClient(url);
    before = await client.balance(key.address);
    await client.reclaimChannel(key, channel);
    after = await client.balance(key.address);
  } else {
    const { store, ledger } = openLocal(args, false);
    try {
      const account = ledger.account(key.address);
      before = account.balance;
      ledger.reclaimChannel(signChannelReclaim(key, { channel, nonce: account.nonce + 1 }));
      after = ledger.account(key.address).balance;
    } finally {
      store.close();
    }
  }
  const reclaimed = formatAmount(after - before);
  out(args, { channel, reclaimed, balance: formatAmount(after) }, `reclaimed ${reclaimed} from channel ${channel}; balance ${formatAmount(after)}`);
  return 0;
}

function openIota(args: ParsedArgs, rpcUrl: string, operatorAddress: string): { store: Store; ledger: IotaLedger } {
  const store = Store.open(join(dataDir(args), 'payflow.db'));
  try {
    const coinType = flagString(args, 'coin-type');
    return { store, ledger: new IotaLedger({ rpcUrl, operatorAddress, store, ...(coinType ? { coinType } : {}) }) };
  } catch (err) {
    store.close();
    throw err;
  }
}

async function verifyIota(args: ParsedArgs, rpcUrl: string): Promise<number> {
  const proof = flagString(args, 'proof');
  const payTo = flagString(args, 'pay-to');
  if (!proof || !payTo) throw new UsageError('with --iota-rpc, verify needs --proof DIGEST and --pay-to ADDRESS');
  const amountText = flagString(args, 'amount');
  const amount = amountText === undefined ? 0n : parseAmount(amountText, '--amount');
  const { store, ledger } = openIota(args, rpcUrl, payTo);
  try {
    const verdict = await ledger.verifyPayment({ ledger: 'iota', id: proof }, { payTo, amount, memo: flagString(args, 'memo') ?? '' });
    if (verdict.ok) {
      out(args, { ok: true, amount: formatAmount(verdict.amount), payer: verdict.payer }, `ok: paid ${verdict.amount} by ${verdict.payer}`);
      return 0;
    }
    out(args, { ok: false, reason: verdict.reason, message: verdict.message }, `refused: ${verdict.reason}: ${verdict.message}`);
    return 1;
  } finally {
    store.close();
  }
}

async function verify(args: ParsedArgs): Promise<number> {
  const rpcUrl = flagString(args, 'iota-rpc');
  if (rpcUrl) return verifyIota(args, rpcUrl);
  const { store, ledger } = openLocal(args, false);
  try {
    const proof = flagString(args, 'proof');
    if (proof) {
      const payTo = requireAddress(flagString(args, 'pay-to'), '--pay-to');
      const amountText = flagString(args, 'amount');
      const amount = amountText === undefined ? 0n : parseAmount(amountText, '--amount');
      const verdict = await ledger.verifyPayment({ ledger: 'local', id: proof }, { payTo, amount, memo: flagString(args, 'memo') ?? '' });
      if (verdict.ok) {
        out(args, { ok: true, amount: formatAmount(verdict.amount), payer: verdict.payer }, `ok: paid ${verdict.amount} by ${verdict.payer}`);
        return 0;
      }
      out(args, { ok: false, reason: verdict.reason, message: verdict.message }, `refused: ${verdict.reason}: ${verdict.message}`);
      return 1;
    }
    const result = auditLedger(store, { checkpointFile: ledger.checkpointFile! });
    if (result.ok) {
      const records = auditRecords(store, controllerOperator(args));
      if (!records.ok) {
        out(args, { ok: false, entries: result.entries, problem: { seq: null, reason: records.problem } }, `BAD records: ${records.problem}`);
        return 1;
      }
      out(args, { ...result, redemptions: records.redemptions, reservations: records.reservations }, `ok: ${result.entries} entries, chain intact, head ${result.head}`);
      return 0;
    }
    const where = result.problem.seq === null ? 'state' : `entry ${result.problem.seq}`;
    out(args, { ...result }, `BAD ${where}: ${result.problem.reason}`);
    return 1;
  } finally {
    store.close();
  }
}

/** The operator's address, from the controller's key in the data directory ('' when there is none). */
function controllerOperator(args: ParsedArgs): string {
  const keyPath = join(dataDir(args), 'operator-key.json');
  return existsSync(keyPath) ? SigningKey.load(keyPath).address : '';
}

/**
 * The one-time migration of a ledger made before checkpoints existed: audit the whole
 * journal, then sign its head into the checkpoint file. Refused when a checkpoint exists
 * (that one is the record to compare with, not to replace).
 */
async function checkpoint(args: ParsedArgs): Promise<number> {
  if (!flagBool(args, 'init')) throw new UsageError('checkpoint takes --init (the checkpoint is written by itself after every commit)');
  const { store, ledger } = openLocal(args, false);
  try {
    const file = ledger.checkpointFile!;
    if (existsSync(file)) throw new Error(`${file} exists: it is what the journal is compared with, and is not replaced`);
    const result = auditLedger(store);
    if (!result.ok) throw new Error(`the journal fails its audit (${result.problem.reason}); no checkpoint written`);
    if (!ledger.canCheckpoint) throw new Error(`the checkpoint is signed with the ledger's authority key, and ${join(dataDir(args), 'ledger-authority.json')} is not there`);
    ledger.checkpoint();
    out(args, { ok: true, entries: result.entries, head: result.head, file }, `checkpoint of ${result.entries} entries (head ${result.head}) written to ${file}`);
    return 0;
  } finally {
    store.close();
  }
}

async function serve(args: ParsedArgs): Promise<number> {
  const operator = flagString(args, 'operator');
  if (operator !== undefined) requireAddress(operator, '--operator');
  const portText = flagString(args, 'port') ?? '8090';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be 0..65535');
  const { store, ledger } = openLocal(args, true, operator);
  const server = await startLedgerApi({ ledger, store, host: flagString(args, 'host') ?? '127.0.0.1', port, logger: false });
  process.stderr.write(`payflow ledger: serving ${server.url} (ledger ${ledger.ledgerId}${ledger.testbed ? ', testbed faucet on for admin tokens' : ''})\n`);
  process.stdout.write(`${server.url}\n`);
  await new Promise<void>((resolveStop) => {
    const stop = () => resolveStop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  store.close();
  return 0;
}

const subcommands: Record<string, (args: ParsedArgs) => Promise<number>> = { keygen, faucet, balance, pay, reclaim, verify, checkpoint, serve };

export const ledgerCommand: Command = {
  name: 'ledger',
  usage,
  async run(argv) {
    const [sub, ...rest] = argv;
    if (!sub) throw new UsageError('a subcommand is required');
    const fn = subcommands[sub];
    if (!fn) throw new UsageError(`unknown subcommand '${sub}'`);
    return fn(parseArgs(rest, spec));
  },
};
