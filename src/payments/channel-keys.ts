// Channel keys: the keys that sign micropayment-channel vouchers, and the one place that
// knows their signature schemes. A channel key is a property of the channel (named in its
// opening), so each channel picks its scheme:
//   ed25519       Ed25519 (RFC 8032). Wire form: the raw 32-byte public key as 64 lowercase
//                 hex characters, with no prefix (the form channels had before schemes, so
//                 existing stores keep working). Signatures: 64 bytes.
//   rsa-pss-3072  RSASSA-PSS (RFC 8017 §8.1) with SHA-256, MGF1-SHA-256 and a 32-byte salt,
//                 over a 3072-bit modulus with public exponent 65537. Wire form:
//                 "rsa-pss-3072:" + base64url (RFC 4648 §5, no padding) of the SubjectPublicKeyInfo
//                 DER (rsaEncryption OID, RFC 8017 Appendix A.1). Signatures: 384 bytes.
// Both are 128-bit secure. RSA exists because the operator verifies every voucher and the
// client signs only its own: RSA verification (small public exponent) is about twice as
// fast as Ed25519's on our CPU, while RSA signing is slow but cheap enough for one client.
//
// Every wire form is canonical (one key, one string): a parsed RSA key must re-encode to
// exactly the string it came from, which refuses trailing bytes, padding and other base64
// spellings. channels.ts, journal.ts and the HTTP schemas ask this module; none of them
// branches on the scheme.
import {
  constants,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
  type SignKeyObjectInput,
  type VerifyKeyObjectInput,
} from 'node:crypto';
import { KeyError, ed25519PrivateKeyFromSeed, publicKeyObject, readKeyFile, writeKeyFile, type SigningKey } from './keys.js';

export type ChannelKeyScheme = 'ed25519' | 'rsa-pss-3072';

/** What clients generate unless told otherwise: the operator's verification is the bottleneck. */
export const DEFAULT_CHANNEL_KEY_SCHEME: ChannelKeyScheme = 'rsa-pss-3072';

export interface ParsedChannelKey {
  scheme: ChannelKeyScheme;
  key: KeyObject;
  /** the length of this scheme's signatures, in bytes */
  signatureBytes: number;
}

interface SchemeDefinition {
  /** bytes per signature (RSA: the modulus length) */
  signatureBytes: number;
  /** the wire prefix; Ed25519 has none (its bare hex form predates schemes) */
  prefix: string;
  /** JSON-schema shape of the wire form (the full check is `decode`) */
  shapePattern: string;
  /** the wire form in words, for error messages */
  wireForm: string;
  /** wire form (without prefix) → public key; throws KeyError */
  decode(body: string): KeyObject;
  /** public key → wire form (without prefix) */
  encode(publicKey: KeyObject): string;
  generate(): { publicKey: KeyObject; privateKey: KeyObject };
  /** whether the private key is one this scheme signs with; throws KeyError if not */
  checkPrivateKey(privateKey: KeyObject): void;
  sign(bytes: Uint8Array, privateKey: KeyObject): Buffer;
  verify(bytes: Uint8Array, publicKey: KeyObject, signature: Uint8Array): boolean;
}

const RSA_BITS = 3072;
const RSA_EXPONENT = 65537;
const RSA_PSS_SALT_BYTES = 32;
const BASE64URL_RE = /^[A-Za-z0-9_-]+$/;

// RSASSA-PSS as RFC 8017 §8.1 with SHA-256; OpenSSL's MGF1 hash defaults to the message
// hash, and a fixed salt length makes verification refuse any other salt length.
function rsaPssOptions(key: KeyObject): SignKeyObjectInput & VerifyKeyObjectInput {
  return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: RSA_PSS_SALT_BYTES };
}

