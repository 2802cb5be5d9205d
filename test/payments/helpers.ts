// Shared fixtures for the payments tests: a fresh temporary directory per test (removed
// afterwards) and a testbed local ledger in a real SQLite file inside it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../src/store/index.js';
import { LocalLedger } from '../../src/payments/local-ledger.js';
import { SigningKey } from '../../src/payments/keys.js';

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'payflow-payments-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface LedgerFixture {
  dir: string;
  dbPath: string;
  store: Store;
  ledger: LocalLedger;
  authority: SigningKey;
  operator: SigningKey;
  alice: SigningKey;
  cleanup: () => void;
}

export function ledgerFixture(options: { now?: () => number } = {}): LedgerFixture {
  const { dir, cleanup } = tempDir();
  const dbPath = join(dir, 'payflow.db');
  const store = Store.open(dbPath);
  const authority = SigningKey.generate();
  const operator = SigningKey.generate();
  const alice = SigningKey.generate();
  const ledger = LocalLedger.open(store, {
    authorityKey: authority,
    operatorAddress: operator.address,
    testbed: true,
    ...(options.now ? { now: options.now } : {}),
  });
  return {
    dir,
    dbPath,
    store,
    ledger,
    authority,
    operator,
    alice,
    cleanup: () => {
      store.close();
      cleanup();
    },
  };
}
