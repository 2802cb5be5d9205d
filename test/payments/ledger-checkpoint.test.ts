// The ledger checks itself from the command line: `payflow ledger verify` compares the
// journal with its signed checkpoint (a tail cut off, balances fixed to match, fails; a
// forged checkpoint fails), whether a ledger is a testbed is fixed in its genesis entry
// (the faucet refuses on a production ledger, --testbed or not), and `checkpoint --init`
// gives a ledger made before checkpoints existed its first one, once.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LEDGER_CHECKPOINT_FILE } from '../../src/payments/checkpoint.js';
import { SigningKey } from '../../src/payments/keys.js';
import { LocalLedger } from '../../src/payments/local-ledger.js';
import { Store } from '../../src/store/index.js';
import { runLedgerCli, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

const run = runLedgerCli;

describe('the ledger checks itself', () => {
  it('verify catches a truncated tail (balances fixed) and a forged checkpoint', () => {
    const data = join(dir, 'data');
    const aliceFile = join(dir, 'alice.json');
    const alice = run('keygen', '--out', aliceFile).out.split('\n')[0]!;
    const bob = SigningKey.generate().address;
    expect(run('faucet', alice, '1000', '--data', data, '--testbed').code).toBe(0);
    expect(run('pay', '--key', aliceFile, '--to', bob, '--amount', '300', '--data', data).code).toBe(0);
    expect(run('verify', '--data', data).out).toMatch(/^ok: 3 entries/);
    const checkpoint = JSON.parse(readFileSync(join(data, LEDGER_CHECKPOINT_FILE), 'utf8')) as { seq: number; head: string };
    expect(checkpoint.seq).toBe(3);
    // cut the last transfer and make the balances agree with what is left
    const db = new Database(join(data, 'payflow.db'));
    db.prepare('DELETE FROM ledger_entries WHERE seq = 3').run();
    db.prepare('UPDATE ledger_accounts SET balance = 1000, nonce = 0 WHERE address = ?').run(alice);
    db.prepare('DELETE FROM ledger_accounts WHERE address = ?').run(bob);
    db.close();
    const cut = run('verify', '--data', data);
    expect(cut.code).toBe(1);
    expect(cut.out).toMatch(/^BAD entry 3: the journal ends at entry 2, but its checkpoint .* names entry 3: entries 3…3 were removed/);
    // a checkpoint rewritten to match, without the authority key, is not believed
    writeFileSync(join(data, LEDGER_CHECKPOINT_FILE), JSON.stringify({ ...checkpoint, seq: 2 }));
    expect(run('verify', '--data', data).out).toMatch(/not signed by the ledger's authority key/);
    // nor is no checkpoint at all
    rmSync(join(data, LEDGER_CHECKPOINT_FILE));
    expect(run('verify', '--data', data).out).toMatch(/there is no checkpoint file/);
  });

  it('a production ledger never mints: the faucet refuses it, --testbed or not', () => {
    const data = join(dir, 'prod');
    const key = join(dir, 'k.json');
    const address = run('keygen', '--out', key).out.split('\n')[0]!;
    // a ledger created without --testbed (as `payflow ledger serve` or a controller without ledger.testbed make it)
    const store = Store.open(join(data, 'payflow.db'));
    const authority = SigningKey.generate();
    authority.save(join(data, 'ledger-authority.json'));
    const ledger = LocalLedger.open(store, { authorityKey: authority, testbed: false, checkpointFile: join(data, LEDGER_CHECKPOINT_FILE) });
    expect(ledger.genesisTestbed).toBe(false);
    store.close();
    const refused = run('faucet', address, '1000', '--data', data, '--testbed');
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/is a production ledger \(its genesis entry says so\): it never mints/);
    expect(run('balance', address, '--data', data).out).toBe('0');
    // opened as a testbed in the library too: still no mint
    const again = Store.open(join(data, 'payflow.db'));
    try {
      expect(() => LocalLedger.open(again, { authorityKey: authority, testbed: true }).faucet(address, 1n)).toThrow(/production ledger/);
    } finally {
      again.close();
    }
  });

  it('checkpoint --init: the one-time migration of a ledger that has no checkpoint', () => {
    const data = join(dir, 'old');
    const key = join(dir, 'k.json');
    const address = run('keygen', '--out', key).out.split('\n')[0]!;
    expect(run('faucet', address, '10', '--data', data, '--testbed').code).toBe(0);
    rmSync(join(data, LEDGER_CHECKPOINT_FILE)); // as a ledger from before checkpoints
    expect(run('verify', '--data', data).code).toBe(1);
    const init = run('checkpoint', '--init', '--data', data);
    expect(init.code).toBe(0);
    expect(init.out).toMatch(/^checkpoint of 2 entries/);
    expect(existsSync(join(data, LEDGER_CHECKPOINT_FILE))).toBe(true);
    expect(run('verify', '--data', data).code).toBe(0);
    expect(run('checkpoint', '--init', '--data', data)).toMatchObject({ code: 1, err: expect.stringMatching(/exists: it is what the journal is compared with/) });
  });
});