function checkRsaKey(key: KeyObject, what: string): void {
  if (key.asymmetricKeyType !== 'rsa') {
    throw new KeyError(`${what} must be a plain RSA key (rsaEncryption), not ${String(key.asymmetricKeyType)}`);
  }
  const details = key.asymmetricKeyDetails ?? {};
  if (details.modulusLength !== RSA_BITS) {
    throw new KeyError(`${what} must have a ${RSA_BITS}-bit modulus, not ${String(details.modulusLength)} bits`);
  }
  if (details.publicExponent !== BigInt(RSA_EXPONENT)) {
    throw new KeyError(`${what} must have the public exponent ${RSA_EXPONENT}, not ${String(details.publicExponent)}`);
  }
}

const SCHEMES: Readonly<Record<ChannelKeyScheme, SchemeDefinition>> = {
  ed25519: {
    signatureBytes: 64,
    prefix: '',
    shapePattern: '[0-9a-f]{64}',
    wireForm: '64 lowercase hex characters',
    decode(body) {
      if (!/^[0-9a-f]{64}$/.test(body)) throw new KeyError('an ed25519 channel key is 64 lowercase hex characters (the raw public key)');
      return publicKeyObject(body);
    },
    encode(publicKey) {
      const der = publicKey.export({ format: 'der', type: 'spki' });
      return der.subarray(der.length - 32).toString('hex');
    },
    generate: () => generateKeyPairSync('ed25519'),
    checkPrivateKey(privateKey) {
      if (privateKey.asymmetricKeyType !== 'ed25519') throw new KeyError(`an ed25519 channel key file holds an ${String(privateKey.asymmetricKeyType)} key`);
    },
    sign: (bytes, privateKey) => sign(null, bytes, privateKey),
    verify: (bytes, publicKey, signature) => verify(null, bytes, publicKey, signature),
  },
  'rsa-pss-3072': {
    signatureBytes: RSA_BITS / 8,
    prefix: 'rsa-pss-3072:',
    // A valid key is always 563 characters; the schema admits a little more so that the
    // parser, not a bare pattern mismatch, explains what is wrong with a near miss.
    shapePattern: 'rsa-pss-3072:[A-Za-z0-9_-]{1,1024}',
    wireForm: "'rsa-pss-3072:' + base64url of the SPKI DER",
    decode(body) {
      if (!BASE64URL_RE.test(body)) throw new KeyError('an rsa-pss-3072 channel key is base64url (no padding) after its prefix');
      let key: KeyObject;
      try {
        key = createPublicKey({ key: Buffer.from(body, 'base64url'), format: 'der', type: 'spki' });
      } catch (err) {
        throw new KeyError(`an rsa-pss-3072 channel key is not an SPKI public key: ${(err as Error).message}`);
      }
      checkRsaKey(key, 'an rsa-pss-3072 channel key');
      // OpenSSL accepts trailing bytes after the DER, and base64url has several spellings
      // of the last character: admit only the one canonical string per key.
      if (key.export({ format: 'der', type: 'spki' }).toString('base64url') !== body) {
        throw new KeyError('an rsa-pss-3072 channel key is not in canonical form (SPKI DER, base64url without padding)');
      }
      return key;
    },
    encode: (publicKey) => publicKey.export({ format: 'der', type: 'spki' }).toString('base64url'),
    generate: () => generateKeyPairSync('rsa', { modulusLength: RSA_BITS, publicExponent: RSA_EXPONENT }),
    checkPrivateKey: (privateKey) => checkRsaKey(privateKey, 'an rsa-pss-3072 channel key file'),
    sign: (bytes, privateKey) => sign('sha256', bytes, rsaPssOptions(privateKey)),
    verify: (bytes, publicKey, signature) => verify('sha256', bytes, rsaPssOptions(publicKey), signature),
  },
};

export const CHANNEL_KEY_SCHEMES = Object.keys(SCHEMES) as readonly ChannelKeyScheme[];

export function isChannelKeyScheme(value: unknown): value is ChannelKeyScheme {
  return typeof value === 'string' && Object.hasOwn(SCHEMES, value);
}

/** JSON-schema pattern for a channel key's wire form (any scheme); the parser has the last word. */
export const CHANNEL_KEY_PATTERN = `^(${CHANNEL_KEY_SCHEMES.map((s) => SCHEMES[s].shapePattern).join('|')})$`;

