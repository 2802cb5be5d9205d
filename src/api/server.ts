// The controller's HTTP API: fastify with a JSON schema on every route, JSON errors
// `{ "error": { "code", "message", ... } }` (statuses from src/api/errors.ts), Prometheus
// text at /metrics, and the local ledger mounted at /v1/ledger so that testbed hosts can
// pay. Schemas validate without coercion and refuse unknown fields (ajv: coerceTypes false,
// removeAdditional false), so a wrong type is a 400, not a guess. Routes only translate:
// the reservation flow itself is src/reservations/service.ts.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Network } from '../network/contracts.js';
import type { ReservationService } from '../reservations/service.js';
import { Refusal } from '../reservations/refusal.js';
import { RESERVATION_STATES, type ExtensionQuoteRequest, type PaymentRequest, type QuoteRequest, type ReservationState } from '../reservations/types.js';
import { ledgerPlugin } from '../payments/http-service.js';
import type { LocalLedger } from '../payments/local-ledger.js';
import type { Voucher } from '../payments/channels.js';
import { VOUCHER_SIGNATURE_PATTERN } from '../payments/channel-keys.js';
import type { PricingAgent } from '../pricing/agent.js';
import type { AdmissionControl } from '../qos/admission.js';
import { errorResponse, routeNotFound } from './errors.js';
import { registerOpenApi } from './openapi.js';
import { healthPlugin, type Readiness } from './health.js';
import { dashboardPlugin } from './dashboard/routes.js';

export type { ErrorBody } from './errors.js';

export interface ApiOptions {
  service: ReservationService;
  pricing: PricingAgent;
  admission: AdmissionControl;
  network: Network;
  metrics: Registry;
  /** mounted at /v1/ledger when given (the embedded local ledger) */
  localLedger?: LocalLedger;
  logger: Logger;
  /** the checks behind GET /readyz (src/api/health.ts) */
  readiness?: Readiness;
}

const address = { type: 'string', minLength: 1, maxLength: 64 } as const;
const rateSchema = { anyOf: [{ type: 'integer' }, { type: 'string', maxLength: 32 }] } as const;
const durationSchema = { anyOf: [{ type: 'integer' }, { type: 'string', maxLength: 32 }] } as const;
const hex32 = { type: 'string', pattern: '^[0-9a-f]{32}$' } as const;
const idParams = { type: 'object', required: ['id'], additionalProperties: false, properties: { id: { type: 'string', maxLength: 64 } } } as const;

const quoteBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    src: address,
    dst: address,
    classId: { type: 'string', maxLength: 32 },
    rate: rateSchema,
    duration: durationSchema,
    proto: { type: 'integer' },
    srcPort: { type: 'integer' },
    dstPort: { type: 'integer' },
    flowLabel: { type: 'integer' },
    /** set: a quote to extend this reservation by `duration` (no other field) */
    reservationId: hex32,
  },
  required: ['duration'],
} as const;

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

const pricesQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    history: { type: 'string', enum: ['true', 'false'] },
    classId: { type: 'string', maxLength: 32 },
    limit: { type: 'string', pattern: '^[1-9][0-9]{0,4}$' },
    since: { type: 'string', pattern: '^[0-9]{1,15}$' },
  },
} as const;

const emptyQuery = { type: 'object', additionalProperties: false, properties: {} } as const;

/** What the schema lets through: a new reservation's quote request or an extension's. */
type QuoteBody = Partial<QuoteRequest> & Partial<ExtensionQuoteRequest> & { duration: number | string };

