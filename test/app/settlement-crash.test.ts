// Automatic channel settlement survives a crash: three reservations extended by their own
// channel end a few seconds apart, so the controller settles one channel after another;
// the real `payflow controller` process is killed with SIGKILL as soon as the first
// settlement is on the ledger, and started again on the same SQLite file. Afterwards every
// channel is settled exactly once (one channel-settle entry each), for its last voucher,
// the operator holds exactly what was paid, and `payflow ledger verify` passes.
// Needs `npm run build` first.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/api/client.js';
import { accountSigner } from '../../src/api/request-signature.js';
import { ChannelSigningKey } from '../../src/payments/channel-keys.js';
import { VoucherSigner } from '../../src/payments/channels.js';
import { LedgerHttpClient } from '../../src/payments/http-client.js';
import { SigningKey } from '../../src/payments/keys.js';
import { CLI, configText, fundingLedger, startCli, tempDir, type Started } from '../reservations/helpers.js';

const t = tempDir('payflow-settle-crash-');
const running: Started[] = [];
afterAll(() => {
  for (const s of running) s.child.kill('SIGKILL');
  t.cleanup();
});

async function until(what: string, test: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('automatic settlement across a crash', () => {
  it('SIGKILL in the middle of settling: after a restart every channel is settled once, nothing lost', async () => {
    const dataDir = join(t.dir, 'data');
    const file = join(t.dir, 'payflow.yaml');
    writeFileSync(file, configText(dataDir) + 'reservations: { channelSettleMargin: 60s, channelMinLifetime: 120s }\n');
    const first = await startCli(['controller', '--config', file]);
    running.push(first);
    const payer = SigningKey.generate();
    const api = new ApiClient(first.url, { signer: accountSigner(payer) });
    const ledger = fundingLedger(api.ledgerUrl);
    await ledger.faucet(payer.address, 10n ** 12n);
    const channelKey = ChannelSigningKey.generate('ed25519');
    const channels: { id: string; cumulative: bigint }[] = [];
    let paid = 0n;
    for (let i = 0; i < 3; i++) {
      // they end 4, 7 and 10 s from now (2 s bought, then 1 s and 1, 4 or 7 s more by voucher)
      const q = await api.quote({ src: '10.0.0.1', dst: '10.0.0.2', rate: '1mbit', duration: '2s' });
      const r = await api.reserve(q.quote.id, await ledger.pay(payer, q.quote.payTo, BigInt(q.quote.amount), q.quote.id));
      paid += BigInt(r.paid);
      const id = await ledger.openChannel(payer, q.quote.payTo, channelKey.publicKey, 10n ** 9n, Date.now() + 600_000);
      const signer = new VoucherSigner(channelKey, id, 10n ** 9n);
      await api.payVoucher(r.id, signer.pay(160_000n));
      const last = await api.payVoucher(r.id, signer.pay(BigInt(3 * i + 1) * 160_000n));
      expect(last.extendedByMs).toBe(1000 + 3000 * i);
      channels.push({ id, cumulative: signer.paid });
    }
    const db = new Database(join(dataDir, 'payflow.db'), { readonly: true });
    const settledNow = (): number => (db.prepare("SELECT COUNT(*) AS n FROM ledger_entries WHERE kind = 'channel-settle'").get() as { n: number }).n;
    await until('the first settlement', () => settledNow() >= 1);
    first.child.kill('SIGKILL');
    await first.exited;
    const atCrash = settledNow();
    expect(atCrash).toBeLessThan(3); // the crash came in the middle

    const second = await startCli(['controller', '--config', file]);
    running.push(second);
    await until('every channel settled', () => settledNow() === 3, 30_000);
    // let a few more sweeps run: still one settlement each
    await new Promise((r) => setTimeout(r, 1000));
    const perChannel = db.prepare("SELECT body FROM ledger_entries WHERE kind = 'channel-settle'").all() as { body: string }[];
    const settled = perChannel.map((e) => JSON.parse(e.body) as { voucher: { channel: string; cumulative: string; sequence: number } });
    expect(settled.map((s) => s.voucher.channel).sort()).toEqual(channels.map((c) => c.id).sort());
    for (const c of channels) {
      expect(settled.find((s) => s.voucher.channel === c.id)!.voucher).toMatchObject({ cumulative: c.cumulative.toString(), sequence: 2 });
      expect(db.prepare('SELECT settled_sequence AS s, settled_cumulative AS c FROM payment_channel_vouchers WHERE channel = ?').get(c.id)).toEqual({ s: 2, c: Number(c.cumulative) });
    }
    const vouchers = channels.reduce((sum, c) => sum + c.cumulative, 0n);
    const api2 = new ApiClient(second.url);
    expect(await new LedgerHttpClient(api2.ledgerUrl).balance((await api2.menu()).ledger.payTo)).toBe(paid + vouchers);
    expect(await api2.revenue()).toMatchObject({ total: String(paid + vouchers), unsettled: '0' });
    db.close();
    second.child.kill('SIGTERM');
    await second.exited;
    const verify = spawnSync('node', [CLI, 'ledger', 'verify', '--data', dataDir], { encoding: 'utf8' });
    expect(verify.stdout).toMatch(/^ok: \d+ entries, chain intact/);
    expect(verify.status).toBe(0);
  }, 180_000);
});