/** The lengths (hex characters) a voucher signature may have, one per distinct scheme. */
export const VOUCHER_SIGNATURE_HEX_LENGTHS: readonly number[] = [...new Set(CHANNEL_KEY_SCHEMES.map((s) => SCHEMES[s].signatureBytes * 2))];

/** JSON-schema pattern for a voucher signature: lowercase hex of any scheme's signature length. */
export const VOUCHER_SIGNATURE_PATTERN = `^(${VOUCHER_SIGNATURE_HEX_LENGTHS.map((n) => `[0-9a-f]{${n}}`).join('|')})$`;
const VOUCHER_SIGNATURE_RE = new RegExp(VOUCHER_SIGNATURE_PATTERN);

/** Whether `value` has the shape of a voucher signature of some scheme (not which channel's). */
export function isVoucherSignatureHex(value: unknown): value is string {
  return typeof value === 'string' && VOUCHER_SIGNATURE_RE.test(value);
}

const WIRE_FORMS = 'a channel key is ' + CHANNEL_KEY_SCHEMES.map((s) => `${SCHEMES[s].wireForm} (${s})`).join(' or ');
// The schemes without a prefix are told apart by their shape alone.
const UNPREFIXED = CHANNEL_KEY_SCHEMES.filter((s) => !SCHEMES[s].prefix).map((s) => ({ scheme: s, shape: new RegExp(`^${SCHEMES[s].shapePattern}$`) }));

function schemeOfWireForm(text: string): ChannelKeyScheme {
  for (const scheme of CHANNEL_KEY_SCHEMES) {
    const prefix = SCHEMES[scheme].prefix;
    if (prefix && text.startsWith(prefix)) return scheme;
  }
  const unprefixed = UNPREFIXED.find((u) => u.shape.test(text));
  if (unprefixed) return unprefixed.scheme;
  const named = /^([a-z0-9-]{1,32}):/.exec(text)?.[1];
  if (named !== undefined && isChannelKeyScheme(named)) {
    throw new KeyError(`an ${named} channel key is written without a prefix (${WIRE_FORMS})`);
  }
  if (named !== undefined) throw new KeyError(`unknown channel key scheme '${named}' (${WIRE_FORMS})`);
  throw new KeyError(`not a channel key (${WIRE_FORMS})`);
}

// Building a KeyObject costs more than a verification; keep the recent ones, as keys.ts does.
const parsedCache = new Map<string, ParsedChannelKey>();
const PARSED_CACHE_LIMIT = 4096;

/** Parses a channel key's wire form; throws a KeyError that says what is wrong. */
export function parseChannelKey(text: unknown): ParsedChannelKey {
  if (typeof text !== 'string') throw new KeyError('a channel key is a string');
  const cached = parsedCache.get(text);
  if (cached) return cached;
  const scheme = schemeOfWireForm(text);
  const definition = SCHEMES[scheme];
  const parsed: ParsedChannelKey = { scheme, key: definition.decode(text.slice(definition.prefix.length)), signatureBytes: definition.signatureBytes };
  if (parsedCache.size >= PARSED_CACHE_LIMIT) parsedCache.clear();
  parsedCache.set(text, parsed);
  return parsed;
}

