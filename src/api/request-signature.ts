// Signed HTTP requests to the controller: how a client proves that it holds the key of an
// account (the Ed25519 key whose address paid for a reservation) or of a payment channel
// (its RSA-PSS-3072 or Ed25519 channel key). Both sides of the scheme live here: the
// client signs with signRequest, the API checks with parseSignatureHeader and
// requestSignatureValid (src/api/auth.ts adds the time window and the nonce).
//
//   PayFlow-Signature: keyId=<pf1… address | channel:<channel id>>, ts=<ms since the epoch>,
//                      nonce=<32–64 hex>, sig=<hex>
//
// The signature covers "payflow/http-request/v1\n" followed by
//   METHOD "\n" path-with-query "\n" hex SHA-256 of the body bytes "\n" ts "\n" nonce "\n" keyId
// so it cannot be moved to another method, path, body, time or key, and the domain tag
// keeps it from ever counting as a transfer, voucher or quote signature. The body digest is
// over the exact bytes sent (an empty body: the digest of nothing), in the spirit of
// RFC 9530's Content-Digest; the whole scheme is a small cousin of RFC 9421's HTTP
// message signatures, with a nonce against replays.
import { createHash, randomBytes } from 'node:crypto';
import { verifyChannelSignature, type ChannelSigningKey } from '../payments/channel-keys.js';
import { domainTag, isAddress, publicKeyOfAddress, verifySignature, type SigningKey } from '../payments/keys.js';

export const SIGNATURE_HEADER = 'payflow-signature';

const KEY_ID = /^(pf1[0-9a-f]{64}|channel:[0-9a-f]{64})$/;
const NONCE = /^[0-9a-f]{32,64}$/;
const TS = /^[0-9]{1,15}$/;
const SIG = /^[0-9a-f]{2,1024}$/;

export interface RequestSignature {
  keyId: string;
  ts: number;
  nonce: string;
  sig: string;
}

/** Who signs: an account key (keyId = its address) or a channel key (keyId = channel:<id>). */
export interface RequestSigner {
  readonly keyId: string;
  /** signs the request text; returns the signature as hex */
  sign(text: string): string;
}

export function accountSigner(key: SigningKey): RequestSigner {
  return { keyId: key.address, sign: (text) => key.sign('http-request', text) };
}

export function channelSigner(channel: string, key: ChannelSigningKey): RequestSigner {
  return { keyId: `channel:${channel}`, sign: (text) => key.signRaw(taggedBytes(text)).toString('hex') };
}

export function bodyDigest(body: string | Buffer | undefined): string {
  return createHash('sha256').update(body ?? '').digest('hex');
}

/** The text a request signature covers (after the domain tag). */
export function signedText(method: string, path: string, body: string | Buffer | undefined, s: Omit<RequestSignature, 'sig'>): string {
  return `${method.toUpperCase()}\n${path}\n${bodyDigest(body)}\n${s.ts}\n${s.nonce}\n${s.keyId}`;
}

/** The PayFlow-Signature header value for a request. */
export function signRequest(signer: RequestSigner, request: { method: string; path: string; body?: string | undefined; now?: number; nonce?: string }): string {
  const ts = request.now ?? Date.now();
  const nonce = request.nonce ?? randomBytes(16).toString('hex');
  const sig = signer.sign(signedText(request.method, request.path, request.body, { keyId: signer.keyId, ts, nonce }));
  return `keyId=${signer.keyId}, ts=${ts}, nonce=${nonce}, sig=${sig}`;
}

/** Reads the header; a string saying what is wrong when it is malformed. */
export function parseSignatureHeader(value: string): RequestSignature | string {
  if (value.length > 2048) return 'the header is too long';
  const fields = new Map<string, string>();
  for (const part of value.split(',')) {
    const m = /^\s*([A-Za-z]+)=([^\s,]+)\s*$/.exec(part);
    if (!m) return `"${part.trim().slice(0, 40)}" is not name=value`;
    if (fields.has(m[1]!)) return `${m[1]} is given twice`;
    fields.set(m[1]!, m[2]!);
  }
  const keyId = fields.get('keyId');
  const ts = fields.get('ts');
  const nonce = fields.get('nonce');
  const sig = fields.get('sig');
  if (fields.size !== 4 || keyId === undefined || ts === undefined || nonce === undefined || sig === undefined) return 'it must have exactly keyId, ts, nonce and sig';
  if (!KEY_ID.test(keyId)) return 'keyId must be a pf1… address or channel:<64 hex>';
  if (!TS.test(ts)) return 'ts must be milliseconds since the epoch';
  if (!NONCE.test(nonce)) return 'nonce must be 32 to 64 lowercase hex digits';
  if (!SIG.test(sig) || sig.length % 2 !== 0) return 'sig must be lowercase hex';
  return { keyId, ts: Number(ts), nonce, sig };
}

/**
 * Whether `sig` over the request verifies with the key: for an account keyId its own
 * Ed25519 key (the address is the key), for a channel the channel key the caller looked up.
 */
export function requestSignatureValid(text: string, s: RequestSignature, channelKey?: string): boolean {
  if (isAddress(s.keyId)) return verifySignature('http-request', text, s.sig, publicKeyOfAddress(s.keyId));
  return channelKey !== undefined && verifyChannelSignature(channelKey, taggedBytes(text), s.sig);
}

function taggedBytes(text: string): Buffer {
  return Buffer.concat([domainTag('http-request'), Buffer.from(text, 'utf8')]);
}
