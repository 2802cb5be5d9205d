// Who is asking (docs/security.md, "The HTTP API"): a request proves it comes from the
// holder of an account's key by a PayFlow-Signature header (request-signature.ts), or
// from the operator by an API token (`Authorization: Bearer pft_…`). The signature must
// verify, its timestamp must lie within http.signatureWindow of the controller's clock,
// and its nonce must be new for that key (nonces are stored until the window has passed,
// so a replay fails also after a restart). Tokens come from the config (http.tokens) or
// from `payflow token create`; only their SHA-256 is kept, and a presented token's hash
// is compared with every known one in constant time (crypto.timingSafeEqual).
// This module says who asks; whether that one may act on a reservation is the service's
// rule (the owner, or the operator).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiTokenConfig, TokenScope } from '../config/types.js';
import type { ChannelRecord } from '../payments/journal.js';
import { Refusal } from '../reservations/refusal.js';
import type { Requester } from '../reservations/types.js';
import type { KeyLimiter } from './limits.js';
import type { Operator } from './operator-audit.js';
import type { RequestStore } from './request-store.js';
import { parseSignatureHeader, requestSignatureValid, SIGNATURE_HEADER, signedText } from './request-signature.js';

export const TOKEN_PREFIX = 'pft_';

/** An operator token as presented and as it is kept. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export interface AuthOptions {
  requests: RequestStore;
  tokens: readonly ApiTokenConfig[];
  signatureWindowMs: number;
  /** the channel a `channel:<id>` keyId names (the local ledger); absent = no channel keys */
  channel?: (id: string) => ChannelRecord | undefined;
  perKey: KeyLimiter;
  now: () => number;
}

/** Who asked, as the service sees it, plus the token's scope for operators. */
export type Authenticated = (Requester & { kind: 'account' }) | Operator;

/**
 * The operator a `Authorization: Bearer <token>` header names: the token's SHA-256 compared
 * with every known one (the config's, then the store's) in constant time. Throws 401
 * token_invalid for a malformed header or an unknown token.
 */
export function operatorByToken(authorization: string, known: readonly ApiTokenConfig[]): Operator {
  const m = /^Bearer (\S{1,256})$/.exec(authorization);
  if (!m) throw new Refusal('token_invalid', 'Authorization must be "Bearer <token>"');
  const presented = Buffer.from(tokenHash(m[1]!), 'hex');
  // Every known hash is compared, found or not, so the time taken says nothing about which.
  let found: { name: string; scope: TokenScope } | undefined;
  for (const t of known) {
    const hash = Buffer.from(t.sha256, 'hex');
    if (hash.length === presented.length && timingSafeEqual(hash, presented) && !found) found = { name: t.name, scope: t.scope };
  }
  if (!found) throw new Refusal('token_invalid', 'this token is not known to this server (http.tokens or `payflow token create` in its data directory)');
  return { kind: 'operator', token: found.name, scope: found.scope };
}

export class Authenticator {
  constructor(private readonly o: AuthOptions) {}

  /**
   * Who sent the request, or undefined when it carries neither a signature nor a token.
   * A signature or token that is there but wrong is refused (401) — never ignored.
   */
  async identify(request: FastifyRequest, reply: FastifyReply, rawBody: string | undefined): Promise<Authenticated | undefined> {
    const authorization = request.headers.authorization;
    if (authorization !== undefined) return this.operator(authorization);
    const header = request.headers[SIGNATURE_HEADER];
    if (header === undefined) return undefined;
    if (typeof header !== 'string') throw new Refusal('signature_malformed', `give ${SIGNATURE_HEADER} once`);
    const s = parseSignatureHeader(header);
    if (typeof s === 'string') throw new Refusal('signature_malformed', `${SIGNATURE_HEADER}: ${s}`);
    const now = this.o.now();
    const window = this.o.signatureWindowMs;
    if (Math.abs(now - s.ts) > window) {
      throw new Refusal('signature_stale', `the signature's time ${new Date(s.ts).toISOString()} is more than ${window / 1000} s from the controller's ${new Date(now).toISOString()}; check the clock and sign again`);
    }
    let address = s.keyId;
    let channelKey: string | undefined;
    if (!s.keyId.startsWith('pf1')) {
      const channel = this.o.channel?.(s.keyId.slice('channel:'.length));
      if (!channel) throw new Refusal('signature_invalid', `no channel ${s.keyId.slice('channel:'.length)} is known on this controller's ledger`);
      channelKey = channel.channelKey;
      address = channel.payer;
    }
    const text = signedText(request.method, request.url, rawBody, s);
    if (!requestSignatureValid(text, s, channelKey)) throw new Refusal('signature_invalid', `the signature does not verify with ${s.keyId.slice(0, 24)}… over this method, path, body, time and nonce`);
    if (!this.o.requests.useNonce(s.keyId, s.nonce, s.ts + window)) throw new Refusal('signature_replayed', `nonce ${s.nonce} was used before by this key: sign each request anew`);
    await this.o.perKey(request, reply, s.keyId);
    return { kind: 'account', address };
  }

  /** Like identify, but a request with neither signature nor token is refused. */
  async require(request: FastifyRequest, reply: FastifyReply, rawBody: string | undefined): Promise<Authenticated> {
    const who = await this.identify(request, reply, rawBody);
    if (!who) throw new Refusal('signature_missing', `sign this request with the key that paid for the reservation (${SIGNATURE_HEADER} header, docs/security.md)`);
    return who;
  }

  private operator(authorization: string): Operator {
    return operatorByToken(authorization, [...this.o.tokens, ...this.o.requests.tokens()]);
  }
}