/** Whether `text` is a valid channel key (no exception). */
export function isChannelKey(text: unknown): text is string {
  try {
    parseChannelKey(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Verifies a hex signature over raw bytes (which carry their own domain tag) by the channel
 * key `channelKey`. False for any malformed key or signature, including a signature of
 * another scheme's length.
 */
export function verifyChannelSignature(channelKey: string, bytes: Uint8Array, signatureHex: unknown): boolean {
  let parsed: ParsedChannelKey;
  try {
    parsed = parseChannelKey(channelKey);
  } catch {
    return false;
  }
  if (typeof signatureHex !== 'string' || signatureHex.length !== parsed.signatureBytes * 2 || !/^[0-9a-f]+$/.test(signatureHex)) return false;
  try {
    return SCHEMES[parsed.scheme].verify(bytes, parsed.key, Buffer.from(signatureHex, 'hex'));
  } catch {
    return false;
  }
}

/** A channel key's private file (mode 0600): the scheme and its PKCS#8 private key. */
export interface ChannelKeyFile {
  type: 'payflow-channel-key';
  scheme: ChannelKeyScheme;
  /** the wire form of the public key (what a channel opening names) */
  publicKey: string;
  /** PKCS#8 DER of the private key, base64url */
  privateKey: string;
}

/** The client's side of a channel key: signs vouchers. */
export class ChannelSigningKey {
  /** the wire form of the public key, for the channel opening's `channelKey` */
  readonly publicKey: string;

  private constructor(
    readonly scheme: ChannelKeyScheme,
    private readonly privateKey: KeyObject,
    publicKey: KeyObject,
  ) {
    const definition = SCHEMES[scheme];
    this.publicKey = definition.prefix + definition.encode(publicKey);
  }

  /** A fresh key. RSA-3072 generation takes up to a second: one key per channel, not per voucher. */
  static generate(scheme: ChannelKeyScheme = DEFAULT_CHANNEL_KEY_SCHEME): ChannelSigningKey {
    if (!isChannelKeyScheme(scheme)) throw new KeyError(`unknown channel key scheme '${String(scheme)}'`);
    const { publicKey, privateKey } = SCHEMES[scheme].generate();
    return new ChannelSigningKey(scheme, privateKey, publicKey);
  }

  /** Uses a payer's own Ed25519 account key as the channel key (allowed, if less private). */
  static fromSigningKey(key: SigningKey): ChannelSigningKey {
    const privateKey = ed25519PrivateKeyFromSeed(key.toKeyFile().privateKey);
    return new ChannelSigningKey('ed25519', privateKey, createPublicKey(privateKey));
  }

  static fromKeyFile(file: ChannelKeyFile): ChannelSigningKey {
    if (!file || typeof file !== 'object' || file.type !== 'payflow-channel-key') throw new KeyError('not a channel key file');
    if (!isChannelKeyScheme(file.scheme)) throw new KeyError(`unknown channel key scheme '${String(file.scheme)}'`);
    if (typeof file.privateKey !== 'string' || !BASE64URL_RE.test(file.privateKey)) throw new KeyError('channel key file: privateKey must be base64url PKCS#8');
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey({ key: Buffer.from(file.privateKey, 'base64url'), format: 'der', type: 'pkcs8' });
    } catch (err) {
      throw new KeyError(`channel key file: not a PKCS#8 private key: ${(err as Error).message}`);
    }
    SCHEMES[file.scheme].checkPrivateKey(privateKey);
    const key = new ChannelSigningKey(file.scheme, privateKey, createPublicKey(privateKey));
    if (file.publicKey !== undefined && file.publicKey !== key.publicKey) {
      throw new KeyError('channel key file: the public key does not match the private key');
    }
    return key;
  }

  static load(path: string): ChannelSigningKey {
    return ChannelSigningKey.fromKeyFile(readKeyFile(path, 'channel key file') as unknown as ChannelKeyFile);
  }

  toKeyFile(): ChannelKeyFile {
    return {
      type: 'payflow-channel-key',
      scheme: this.scheme,
      publicKey: this.publicKey,
      privateKey: this.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64url'),
    };
  }

  /** Writes the key file readable by its owner only; refuses to overwrite. */
  save(path: string): void {
    writeKeyFile(path, this.toKeyFile());
  }

  /**
   * Signs raw bytes that already carry their domain tag (vouchers). RSASSA-PSS signatures
   * are randomised (fresh salt), so the same voucher signed twice differs: a voucher is
   * identified by (channel, sequence), never by its signature bytes.
   */
  signRaw(bytes: Uint8Array): Buffer {
    return SCHEMES[this.scheme].sign(bytes, this.privateKey);
  }
}
