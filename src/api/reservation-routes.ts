// The reservation routes of the HTTP API, with who may use them (docs/controller.md, "The
// HTTP API"; docs/security.md, "The HTTP API"):
//   POST   /v1/reservations                 anyone with a paid quote (Idempotency-Key)
//   GET    /v1/reservations                 unsigned: only the load per class; signed: the
//                                           signer's own; an operator token: all
//   GET    /v1/reservations/:id             the owner (signed) or an operator token
//   DELETE /v1/reservations/:id             the owner or an admin token; refunds the owner
//   POST   /v1/reservations/:id/extensions  the owner or an admin token (Idempotency-Key)
//   POST   /v1/reservations/:id/vouchers    the owner or an admin token (Idempotency-Key)
//   PATCH  /v1/classes/:id                  an admin token: basePrice, maxPrice, target, share
//   POST   /v1/payments/stranded            the payer of a payment that could not buy its
//                                           quote: refunded or credited (the policy)
// Routes only translate: who asks comes from auth.ts, whether they may from the service.
// Every operator action is written to the audit log (api_audit) and logged (operator-audit.ts).
// Minting (POST /v1/admin/mint) is mint-routes.ts. This plugin
// also keeps the request bytes (the signature covers the body's digest) and runs the
// housekeeping of the API's tables and of expired quotes.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Voucher } from '../payments/channels.js';
import { VOUCHER_SIGNATURE_PATTERN } from '../payments/channel-keys.js';
import { Refusal } from '../reservations/refusal.js';
import type { ReservationService } from '../reservations/service.js';
import { RESERVATION_STATES, type PaymentRequest, type Requester, type ReservationState } from '../reservations/types.js';
import type { Authenticated, Authenticator } from './auth.js';
import type { Idempotency } from './idempotency.js';
import { auditedAction, type OperatorAction } from './operator-audit.js';
import type { RequestStore } from './request-store.js';

export interface ReservationRoutesOptions {
  service: ReservationService;
  auth: Authenticator;
  idempotency: Idempotency;
  requests: RequestStore;
  /** how often expired nonces, old idempotency answers and expired quotes are deleted, ms */
  purgeEveryMs: number;
  idempotencyRetentionMs: number;
  now: () => number;
}

const classChangeBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: { basePrice: { type: 'number' }, maxPrice: { type: 'number' }, target: { type: 'number' }, share: { type: 'number' } },
} as const;

const hex32 = { type: 'string', pattern: '^[0-9a-f]{32}$' } as const;
const idParams = { type: 'object', required: ['id'], additionalProperties: false, properties: { id: { type: 'string', maxLength: 64 } } } as const;
const emptyQuery = { type: 'object', additionalProperties: false, properties: {} } as const;

const paymentBody = {
  type: 'object',
  required: ['quoteId', 'payment'],
  additionalProperties: false,
  properties: {
    quoteId: hex32,
    payment: {
      type: 'object',
      required: ['ledger', 'id'],
      additionalProperties: false,
      properties: { ledger: { type: 'string', enum: ['local', 'iota'] }, id: { type: 'string', minLength: 1, maxLength: 128 } },
    },
  },
} as const;

const voucherBody = {
  type: 'object',
  required: ['voucher'],
  additionalProperties: false,
  properties: {
    voucher: {
      type: 'object',
      required: ['channel', 'cumulative', 'sequence', 'signature'],
      additionalProperties: false,
      properties: {
        channel: { type: 'string', pattern: '^[0-9a-f]{64}$' },
        cumulative: { type: 'string', pattern: '^(0|[1-9][0-9]{0,18})$' },
        sequence: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
        signature: { type: 'string', pattern: VOUCHER_SIGNATURE_PATTERN },
      },
    },
  },
} as const;

const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { state: { type: 'string', enum: RESERVATION_STATES }, limit: { type: 'string', pattern: '^[1-9][0-9]{0,3}$' } },
} as const;

