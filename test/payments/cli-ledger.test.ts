// `payflow ledger ...` through the built CLI (node dist/src/cli/main.js, after
// `npx tsc -p tsconfig.json`): keygen, faucet (testbed only), pay, balance, verify — and
// verify naming the entry that was edited in the ledger file. `serve` runs as a real
// child process on a real socket and the other commands talk to it with --url; its faucet
// mints only with an admin token made by `payflow token create` in the same data directory.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runLedgerCli, tempDir } from './helpers.js';
import { Store } from '../../src/store/index.js';
import { LocalLedger } from '../../src/payments/local-ledger.js';
import { SigningKey } from '../../src/payments/keys.js';
import { ChannelSigningKey } from '../../src/payments/channel-keys.js';
import { signChannelOpen } from '../../src/payments/journal.js';
import { VoucherSigner } from '../../src/payments/channels.js';

const cli = 'dist/src/cli/main.js';
let dir: string;
let cleanup: () => void;

beforeEach(() => {
  if (!existsSync(cli)) throw new Error('build first: npx tsc -p tsconfig.json');
  ({ dir, cleanup } = tempDir());
});
afterEach(() => cleanup());

const run = runLedgerCli;

describe('payflow ledger (CLI)', () => {
  it('keygen, faucet, pay, balance and verify; an edited row is named by verify', () => {
    const data = join(dir, 'data');
    const aliceFile = join(dir, 'alice.json');
    const opFile = join(dir, 'operator.json');
    const alice = run('keygen', '--out', aliceFile);
    expect(alice.code).toBe(0);
    const aliceAddr = alice.out.split('\n')[0]!;
    expect(aliceAddr).toMatch(/^pf1[0-9a-f]{64}$/);
    expect(statSync(aliceFile).mode & 0o077).toBe(0);
    expect(JSON.parse(readFileSync(aliceFile, 'utf8')).address).toBe(aliceAddr);
    const op = JSON.parse(run('keygen', '--out', opFile, '--json').out) as { address: string };
    expect(run('keygen', '--out', opFile).code).toBe(1);

    const noTestbed = run('faucet', aliceAddr, '1000', '--data', data);
    expect(noTestbed.code).toBe(2);
    expect(noTestbed.err).toMatch(/--testbed/);
    expect(run('faucet', aliceAddr, '1000', '--data', data, '--testbed').code).toBe(0);
    expect(run('balance', aliceAddr, '--data', data).out).toBe('1000');

    const paid = run('pay', '--key', aliceFile, '--to', op.address, '--amount', '300', '--memo', 'quote-1', '--data', data);
    expect(paid.code).toBe(0);
    expect(paid.out).toMatch(/^[0-9a-f]{64}$/);
    expect(run('pay', '--key', aliceFile, '--to', op.address, '--amount', '5000', '--data', data)).toMatchObject({ code: 1 });
    expect(run('pay', '--key', aliceFile, '--to', op.address, '--amount', '0.5', '--data', data).code).toBe(2);
    run('pay', '--key', aliceFile, '--to', op.address, '--amount', '50', '--data', data);
    expect(JSON.parse(run('balance', aliceAddr, '--data', data, '--json').out)).toEqual({ address: aliceAddr, balance: '650', nonce: 2 });
    expect(run('balance', op.address, '--data', data).out).toBe('350');

    expect(run('verify', '--proof', paid.out, '--pay-to', op.address, '--amount', '300', '--memo', 'quote-1', '--data', data).code).toBe(0);
    const wrongMemo = run('verify', '--proof', paid.out, '--pay-to', op.address, '--amount', '300', '--memo', 'quote-2', '--data', data);
    expect(wrongMemo.code).toBe(1);
    expect(wrongMemo.out).toMatch(/memo_mismatch/);

    const ok = run('verify', '--data', data);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/ok: 4 entries/);

    const db = new Database(join(data, 'payflow.db'));
    const row = db.prepare("SELECT seq, body FROM ledger_entries WHERE tx_id = ?").get(paid.out) as { seq: number; body: string };
    db.prepare('UPDATE ledger_entries SET body = ? WHERE seq = ?').run(row.body.replace('"amount":"300"', '"amount":"3"'), row.seq);
    db.close();
    const bad = run('verify', '--data', data);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain(`BAD entry ${row.seq}:`);
    expect(JSON.parse(run('verify', '--data', data, '--json').out)).toMatchObject({ ok: false, problem: { seq: row.seq } });
  });

  it('a data directory whose database holds only operator tokens gets its ledger from the first faucet; reading commands still say there is none', () => {
    const data = join(dir, 'tokens-first');
    const made = spawnSync(process.execPath, [cli, 'token', 'create', '--name', 'ops', '--scope', 'admin', '--data-dir', data], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    const address = `pf1${'a'.repeat(64)}`;
    const none = run('balance', address, '--data', data);
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/no ledger at .*payflow\.db/);
    const minted = run('faucet', address, '5', '--data', data, '--testbed');
    expect(minted.code, minted.err).toBe(0);
    expect(run('balance', address, '--data', data).out).toBe('5');
    expect(existsSync(join(data, 'ledger-authority.json'))).toBe(true);
  });

  it('serve: the other commands work through --url against the running service', async () => {
    const data = join(dir, 'served');
    const aliceFile = join(dir, 'alice.json');
    const aliceAddr = run('keygen', '--out', aliceFile).out.split('\n')[0]!;
    const bobAddr = run('keygen', '--out', join(dir, 'bob.json')).out.split('\n')[0]!;
    const server = spawn(process.execPath, [cli, 'ledger', 'serve', '--data', data, '--port', '0', '--testbed'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((res, rej) => {
        let buf = '';
        server.stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          const line = buf.split('\n')[0];
          if (buf.includes('\n') && line) res(line.trim());
        });
        server.on('exit', (code) => rej(new Error(`serve exited with ${code}`)));
      });
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\/ledger$/);
      const asyncRun = (...args: string[]) =>
        new Promise<{ code: number | null; out: string; err: string }>((res) => {
          const c = spawn(process.execPath, [cli, 'ledger', ...args]);
          let out = '';
          let err = '';
          c.stdout.on('data', (d: Buffer) => (out += d.toString()));
          c.stderr.on('data', (d: Buffer) => (err += d.toString()));
          c.on('close', (code) => res({ code, out: out.trim(), err }));
        });
      // minting over HTTP needs an admin token of the ledger's data directory
      const noToken = await asyncRun('faucet', aliceAddr, '500', '--url', url);
      expect(noToken.code).toBe(1);
      expect(noToken.err).toMatch(/token_missing|operator token of scope admin/);
      const created = spawnSync(process.execPath, [cli, 'token', 'create', '--name', 'funder', '--scope', 'admin', '--data-dir', data, '--json'], { encoding: 'utf8' });
      expect(created.status, created.stderr).toBe(0);
      const token = (JSON.parse(created.stdout) as { token: string }).token;
      expect((await asyncRun('faucet', aliceAddr, '500', '--url', url, '--token', token)).code).toBe(0);
      const paid = await asyncRun('pay', '--key', aliceFile, '--to', bobAddr, '--amount', '120', '--url', url);
      expect(paid.code).toBe(0);
      expect(paid.out).toMatch(/^[0-9a-f]{64}$/);
      expect((await asyncRun('balance', bobAddr, '--url', url)).out).toBe('120');
      expect((await asyncRun('balance', aliceAddr, '--url', url)).out).toBe('380');
    } finally {
      server.kill('SIGTERM');
      await new Promise((res) => server.once('close', res));
    }
    expect(run('verify', '--data', data).code).toBe(0);
  });
});

