// Safe retries (the Idempotency-Key request header, as in the IETF httpapi draft
// "The Idempotency-Key HTTP Header Field"): a client that lost the answer to a POST that
// buys or extends a reservation sends it again with the same key and gets the first
// answer — same status, same body — instead of a refusal of the already used payment.
// The same key with another method, path or body is refused with 422
// `idempotency_mismatch`; a retry while the first request still runs gets 409
// `idempotency_in_progress`. Keys are scoped to the signing account (unsigned requests
// share one scope) and kept in SQLite for http.idempotencyRetention, so a retry after a
// restart still finds its answer. Answers that a retry might change are not kept:
// 5xx, and 401, 402, 409, 429 (the request can be made to succeed without changing it:
// a fresh signature, a payment that became final, capacity that was freed).
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Refusal } from '../reservations/refusal.js';
import type { RequestStore } from './request-store.js';

export const IDEMPOTENCY_HEADER = 'idempotency-key';
const KEY = /^[A-Za-z0-9_.:-]{1,128}$/;
const NOT_KEPT = new Set([401, 402, 409, 429]);

interface Claim {
  scope: string;
  key: string;
}

export class Idempotency {
  private readonly claims = new WeakMap<FastifyRequest, Claim>();

  constructor(
    private readonly requests: RequestStore,
    /** a pending key older than this is taken over (its first request's process died), ms */
    private readonly abandonedAfterMs: number,
    private readonly now: () => number,
  ) {}

  /**
   * Before the handler: replays a kept answer (and returns true: the reply is sent), refuses
   * a mismatch or a key in use, or claims the key for this request.
   */
  begin(request: FastifyRequest, reply: FastifyReply, scope: string, rawBody: string | undefined): boolean {
    const header = request.headers[IDEMPOTENCY_HEADER];
    if (header === undefined) return false;
    if (typeof header !== 'string' || !KEY.test(header)) throw new Refusal('bad_request', 'Idempotency-Key must be 1 to 128 characters of A-Z a-z 0-9 _ . : -');
    const fingerprint = createHash('sha256').update(`${request.method}\n${request.url}\n`).update(rawBody ?? '').digest('hex');
    const now = this.now();
    if (this.requests.beginIdempotent(scope, header, fingerprint, now)) {
      this.claims.set(request, { scope, key: header });
      return false;
    }
    const kept = this.requests.idempotency(scope, header);
    if (!kept) throw new Refusal('idempotency_in_progress', `the first request with Idempotency-Key ${header} has just finished; retry`);
    if (kept.fingerprint !== fingerprint) {
      throw new Refusal('idempotency_mismatch', `Idempotency-Key ${header} was used for another request (method, path or body differ); use a new key for a new request`);
    }
    if (kept.status === null) {
      if (!this.requests.retakeIdempotent(scope, header, now, now - this.abandonedAfterMs)) {
        throw new Refusal('idempotency_in_progress', `the first request with Idempotency-Key ${header} is still running; retry in a moment`);
      }
      this.claims.set(request, { scope, key: header });
      return false;
    }
    if (kept.location !== null) void reply.header('location', kept.location);
    void reply.header('idempotent-replayed', 'true').status(kept.status).type('application/json; charset=utf-8').send(kept.body);
    return true;
  }

  /** As the answer goes out: keep it for retries, or free the key when a retry may do better. */
  finish(request: FastifyRequest, reply: FastifyReply, payload: unknown): void {
    const claim = this.claims.get(request);
    if (!claim) return;
    this.claims.delete(request);
    const status = reply.statusCode;
    if (status >= 500 || NOT_KEPT.has(status) || typeof payload !== 'string') {
      this.requests.dropIdempotent(claim.scope, claim.key);
      return;
    }
    const location = reply.getHeader('location');
    this.requests.finishIdempotent(claim.scope, claim.key, status, typeof location === 'string' ? location : null, payload);
  }
}