export async function reservationRoutes(app: FastifyInstance, o: ReservationRoutesOptions): Promise<void> {
  // The signature covers the body's exact bytes: keep them beside the parsed JSON.
  const rawBodies = new WeakMap<FastifyRequest, string>();
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    rawBodies.set(request, body as string);
    parseJson(request, body as string, done);
  });
  const raw = (request: FastifyRequest): string | undefined => rawBodies.get(request);

  const requester = (request: FastifyRequest, reply: FastifyReply): Promise<Authenticated> => o.auth.require(request, reply, raw(request));
  const asService = (who: Authenticated): Requester => (who.kind === 'operator' ? { kind: 'operator', token: who.token } : who);
  const scopeOf = (who: Authenticated | undefined): string => (who === undefined ? '' : who.kind === 'operator' ? `token:${who.token}` : who.address);

  /** Runs an action; an operator's is scope-checked and audited (operator-audit.ts). */
  const audited = async <T>(request: FastifyRequest, who: Authenticated, action: OperatorAction, target: string, run: () => Promise<T>): Promise<T> =>
    who.kind === 'operator' ? auditedAction(o.requests, o.now, request, who, action, target, run) : run();

  app.addHook('onSend', async (request, reply, payload) => {
    o.idempotency.finish(request, reply, payload);
    return payload;
  });

  app.post<{ Body: PaymentRequest }>('/v1/reservations', { schema: { body: paymentBody } }, async (request, reply) => {
    const who = await o.auth.identify(request, reply, raw(request));
    if (o.idempotency.begin(request, reply, scopeOf(who), raw(request))) return reply;
    const r = await o.service.reserve(request.body);
    return reply.status(201).header('location', `/v1/reservations/${r.id}`).send(r);
  });

  app.get<{ Querystring: { state?: ReservationState; limit?: string } }>('/v1/reservations', { schema: { querystring: listQuery } }, async (request, reply) => {
    const who = await o.auth.identify(request, reply, raw(request));
    if (!who) return { load: o.service.load() };
    const opts: { state?: ReservationState; limit?: number } = {};
    if (request.query.state !== undefined) opts.state = request.query.state;
    if (request.query.limit !== undefined) opts.limit = Number(request.query.limit);
    if (who.kind === 'operator') return audited(request, who, 'read', 'all', async () => ({ reservations: o.service.list(opts) }));
    return { reservations: o.service.listOwned(who.address, opts) };
  });

  app.get<{ Params: { id: string } }>('/v1/reservations/:id', { schema: { params: idParams, querystring: emptyQuery } }, async (request, reply) => {
    const who = await requester(request, reply);
    return audited(request, who, 'read', request.params.id, async () => o.service.read(request.params.id, asService(who)));
  });

  app.delete<{ Params: { id: string } }>('/v1/reservations/:id', { schema: { params: idParams, querystring: emptyQuery } }, async (request, reply) => {
    const who = await requester(request, reply);
    return audited(request, who, 'change', request.params.id, () => o.service.cancel(request.params.id, asService(who)));
  });

  app.post<{ Params: { id: string }; Body: PaymentRequest }>(
    '/v1/reservations/:id/extensions',
    { schema: { params: idParams, body: paymentBody } },
    async (request, reply) => {
      const who = await requester(request, reply);
      if (o.idempotency.begin(request, reply, scopeOf(who), raw(request))) return reply;
      const r = await audited(request, who, 'change', request.params.id, () => o.service.extend(request.params.id, request.body, asService(who)));
      return reply.status(201).send(r);
    },
  );

  app.post<{ Params: { id: string }; Body: { voucher: Voucher } }>(
    '/v1/reservations/:id/vouchers',
    { schema: { params: idParams, body: voucherBody } },
    async (request, reply) => {
      const who = await requester(request, reply);
      if (o.idempotency.begin(request, reply, scopeOf(who), raw(request))) return reply;
      const r = await audited(request, who, 'change', request.params.id, () => o.service.extendByVoucher(request.params.id, request.body.voucher, asService(who)));
      return reply.status(201).send(r);
    },
  );

  // The operator's run-time changes: admin tokens only (a signed account gets 403, nobody 401), audited.
  const adminOnly = async (request: FastifyRequest, reply: FastifyReply): Promise<Authenticated & { kind: 'operator' }> => {
    const who = await requester(request, reply);
    if (who.kind !== 'operator') throw new Refusal('not_allowed', 'this needs an operator token with scope admin');
    return who;
  };

  app.patch<{ Params: { id: string }; Body: { basePrice?: number; maxPrice?: number; target?: number; share?: number } }>(
    '/v1/classes/:id',
    { schema: { params: idParams, body: classChangeBody } },
    async (request, reply) => {
      const who = await adminOnly(request, reply);
      return audited(request, who, 'change', request.params.id, async () => o.service.changeClass(request.params.id, request.body, asService(who)));
    },
  );

  // A payment that could not buy what it was sent for, claimed back by its payer (signed).
  app.post<{ Body: PaymentRequest }>('/v1/payments/stranded', { schema: { body: paymentBody } }, async (request, reply) => {
    const who = await requester(request, reply);
    const { first, ...claim } = await o.service.claimStranded(request.body, asService(who));
    return reply.status(first ? 201 : 200).send(claim);
  });

  // Housekeeping: nonces past their window, idempotency answers past retention, expired quotes.
  const purge = (): void => {
    try {
      const now = o.now();
      const api = o.requests.purge(now, now - o.idempotencyRetentionMs);
      const quotes = o.service.purgeQuotes();
      if (api.nonces + api.idempotency + quotes > 0) app.log.debug({ ...api, quotes }, 'purged expired rows');
    } catch (err) {
      app.log.warn({ err }, 'purging expired rows failed');
    }
  };
  const timer = setInterval(purge, o.purgeEveryMs);
  timer.unref();
  app.addHook('onClose', async () => clearInterval(timer));
}
