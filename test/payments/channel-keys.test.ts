// Channel keys (src/payments/channel-keys.ts): the two schemes' wire forms, signing and
// verification, the RSASSA-PSS parameters checked against an independent implementation
// (WebCrypto: SHA-256, MGF1-SHA-256, 32-byte salt, RFC 8017), the refusal of malformed
// keys with a KeyError that says what is wrong, and key files. RSA keys are generated once
// for the file.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyError, SigningKey } from '../../src/payments/keys.js';
import {
  CHANNEL_KEY_PATTERN,
  ChannelSigningKey,
  DEFAULT_CHANNEL_KEY_SCHEME,
  VOUCHER_SIGNATURE_PATTERN,
  isChannelKey,
  parseChannelKey,
  verifyChannelSignature,
} from '../../src/payments/channel-keys.js';
import { voucherMessage } from '../../src/payments/channels.js';
import { malformedChannelKeys, tempDir } from './helpers.js';

let rsa: ChannelSigningKey;
let rsaOther: ChannelSigningKey;
let ed: ChannelSigningKey;
const dir = tempDir();
const message = voucherMessage('c7'.repeat(32), 1234n, 5);

beforeAll(() => {
  rsa = ChannelSigningKey.generate(); // the default scheme
  rsaOther = ChannelSigningKey.generate('rsa-pss-3072');
  ed = ChannelSigningKey.generate('ed25519');
});
afterAll(() => dir.cleanup());