/** Builds the API (not listening yet). */
export async function buildApi(o: ApiOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: o.logger as FastifyBaseLogger,
    bodyLimit: 64 * 1024,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
  });

  app.setErrorHandler((err, request, reply) => {
    const { status, body } = errorResponse(err);
    if (status >= 500) request.log.error({ err }, 'request failed');
    return reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const { status, body } = routeNotFound(request.method, request.url);
    return reply.status(status).send(body);
  });
  await registerOpenApi(app);

  app.get('/v1/menu', { schema: { querystring: emptyQuery } }, async () => o.service.menu());

  app.post<{ Body: QuoteBody }>('/v1/quotes', { schema: { body: quoteBody } }, async (request, reply) => {
    const b = request.body;
    if (b.reservationId !== undefined) {
      const extra = Object.keys(b).filter((k) => k !== 'reservationId' && k !== 'duration');
      if (extra.length) throw new Refusal('bad_request', `an extension quote takes only reservationId and duration (not ${extra.join(', ')})`);
      return reply.status(201).send(o.service.quoteExtension({ reservationId: b.reservationId, duration: b.duration }));
    }
    if (b.src === undefined || b.dst === undefined) throw new Refusal('bad_request', 'src and dst are required');
    const req: QuoteRequest = { src: b.src, dst: b.dst, duration: b.duration };
    if (b.classId !== undefined) req.classId = b.classId;
    if (b.rate !== undefined) req.rate = b.rate;
    if (b.proto !== undefined) req.proto = b.proto;
    if (b.srcPort !== undefined) req.srcPort = b.srcPort;
    if (b.dstPort !== undefined) req.dstPort = b.dstPort;
    if (b.flowLabel !== undefined) req.flowLabel = b.flowLabel;
    return reply.status(201).send(o.service.quote(req));
  });

  app.post<{ Body: PaymentRequest }>('/v1/reservations', { schema: { body: paymentBody } }, async (request, reply) => {
    const r = await o.service.reserve(request.body);
    return reply.status(201).header('location', `/v1/reservations/${r.id}`).send(r);
  });

  app.get<{ Querystring: { state?: ReservationState; limit?: string } }>('/v1/reservations', { schema: { querystring: listQuery } }, async (request) => {
    const opts: { state?: ReservationState; limit?: number } = {};
    if (request.query.state !== undefined) opts.state = request.query.state;
    if (request.query.limit !== undefined) opts.limit = Number(request.query.limit);
    return { reservations: o.service.list(opts) };
  });

  app.get<{ Params: { id: string } }>('/v1/reservations/:id', { schema: { params: idParams, querystring: emptyQuery } }, async (request) => o.service.get(request.params.id));

  app.delete<{ Params: { id: string } }>('/v1/reservations/:id', { schema: { params: idParams, querystring: emptyQuery } }, async (request) => o.service.cancel(request.params.id));

  app.post<{ Params: { id: string }; Body: PaymentRequest }>(
    '/v1/reservations/:id/extensions',
    { schema: { params: idParams, body: paymentBody } },
    async (request, reply) => reply.status(201).send(await o.service.extend(request.params.id, request.body)),
  );

  app.post<{ Params: { id: string }; Body: { voucher: Voucher } }>(
    '/v1/reservations/:id/vouchers',
    { schema: { params: idParams, body: voucherBody } },
    async (request, reply) => reply.status(201).send(await o.service.extendByVoucher(request.params.id, request.body.voucher)),
  );

  app.get<{ Querystring: { history?: string; classId?: string; limit?: string; since?: string } }>('/v1/prices', { schema: { querystring: pricesQuery } }, async (request) => {
    const q = request.query;
    const out: Record<string, unknown> = { at: Date.now(), prices: o.pricing.prices() };
    if (q.history === 'true') {
      const h: { classId?: string; limit?: number; since?: number } = {};
      if (q.classId !== undefined) h.classId = q.classId;
      if (q.limit !== undefined) h.limit = Number(q.limit);
      if (q.since !== undefined) h.since = Number(q.since);
      out['history'] = o.pricing.history(h);
    }
    return out;
  });

  app.get('/v1/revenue', { schema: { querystring: emptyQuery } }, async () => o.pricing.revenue());

  app.get('/v1/topology', { schema: { querystring: emptyQuery } }, async () => {
    const capacity = o.admission.capacity;
    return {
      ...o.network.topology.snapshot(),
      resources: capacity.listResources().map((r) => capacity.usage(r)),
      network: o.network.stats(),
    };
  });

  app.get('/metrics', { schema: { querystring: emptyQuery } }, async (_request, reply) => {
    const text = await o.metrics.metrics();
    return reply.header('content-type', o.metrics.contentType).send(text);
  });

  await app.register(healthPlugin, o.readiness ? { readiness: o.readiness } : {});
  await app.register(dashboardPlugin, { service: o.service, classIds: () => o.pricing.prices().map((p) => p.classId) });
  if (o.localLedger) await app.register(ledgerPlugin, { prefix: '/v1/ledger', ledger: o.localLedger });
  return app;
}
