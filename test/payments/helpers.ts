// Shared fixtures for the payments tests: a fresh temporary directory per test (removed
// afterwards), a testbed local ledger in a real SQLite file inside it, and malformed
// channel keys (each with the error it must get).
import { spawnSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../src/store/index.js';
import { LocalLedger } from '../../src/payments/local-ledger.js';
import { SigningKey } from '../../src/payments/keys.js';
import type { ChannelSigningKey } from '../../src/payments/channel-keys.js';

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'payflow-payments-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `payflow ledger ARGS...` through the built CLI: exit status and trimmed output. */
export function runLedgerCli(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['dist/src/cli/main.js', 'ledger', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
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

export interface MalformedChannelKey {
  name: string;
  channelKey: string;
  /** what the KeyError (and the ledger's 'malformed' error) must say */
  error: RegExp;
}

const RSA_PREFIX = 'rsa-pss-3072:';

/**
 * Channel keys that must be refused, built around a valid rsa-pss-3072 key: wrong prefixes,
 * a 2048-bit key, exponent 3 (the valid key's modulus with e = 3, so no extra 3072-bit key
 * generation), bad base64url and DER, a non-canonical encoding and a non-RSA key.
 */
export function malformedChannelKeys(rsa: ChannelSigningKey): MalformedChannelKey[] {
  const body = rsa.publicKey.slice(RSA_PREFIX.length);
  const der = Buffer.from(body, 'base64url');
  const spki = (key: ReturnType<typeof createPublicKey>) => key.export({ format: 'der', type: 'spki' }).toString('base64url');
  const jwk = createPublicKey({ key: der, format: 'der', type: 'spki' }).export({ format: 'jwk' });
  const exponent3 = spki(createPublicKey({ key: { kty: 'RSA', n: jwk.n!, e: 'Aw' }, format: 'jwk' }));
  const rsa2048 = spki(generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 65537 }).publicKey);
  const ed25519 = SigningKey.generate();
  const ed25519Spki = spki(createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(ed25519.publicKeyHex, 'hex')]), format: 'der', type: 'spki' }));
  return [
    { name: 'an unknown scheme prefix', channelKey: 'rsa-pss-2048:' + body, error: /unknown channel key scheme 'rsa-pss-2048'/ },
    { name: 'a prefixed ed25519 key', channelKey: 'ed25519:' + ed25519.publicKeyHex, error: /ed25519 channel key is written without a prefix/ },
    { name: 'an upper-case prefix', channelKey: 'RSA-PSS-3072:' + body, error: /not a channel key/ },
    { name: 'upper-case ed25519 hex', channelKey: ed25519.publicKeyHex.toUpperCase(), error: /not a channel key/ },
    { name: 'an empty string', channelKey: '', error: /not a channel key/ },
    { name: 'a 2048-bit RSA key', channelKey: RSA_PREFIX + rsa2048, error: /3072-bit modulus, not 2048 bits/ },
    { name: 'RSA with exponent 3', channelKey: RSA_PREFIX + exponent3, error: /public exponent 65537, not 3/ },
    { name: 'characters outside base64url', channelKey: RSA_PREFIX + body.slice(0, 100) + '+/' + body.slice(102), error: /base64url/ },
    { name: 'base64 padding', channelKey: RSA_PREFIX + body + '=', error: /base64url/ },
    { name: 'garbage base64url', channelKey: RSA_PREFIX + Buffer.from('this is not a public key').toString('base64url'), error: /not an SPKI public key/ },
    { name: 'trailing bytes after the DER', channelKey: RSA_PREFIX + Buffer.concat([der, Buffer.from([0])]).toString('base64url'), error: /canonical form/ },
    { name: 'an Ed25519 SPKI behind the RSA prefix', channelKey: RSA_PREFIX + ed25519Spki, error: /plain RSA key/ },
  ];
}
