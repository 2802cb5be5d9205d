// The controller audits its ledger before it starts (the real `payflow controller`
// process on a data directory it wrote itself): a journal entry edited in the file, a
// journal whose last entry was cut off with the balances fixed to match (only the signed
// checkpoint beside the file tells), and a reservation whose redemption was deleted each
// stop the start with exit status 1, naming what is wrong. Needs `npm run build` first.
import { spawn } from 'node:child_process';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/api/client.js';
import { accountSigner } from '../../src/api/request-signature.js';
import { SigningKey } from '../../src/payments/keys.js';
import { CLI, configText, fundingLedger, startCli, tempDir } from '../reservations/helpers.js';

const t = tempDir('payflow-ledger-start-');
afterAll(() => t.cleanup());

/** A copy of the good data directory and a config that points at it. */
function copy(name: string, good: string): { dir: string; file: string } {
  const dir = join(t.dir, name);
  cpSync(good, dir, { recursive: true });
  const file = join(t.dir, `${name}.yaml`);
  writeFileSync(file, configText(dir));
  return { dir, file };
}

/** Runs the controller until it exits (it should not start); its exit status and stderr. */
function startRefused(file: string): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [CLI, 'controller', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, stderr });
    }),
  );
}

describe('the controller refuses to start on a ledger that fails its audit', () => {
  const good = join(t.dir, 'good');
  let lastSeq = 0;
  let reservationId = '';
  beforeAll(async () => {
    const file = join(t.dir, 'good.yaml');
    writeFileSync(file, configText(good));
    const c = await startCli(['controller', '--config', file]);
    try {
      const payer = SigningKey.generate();
      const api = new ApiClient(c.url, { signer: accountSigner(payer) });
      const ledger = fundingLedger(api.ledgerUrl);
      await ledger.faucet(payer.address, 10n ** 12n);
      const q = await api.quote({ src: '10.0.0.1', dst: '10.0.0.2', rate: '1mbit', duration: '1h' });
      reservationId = (await api.reserve(q.quote.id, await ledger.pay(payer, q.quote.payTo, BigInt(q.quote.amount), q.quote.id))).id;
      // the last entry: a transfer to someone else
      await ledger.pay(payer, SigningKey.generate().address, 12_345n, 'gift');
    } finally {
      c.child.kill('SIGTERM');
      await c.exited;
    }
    const db = new Database(join(good, 'payflow.db'), { readonly: true });
    lastSeq = (db.prepare('SELECT MAX(seq) AS n FROM ledger_entries').get() as { n: number }).n;
    db.close();
  }, 120_000);

  it('the untouched directory starts', async () => {
    const { file } = copy('untouched', good);
    const c = await startCli(['controller', '--config', file]);
    c.child.kill('SIGTERM');
    expect((await c.exited).code).toBe(0);
  }, 60_000);

  it('an edited entry: refused, naming the entry', async () => {
    const { dir, file } = copy('edited', good);
    const db = new Database(join(dir, 'payflow.db'));
    db.prepare("UPDATE ledger_entries SET body = replace(body, '\"amount\":\"12345\"', '\"amount\":\"1\"') WHERE seq = ?").run(lastSeq);
    db.close();
    const r = await startRefused(file);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`fails its audit at entry ${lastSeq}: entry ${lastSeq} has been altered`));
  }, 60_000);

  it('a truncated tail with the balances fixed: the chain is valid, the checkpoint catches it', async () => {
    const { dir, file } = copy('truncated', good);
    const db = new Database(join(dir, 'payflow.db'));
    const last = JSON.parse((db.prepare('SELECT body FROM ledger_entries WHERE seq = ?').get(lastSeq) as { body: string }).body) as { from: string; to: string; amount: string };
    db.transaction(() => {
      db.prepare('DELETE FROM ledger_entries WHERE seq = ?').run(lastSeq);
      db.prepare('UPDATE ledger_accounts SET balance = balance + ?, nonce = nonce - 1 WHERE address = ?').run(BigInt(last.amount), last.from);
      db.prepare('DELETE FROM ledger_accounts WHERE address = ?').run(last.to);
    })();
    db.close();
    const r = await startRefused(file);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`fails its audit at entry ${lastSeq}: the journal ends at entry ${lastSeq - 1}, but its checkpoint .* names entry ${lastSeq}`));
  }, 60_000);

  it('a reservation in force whose redemption was deleted: refused, naming the reservation', async () => {
    const { dir, file } = copy('unredeemed', good);
    const db = new Database(join(dir, 'payflow.db'));
    db.prepare('DELETE FROM payment_redemptions WHERE reservation_id = ?').run(reservationId);
    db.close();
    const r = await startRefused(file);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`reservation ${reservationId} is in force but no redeemed payment bought it`);
  }, 60_000);
});