describe('payflow ledger reclaim (CLI)', () => {
  it('returns what the payee did not settle, only after the timeout, only once, only to the payer', async () => {
    const data = join(dir, 'data');
    const payerFile = join(dir, 'payer.json');
    const strangerFile = join(dir, 'stranger.json');
    const payer = run('keygen', '--out', payerFile).out.split('\n')[0]!;
    run('keygen', '--out', strangerFile);
    expect(run('faucet', payer, '1000', '--data', data, '--testbed').code).toBe(0);
    // A channel of 600 to an operator, timing out in 8 s (room for a slow CLI start before it);
    // the operator settles a voucher of 250.
    const operator = SigningKey.generate();
    const channelKey = ChannelSigningKey.generate('ed25519');
    const store = Store.open(join(data, 'payflow.db'));
    let channel: string;
    let timeoutAt = 0;
    try {
      const ledger = LocalLedger.open(store, { authorityKey: SigningKey.load(join(data, 'ledger-authority.json')), testbed: true });
      timeoutAt = Date.now() + 8000;
      const opened = ledger.openChannel(signChannelOpen(SigningKey.load(payerFile), { payee: operator.address, channelKey: channelKey.publicKey, deposit: '600', timeoutAt, nonce: 1 }));
      channel = opened.txId; // a channel is named by the ledger id of its opening
      ledger.settleChannel(new VoucherSigner(channelKey, channel, 600n).pay(250n));
    } finally {
      store.close();
    }
    const early = run('reclaim', channel, '--key', payerFile, '--data', data);
    expect(Date.now()).toBeLessThan(timeoutAt); // the refusal below was before the timeout
    expect(early.code).toBe(1);
    expect(run('balance', payer, '--data', data).out).toBe('400'); // nothing moved
    await new Promise((r) => setTimeout(r, Math.max(0, timeoutAt - Date.now()) + 200));
    expect(run('reclaim', channel, '--key', strangerFile, '--data', data).code).toBe(1);
    const done = run('reclaim', channel, '--key', payerFile, '--data', data, '--json');
    expect(done.code, done.err).toBe(0);
    expect(JSON.parse(done.out)).toEqual({ channel, reclaimed: '350', balance: '750' });
    expect(run('reclaim', channel, '--key', payerFile, '--data', data).code).toBe(1);
    expect(run('verify', '--data', data).code).toBe(0);
    expect(run('reclaim', 'not-a-channel', '--key', payerFile, '--data', data).code).toBe(2);
  });
});
