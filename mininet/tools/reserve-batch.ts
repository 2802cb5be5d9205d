// The testbed's batch buyer for the setup-latency scenario: buys N
// reservations, one per UDP destination port (dst-port-base .. dst-port-base + N - 1), either
// one after another (--concurrency 1) or N at once (--concurrency N), each the whole way a
// user buys one: quote, pay on the ledger, POST the reservation. One process, so that the
// figure is the system's and not N Node start-ups. Each buyer has its own wallet (payments
// from one wallet are ordered by nonce), funded from the testbed faucet (with the run's
// admin token, --token: minting needs one) before anything is timed. Writes one JSON record per purchase with wall-clock times (ms since the epoch, the
// clock the receiver in the other host uses: one machine):
//   { i, dstPort, startedAt, quotedAt, paidAt, reservedAt, ok, id?, error? }
//
//   node dist/mininet/tools/reserve-batch.js --api URL --token ADMIN_TOKEN --src IP --dst IP --dst-port-base P
//        --count N --concurrency C --rate RATE --duration TIME [--class ID] --out FILE
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { ApiClient } from '../../src/api/client.js';
import type { QuoteRequest } from '../../src/reservations/types.js';
import { flagString, parseArgs } from '../../src/cli/args.js';
import { LedgerHttpClient } from '../../src/payments/http-client.js';
import { SigningKey } from '../../src/payments/keys.js';

interface Purchase {
  i: number;
  dstPort: number;
  startedAt: number;
  quotedAt?: number;
  paidAt?: number;
  reservedAt?: number;
  ok: boolean;
  id?: string;
  error?: string;
}

/** Wall-clock ms with sub-ms resolution. */
function now(): number {
  return performance.timeOrigin + performance.now();
}

function required(value: string | undefined, name: string): string {
  if (value === undefined) throw new Error(`--${name} is required`);
  return value;
}

function positiveInt(value: string, name: string): number {
  if (!/^[0-9]{1,6}$/.test(value) || Number(value) < 1) throw new Error(`--${name} must be a positive whole number`);
  return Number(value);
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv, {
    values: ['api', 'token', 'src', 'dst', 'dst-port-base', 'count', 'concurrency', 'rate', 'duration', 'class', 'out'],
    switches: [],
  });
  const api = new ApiClient(required(flagString(args, 'api'), 'api'));
  const count = positiveInt(required(flagString(args, 'count'), 'count'), 'count');
  const concurrency = Math.min(count, positiveInt(flagString(args, 'concurrency') ?? '1', 'concurrency'));
  const portBase = positiveInt(required(flagString(args, 'dst-port-base'), 'dst-port-base'), 'dst-port-base');
  const out = required(flagString(args, 'out'), 'out');
  const base: QuoteRequest = {
    src: required(flagString(args, 'src'), 'src'),
    dst: required(flagString(args, 'dst'), 'dst'),
    rate: required(flagString(args, 'rate'), 'rate'),
    duration: required(flagString(args, 'duration'), 'duration'),
    proto: 17,
  };
  const cls = flagString(args, 'class');
  if (cls !== undefined) base.classId = cls;
  // the testbed's admin token: minting on the faucet needs one
  const ledger = new LedgerHttpClient(api.ledgerUrl, { token: required(flagString(args, 'token'), 'token') });

  // Not timed: one wallet per buyer, each funded with three times a quote's price.
  const probe = await api.quote({ ...base, dstPort: portBase });
  const funds = BigInt(probe.quote.amount) * 3n + 1000n;
  const wallets = Array.from({ length: count }, () => SigningKey.generate());
  for (const w of wallets) await ledger.faucet(w.address, funds);
  process.stderr.write(`reserve-batch: ${count} wallets funded; buying ${count} reservations, ${concurrency} at a time\n`);

  const purchases: Purchase[] = [];
  let next = 0;
  async function buyer(): Promise<void> {
    while (next < count) {
      const i = next++;
      const p: Purchase = { i, dstPort: portBase + i, startedAt: now(), ok: false };
      purchases.push(p);
      try {
        const q = await api.quote({ ...base, dstPort: p.dstPort });
        p.quotedAt = now();
        const proof = await ledger.pay(wallets[i]!, q.quote.payTo, BigInt(q.quote.amount), q.quote.id);
        p.paidAt = now();
        const r = await api.reserve(q.quote.id, proof);
        p.reservedAt = now();
        p.ok = true;
        p.id = r.id;
      } catch (err) {
        p.error = (err as Error).message;
      }
    }
  }
  const t0 = now();
  await Promise.all(Array.from({ length: concurrency }, () => buyer()));
  const failed = purchases.filter((p) => !p.ok);
  purchases.sort((a, b) => a.i - b.i);
  writeFileSync(out, JSON.stringify({ count, concurrency, startedAt: t0, finishedAt: now(), purchases }, null, 1) + '\n');
  process.stderr.write(`reserve-batch: ${count - failed.length}/${count} reserved in ${((now() - t0) / 1000).toFixed(2)} s` +
    (failed.length ? `; first failure: ${failed[0]!.error}` : '') + '\n');
  return failed.length ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`reserve-batch: ${(err as Error).message}\n`);
    process.exit(2);
  },
);