describe('channel keys', () => {
  it('clients generate rsa-pss-3072 keys by default', () => {
    expect(DEFAULT_CHANNEL_KEY_SCHEME).toBe('rsa-pss-3072');
    expect(rsa.scheme).toBe('rsa-pss-3072');
  });

  it('have one wire form per scheme: bare hex for ed25519, prefix + base64url SPKI for rsa-pss-3072', () => {
    expect(ed.publicKey).toMatch(/^[0-9a-f]{64}$/);
    expect(rsa.publicKey).toMatch(/^rsa-pss-3072:[A-Za-z0-9_-]{563}$/);
    expect(parseChannelKey(ed.publicKey)).toMatchObject({ scheme: 'ed25519', signatureBytes: 64 });
    const parsed = parseChannelKey(rsa.publicKey);
    expect(parsed).toMatchObject({ scheme: 'rsa-pss-3072', signatureBytes: 384 });
    expect(parsed.key.asymmetricKeyDetails).toEqual({ modulusLength: 3072, publicExponent: 65537n });
    // the JSON-schema patterns admit both wire forms and both signature lengths
    expect(new RegExp(CHANNEL_KEY_PATTERN).test(ed.publicKey) && new RegExp(CHANNEL_KEY_PATTERN).test(rsa.publicKey)).toBe(true);
    expect(new RegExp(VOUCHER_SIGNATURE_PATTERN).test('a'.repeat(128)) && new RegExp(VOUCHER_SIGNATURE_PATTERN).test('a'.repeat(768))).toBe(true);
    expect(new RegExp(VOUCHER_SIGNATURE_PATTERN).test('a'.repeat(130))).toBe(false);
  });

  it('sign and verify raw bytes; a signature of another key, scheme or message does not verify', () => {
    for (const [key, other] of [[rsa, rsaOther], [ed, ChannelSigningKey.generate('ed25519')]] as const) {
      const signature = key.signRaw(message).toString('hex');
      expect(signature).toHaveLength(parseChannelKey(key.publicKey).signatureBytes * 2);
      expect(verifyChannelSignature(key.publicKey, message, signature)).toBe(true);
      expect(verifyChannelSignature(other.publicKey, message, signature)).toBe(false);
      expect(verifyChannelSignature(key.publicKey, voucherMessage('c7'.repeat(32), 1235n, 5), signature)).toBe(false);
      expect(verifyChannelSignature(key.publicKey, message, signature.slice(2))).toBe(false);
      expect(verifyChannelSignature(key.publicKey, message, signature.toUpperCase())).toBe(false);
      expect(verifyChannelSignature(key.publicKey, message, 42)).toBe(false);
      expect(verifyChannelSignature('not a key', message, signature)).toBe(false);
    }
    // a signature of the other scheme, and one of the right length made by the other scheme's key material
    expect(verifyChannelSignature(rsa.publicKey, message, ed.signRaw(message).toString('hex'))).toBe(false);
    expect(verifyChannelSignature(ed.publicKey, message, rsa.signRaw(message).toString('hex'))).toBe(false);
  });

  it('rsa-pss-3072 signatures are RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt (checked with WebCrypto)', async () => {
    const spki = Buffer.from(rsa.publicKey.slice('rsa-pss-3072:'.length), 'base64url');
    const key = await crypto.subtle.importKey('spki', spki, { name: 'RSA-PSS', hash: 'SHA-256' }, false, ['verify']);
    const ours = rsa.signRaw(message);
    expect(ours).toHaveLength(384);
    expect(await crypto.subtle.verify({ name: 'RSA-PSS', saltLength: 32 }, key, ours, message)).toBe(true);
    expect(await crypto.subtle.verify({ name: 'RSA-PSS', saltLength: 20 }, key, ours, message)).toBe(false);
    // randomised: two signatures of the same bytes differ, both verify
    const again = rsa.signRaw(message);
    expect(again.equals(ours)).toBe(false);
    expect(verifyChannelSignature(rsa.publicKey, message, again.toString('hex'))).toBe(true);
    // and a WebCrypto signature with other PSS parameters is refused by ours
    const pair = await crypto.subtle.generateKey({ name: 'RSA-PSS', modulusLength: 3072, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify']);
    const theirs = 'rsa-pss-3072:' + Buffer.from(await crypto.subtle.exportKey('spki', pair.publicKey)).toString('base64url');
    expect(isChannelKey(theirs)).toBe(true);
    const salt32 = Buffer.from(await crypto.subtle.sign({ name: 'RSA-PSS', saltLength: 32 }, pair.privateKey, message)).toString('hex');
    const salt0 = Buffer.from(await crypto.subtle.sign({ name: 'RSA-PSS', saltLength: 0 }, pair.privateKey, message)).toString('hex');
    expect(verifyChannelSignature(theirs, message, salt32)).toBe(true);
    expect(verifyChannelSignature(theirs, message, salt0)).toBe(false);
  });

  it('refuses malformed keys with a KeyError that says what is wrong', () => {
    for (const { name, channelKey, error } of malformedChannelKeys(rsa)) {
      expect(() => parseChannelKey(channelKey), name).toThrow(KeyError);
      expect(() => parseChannelKey(channelKey), name).toThrow(error);
      expect(isChannelKey(channelKey), name).toBe(false);
      expect(verifyChannelSignature(channelKey, message, rsa.signRaw(message).toString('hex')), name).toBe(false);
    }
    expect(() => parseChannelKey(42)).toThrow(/a channel key is a string/);
  });

  it('save to and load from a key file readable by its owner only', () => {
    for (const key of [rsa, ed]) {
      const path = join(dir.dir, `${key.scheme}.json`);
      key.save(path);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(() => key.save(path)).toThrow(); // never overwrites
      const loaded = ChannelSigningKey.load(path);
      expect(loaded.scheme).toBe(key.scheme);
      expect(loaded.publicKey).toBe(key.publicKey);
      expect(verifyChannelSignature(key.publicKey, message, loaded.signRaw(message).toString('hex'))).toBe(true);
    }
    expect(() => ChannelSigningKey.fromKeyFile({ ...rsa.toKeyFile(), publicKey: rsaOther.publicKey })).toThrow(/does not match/);
    expect(() => ChannelSigningKey.fromKeyFile({ ...rsa.toKeyFile(), scheme: 'ed25519' })).toThrow(/holds an rsa key/);
    expect(() => ChannelSigningKey.fromKeyFile({ ...ed.toKeyFile(), scheme: 'rsa-pss-3072' })).toThrow(/plain RSA key/);
    expect(() => ChannelSigningKey.fromKeyFile({ ...ed.toKeyFile(), privateKey: 'AAAA' })).toThrow(KeyError);
    expect(() => ChannelSigningKey.load(join(dir.dir, 'missing.json'))).toThrow(/cannot read channel key file/);
  });

  it('wraps a payer\'s Ed25519 account key as an ed25519 channel key', () => {
    const account = SigningKey.generate();
    const key = ChannelSigningKey.fromSigningKey(account);
    expect(key.publicKey).toBe(account.publicKeyHex);
    expect(verifyChannelSignature(account.publicKeyHex, message, key.signRaw(message).toString('hex'))).toBe(true);
  });
});
