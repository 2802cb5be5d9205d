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
import type { ExtensionQuoteRequest, QuoteRequest } from '../reservations/types.js';
import { ledgerPlugin } from '../payments/http-service.js';
import type { LocalLedger } from '../payments/local-ledger.js';
import type { PricingAgent } from '../pricing/agent.js';
import type { AdmissionControl } from '../qos/admission.js';
import type { HttpConfig } from '../config/types.js';
import type { Store } from '../store/index.js';
import { errorResponse, routeNotFound } from './errors.js';
import { registerOpenApi } from './openapi.js';
import { healthPlugin, type Readiness } from './health.js';
import { dashboardPlugin } from './dashboard/routes.js';
import { Authenticator } from './auth.js';
import { Idempotency } from './idempotency.js';
import { installRateLimits, serverLimits } from './limits.js';
import { RequestStore } from './request-store.js';
import { mintRoutes } from './mint-routes.js';
import { reservationRoutes } from './reservation-routes.js';

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
  /** the API's own tables (nonces, idempotency keys, tokens, audit log) live here */
  store: Store;
  /** timeouts, body limit, rate limits, signature window, idempotency retention, tokens */
  http: HttpConfig;
  /** the clock of signatures and idempotency keys (default Date.now) */
  now?: () => number;
}

const address = { type: 'string', minLength: 1, maxLength: 64 } as const;
const rateSchema = { anyOf: [{ type: 'integer' }, { type: 'string', maxLength: 32 }] } as const;
const durationSchema = { anyOf: [{ type: 'integer' }, { type: 'string', maxLength: 32 }] } as const;
const hex32 = { type: 'string', pattern: '^[0-9a-f]{32}$' } as const;

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
    flowLabel: { anyOf: [{ type: 'integer' }, { const: 'auto' }], description: 'IPv6 flow label (20 bits), or "auto" for one the controller picks' },
    /** set: a quote to extend this reservation by `duration` (no other field) */
    reservationId: hex32,
  },
  required: ['duration'],
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
    ...serverLimits(o.http),
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

  const perKey = await installRateLimits(app, o.http);
  const now = o.now ?? Date.now;
  const requests = new RequestStore(o.store);
  const auth = new Authenticator({ requests, tokens: o.http.tokens, signatureWindowMs: o.http.signatureWindowMs, perKey, now, ...(o.localLedger ? { channel: (id: string) => o.localLedger!.channel(id) } : {}) });
  const idempotency = new Idempotency(requests, o.http.requestTimeoutMs + o.http.connectionTimeoutMs, now);
  await app.register(reservationRoutes, {
    service: o.service,
    auth,
    idempotency,
    requests,
    purgeEveryMs: Math.min(60_000, o.http.signatureWindowMs),
    idempotencyRetentionMs: o.http.idempotencyRetentionMs,
    now,
  });
  // Minting: one handler, at the operator's address and at the ledger's faucet (mint-routes.ts).
  await app.register(mintRoutes, {
    paths: ['/v1/admin/mint', '/v1/ledger/faucet'],
    tokens: o.http.tokens,
    requests,
    mint: o.localLedger ? (address: string, amount: bigint) => o.localLedger!.faucet(address, amount, 'admin-mint') : undefined,
    now,
  });

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
    const snapshot = o.network.topology.snapshot();
    const excess = new Map((o.network.excessBySwitch?.() ?? []).map((x) => [x.dpid, x]));
    return {
      ...snapshot,
      switches: snapshot.switches.map((s) => {
        const x = excess.get(s.dpid);
        return x ? { ...s, meterBands: x.meterBands, payflowSwitch: x.payflowSwitch, excess: x.excess } : s;
      }),
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
