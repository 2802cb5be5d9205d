// Ed25519 keys for PayFlow's own signatures (local ledger transfers, channel openings,
// quotes and receipts), with node:crypto (RFC 8032 Ed25519 via OpenSSL). Channel vouchers
// may be signed with another scheme; their keys are in channel-keys.ts. Every signed
// message starts with a domain tag ("payflow/transfer/v1\n", ...) so that a signature
// made for one kind of message can never be replayed as another kind.
//
// A local-ledger address is the raw 32-byte public key in hex behind the prefix `pf1`,
// so a transfer's signature can be checked from its `from` address alone.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';

export const ADDRESS_PREFIX = 'pf1';
const ADDRESS_RE = /^pf1[0-9a-f]{64}$/;
// DER prefixes that wrap a raw Ed25519 key as SPKI (public) and PKCS#8 (private).
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export type SignatureDomain =
  | 'transfer'
  | 'mint'
  | 'channel-open'
  | 'channel-reclaim'
  | 'voucher'
  | 'quote'
  | 'receipt'
  | 'entry'
  | 'checkpoint'
  | 'http-request';

export function domainTag(domain: SignatureDomain): Buffer {
  return Buffer.from(`payflow/${domain}/v1\n`, 'utf8');
}

export class KeyError extends Error {
  override name = 'KeyError';
}

export interface KeyFile {
  type: 'ed25519';
  /** raw 32-byte public key, hex */
  publicKey: string;
  /** raw 32-byte private seed, hex */
  privateKey: string;
  address: string;
}

export class SigningKey {
  readonly publicKeyHex: string;
  readonly address: string;
  private readonly privateKey: KeyObject;

  private constructor(privateKey: KeyObject, publicKeyRaw: Buffer) {
    this.privateKey = privateKey;
    this.publicKeyHex = publicKeyRaw.toString('hex');
    this.address = ADDRESS_PREFIX + this.publicKeyHex;
  }

  static generate(): SigningKey {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    return new SigningKey(privateKey, rawPublicKey(publicKey));
  }

  /** From the raw 32-byte seed (hex). */
  static fromSeedHex(seedHex: string): SigningKey {
    const privateKey = ed25519PrivateKeyFromSeed(seedHex);
    return new SigningKey(privateKey, rawPublicKey(createPublicKey(privateKey)));
  }

  static fromKeyFile(file: KeyFile): SigningKey {
    if (file.type !== 'ed25519') throw new KeyError(`unsupported key type '${String(file.type)}'`);
    const key = SigningKey.fromSeedHex(file.privateKey);
    if (file.publicKey && file.publicKey.toLowerCase() !== key.publicKeyHex) {
      throw new KeyError('key file: the public key does not match the private key');
    }
    return key;
  }

  static load(path: string): SigningKey {
    return SigningKey.fromKeyFile(readKeyFile(path, 'key file') as unknown as KeyFile);
  }

  toKeyFile(): KeyFile {
    const der = this.privateKey.export({ format: 'der', type: 'pkcs8' });
    return {
      type: 'ed25519',
      publicKey: this.publicKeyHex,
      privateKey: der.subarray(der.length - 32).toString('hex'),
      address: this.address,
    };
  }

  /** Writes the key file readable by its owner only. */
  save(path: string): void {
    writeKeyFile(path, this.toKeyFile());
  }

  /** Signs domainTag || message; returns the 64-byte signature as hex. */
  sign(domain: SignatureDomain, message: string | Uint8Array): string {
    return sign(null, withDomain(domain, message), this.privateKey).toString('hex');
  }

}

/** The private key object of a raw 32-byte Ed25519 seed (hex), wrapped as PKCS#8 (RFC 8410). */
export function ed25519PrivateKeyFromSeed(seedHex: string): KeyObject {
  if (!/^[0-9a-f]{64}$/i.test(seedHex)) throw new KeyError('an Ed25519 private key is 32 bytes of hex');
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, Buffer.from(seedHex, 'hex')]), format: 'der', type: 'pkcs8' });
}

/** A key file's JSON object; KeyError names the file when it cannot be read or is not an object. */
export function readKeyFile(path: string, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new KeyError(`cannot read ${what} ${path}: ${(err as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new KeyError(`${what} ${path} is not a JSON object`);
  return parsed as Record<string, unknown>;
}

/** Writes a key file readable by its owner only; never overwrites an existing file. */
export function writeKeyFile(path: string, content: object): void {
  writeFileSync(path, JSON.stringify(content, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
}

function rawPublicKey(key: KeyObject): Buffer {
  const der = key.export({ format: 'der', type: 'spki' });
  return der.subarray(der.length - 32);
}

function withDomain(domain: SignatureDomain, message: string | Uint8Array): Buffer {
  const body = typeof message === 'string' ? Buffer.from(message, 'utf8') : Buffer.from(message);
  return Buffer.concat([domainTag(domain), body]);
}

export function isAddress(value: unknown): value is string {
  return typeof value === 'string' && ADDRESS_RE.test(value);
}

export function isPublicKeyHex(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{64}$/.test(value);
}

export function publicKeyOfAddress(address: string): string {
  if (!isAddress(address)) throw new KeyError(`not a local-ledger address: ${address}`);
  return address.slice(ADDRESS_PREFIX.length);
}

export function addressOfPublicKey(publicKeyHex: string): string {
  if (!isPublicKeyHex(publicKeyHex)) throw new KeyError('a public key is 32 bytes of lowercase hex');
  return ADDRESS_PREFIX + publicKeyHex;
}

// Building a KeyObject costs more than many verifications; keep the recent ones.
const publicKeyCache = new Map<string, KeyObject>();
const PUBLIC_KEY_CACHE_LIMIT = 4096;

export function publicKeyObject(publicKeyHex: string): KeyObject {
  let key = publicKeyCache.get(publicKeyHex);
  if (!key) {
    if (!isPublicKeyHex(publicKeyHex)) throw new KeyError('a public key is 32 bytes of lowercase hex');
    key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, Buffer.from(publicKeyHex, 'hex')]), format: 'der', type: 'spki' });
    if (publicKeyCache.size >= PUBLIC_KEY_CACHE_LIMIT) publicKeyCache.clear();
    publicKeyCache.set(publicKeyHex, key);
  }
  return key;
}

/** Verifies a hex signature over domainTag || message; false for any malformed input. */
export function verifySignature(
  domain: SignatureDomain,
  message: string | Uint8Array,
  signatureHex: unknown,
  publicKeyHex: string,
): boolean {
  if (typeof signatureHex !== 'string' || !/^[0-9a-f]{128}$/.test(signatureHex)) return false;
  return verifyRaw(withDomain(domain, message), Buffer.from(signatureHex, 'hex'), publicKeyHex);
}

/** Verifies a 64-byte Ed25519 signature over bytes; false for any malformed input. */
function verifyRaw(bytes: Uint8Array, signature: Uint8Array, publicKeyHex: string): boolean {
  if (signature.length !== 64) return false;
  let key: KeyObject;
  try {
    key = publicKeyObject(publicKeyHex);
  } catch {
    return false;
  }
  try {
    return verify(null, bytes, key, signature);
  } catch {
    return false;
  }
}
