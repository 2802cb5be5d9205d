// What every route answers, as JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1
// schema objects), with its tag and a one-line summary: the response half of the API's
// description (src/api/openapi.ts). The request half is the schemas the routes validate
// with. Errors share one shape (src/api/errors.ts); each route lists the statuses it can
// answer with. Amounts of money are decimal strings of the ledger's base units; prices are
// currency units per Mbit/s per second.
import type { RouteOptions } from 'fastify';
import { RESERVATION_STATES } from '../reservations/types.js';

type Schema = Record<string, unknown>;

const integer = { type: 'integer' } as const;
const number = { type: 'number' } as const;
const string = { type: 'string' } as const;
const boolean = { type: 'boolean' } as const;
const baseUnits = { type: 'string', pattern: '^-?[0-9]+$', description: 'base units of the ledger, decimal string' } as const;
const bps = { type: 'number', description: 'bits per second' } as const;
const ms = { type: 'integer', description: 'milliseconds since the Unix epoch' } as const;
const dpid = { type: 'string', pattern: '^[0-9a-f]{16}$', description: 'datapath id, 16 hex digits' } as const;
const hex32 = { type: 'string', pattern: '^[0-9a-f]{32}$' } as const;

function object(properties: Record<string, unknown>, required: string[] = Object.keys(properties), description?: string): Schema {
  return { type: 'object', properties, required, ...(description ? { description } : {}) };
}
function array(items: unknown): Schema {
  return { type: 'array', items };
}
function nullable(schema: Schema): Schema {
  return { anyOf: [schema, { type: 'null' }] };
}

const error = object(
  { error: { type: 'object', required: ['code', 'message'], properties: { code: string, message: string }, additionalProperties: true } },
  ['error'],
  'every error: a code to branch on, a message for people, and details for some codes',
);

const flowMatch = object({ src: string, dst: string, proto: integer, srcPort: integer, dstPort: integer, flowLabel: integer }, ['src', 'dst']);
const path = object({ hops: array(object({ dpid, inPort: integer, outPort: integer })), resources: array(string) });
const terms = { type: 'object', additionalProperties: true, description: 'the offer: class, rate, duration, flow' };
const proof = object({ ledger: { type: 'string', enum: ['local', 'iota'] }, id: string });
const bottleneck = object({ resource: string, capacityBps: bps, cmaxBps: bps, reservedBps: bps, availableBps: bps });

const quoteView = object({
  quote: object({ id: hex32, issuer: string, ledger: string, payTo: string, amount: baseUnits, terms, issuedAt: ms, expiresAt: ms }),
  signature: string,
  unitPrice: { type: 'number', description: 'currency units per Mbit/s per second' },
  totalPrice: { type: 'number', description: 'currency units' },
  available: boolean,
  maxFitBps: bps,
  bottleneck: nullable(bottleneck),
});

const stranded = object({
  payment: proof,
  quoteId: hex32,
  payer: string,
  amount: baseUnits,
  reason: { type: 'string', enum: ['quote_expired', 'quote_used', 'too_little', 'not_active'] },
  policy: { type: 'string', enum: ['credit', 'refund'] },
  refund: nullable(object({ transfer: string, amount: baseUnits })),
  credit: nullable(object({ quote: quoteView, until: ms })),
});

const reservationProperties = {
  id: hex32,
  state: { type: 'string', enum: RESERVATION_STATES },
  quoteId: hex32,
  classId: string,
  rateBps: bps,
  burstBits: integer,
  dscp: integer,
  match: flowMatch,
  path,
  createdAt: ms,
  startsAt: ms,
  expiresAt: ms,
  endedAt: nullable(ms),
  paid: baseUnits,
  receipt: nullable(
    object({
      receipt: object({ id: string, issuer: string, quoteId: hex32, reservationId: hex32, payment: proof, paid: baseUnits, issuedAt: ms, terms }),
      signature: string,
    }),
  ),
  reason: nullable(string),
  queues: {
    ...array(object({ dpid, port: integer, queueId: integer, weightMbps: number })),
    description: 'the egress queue the reservation holds on each hop of a switch that schedules its own queues (payflow switch): set_queue id, output port and DRR weight (the paid rate in Mbit/s); empty towards Open vSwitch',
  },
};
const reservation = object(reservationProperties, Object.keys(reservationProperties).filter((k) => k !== 'queues'));

const classPrice = object({
  classId: string,
  name: string,
  price: { type: 'number', description: 'currency units per Mbit/s per second' },
  basePrice: number,
  maxPrice: number,
  demandBps: { ...bps, description: 'the demand the price was computed at, bits/s' },
  reservedBps: bps,
  measuredBps: { ...bps, description: "measured demand: the class's in-profile rate from payflow switch's own counters, else the offered rate at the meters" },
  degradedBps: { ...bps, description: 'traffic beyond the paid rates that the ingress meters re-marked to be carried as best effort (counted at the meter, before any later drop); neither demand nor revenue' },
  resource: nullable({ type: 'string', description: 'the reference link (dpid:port) of the class' }),
  cmaxBps: { ...bps, description: 'the class share of the reference link' },
  targetBps: { ...bps, description: 'the load the price steers towards' },
});

const menu = object({
  classes: array(
    object(
      { id: string, name: string, dscp: integer, bestEffort: boolean, share: number, target: number, basePrice: number, maxPrice: number, price: number, excess: { type: 'string', enum: ['drop', 'degrade'], description: 'traffic beyond the paid rate: dropped, or degraded to the next lower class' }, policing: { type: 'object' } },
      ['id', 'name', 'dscp', 'price'],
    ),
  ),
  limits: object({ minRateBps: bps, maxRateBps: bps, minDurationMs: integer, maxDurationMs: integer, quoteTtlMs: integer }),
  ledger: object({ kind: string, payTo: string, baseUnitsPerCurrencyUnit: integer }),
});

const topology = object({
  switches: array(
    object({
      dpid,
      ports: array(object({ portNo: integer, name: string, up: boolean, capacityBps: bps }, ['portNo', 'up', 'capacityBps'])),
      meterBands: { ...array({ type: 'string', enum: ['drop', 'dscp_remark'] }), description: 'the meter band types the switch advertises (OFPMP_METER_FEATURES)' },
      payflowSwitch: { type: 'boolean', description: 'the switch is payflow switch (OFPMP_DESC)' },
      excess: array(
        object(
          {
            classId: string,
            policy: { type: 'string', enum: ['drop', 'degrade'], description: "the class's excess policy" },
            excess: { type: 'string', enum: ['degraded', 'dropped'], description: 'what traffic beyond the paid rate gets on this switch' },
            reason: { type: 'string', description: 'why a degrading class drops here' },
          },
          ['classId', 'policy', 'excess'],
        ),
      ),
    }, ['dpid', 'ports']),
  ),
  links: array(object({ src: object({ dpid, port: integer }), dst: object({ dpid, port: integer }), capacityBps: bps })),
  hosts: array(object({ mac: string, dpid, port: integer, ipv4: array(string), ipv6: array(string) })),
  resources: array(
    object({
      resource: { type: 'string', description: 'an egress port, dpid:port' },
      capacityBps: bps,
      classes: array(object({ classId: string, cmaxBps: bps, reservedBps: bps, availableBps: bps })),
    }, ['resource', 'classes']),
  ),
  network: object(
    { connectedSwitches: integer, openflowMessagesIn: integer, openflowMessagesOut: integer, reservationsInstalled: integer, switchesRefused: integer, hostMovesRefused: integer },
    ['connectedSwitches', 'openflowMessagesIn', 'openflowMessagesOut', 'reservationsInstalled'],
  ),
});

const readinessCheck = object({ name: string, ok: boolean, detail: string }, ['name', 'ok']);

/** The successful answer of `GET /readyz`, and its 503. */
export const readinessReport = object({ status: { type: 'string', enum: ['ready', 'not_ready'] }, checks: array(readinessCheck) });

const ledgerEntry = object({ seq: integer, hash: string });
const channel = object({
  id: string,
  payer: string,
  payee: string,
  channelKey: string,
  deposit: baseUnits,
  settled: baseUnits,
  settledSequence: integer,
  timeoutAt: ms,
  closed: boolean,
});

function text(contentType: string, description: string): Schema {
  return { description, content: { [contentType]: { schema: string } } };
}

interface RouteDescription {
  tag: string;
  summary: string;
  response: Record<string, unknown>;
}

const e = (...codes: number[]): Record<string, Schema> => Object.fromEntries(codes.map((c) => [String(c), error]));

/** Per `METHOD url`: the tag, summary and answers. */
const ROUTES: Record<string, RouteDescription> = {
  'GET /v1/menu': { tag: 'market', summary: 'The service classes with their current prices, the limits, and where to pay', response: { 200: menu, ...e(400) } },
  'POST /v1/quotes': {
    tag: 'reservations',
    summary: 'A signed quote for a new reservation, or (with reservationId) for extending one',
    response: { 201: quoteView, ...e(400, 404, 409, 410, 422, 503) },
  },
  'POST /v1/reservations': { tag: 'reservations', summary: 'Pay a quote: the reservation is admitted and installed', response: { 201: reservation, ...e(400, 402, 404, 409, 410, 503) } },
  'GET /v1/reservations': {
    tag: 'reservations',
    summary: "Signed: the signer's reservations, newest first (an admin token: all); unsigned: only the load per class",
    response: {
      200: {
        anyOf: [
          object({ reservations: array(reservation) }),
          object({ load: object({ at: ms, active: integer, reservedBps: bps, classes: array(object({ classId: string, active: integer, reservedBps: bps })) }) }),
        ],
      },
      ...e(400, 401, 429),
    },
  },
  'GET /v1/reservations/:id': { tag: 'reservations', summary: 'One reservation (signed by its owner, or an operator token)', response: { 200: reservation, ...e(400, 401, 403, 404, 429) } },
  'DELETE /v1/reservations/:id': { tag: 'reservations', summary: 'Cancel a reservation; the unused time is refunded to its owner', response: { 200: reservation, ...e(400, 401, 403, 404, 409, 429, 503) } },
  'POST /v1/reservations/:id/extensions': { tag: 'reservations', summary: 'Pay an extension quote (signed by the owner)', response: { 201: reservation, ...e(400, 401, 402, 403, 404, 409, 410, 422, 429, 503) } },
  'POST /v1/reservations/:id/vouchers': {
    tag: 'reservations',
    summary: 'Extend by a payment-channel voucher',
    response: { 201: { allOf: [reservation, object({ extendedByMs: integer })] }, ...e(400, 402, 404, 409) },
  },
  'PATCH /v1/classes/:id': {
    tag: 'market',
    summary: "Change a class's basePrice, maxPrice, target or share at run time (admin token; validated like the config, kept across restarts)",
    response: {
      200: object({ id: string, name: string, basePrice: number, maxPrice: number, target: number, share: number, dscp: integer, bestEffort: boolean, policing: { type: 'object' } }),
      ...e(400, 401, 403),
    },
  },
  'POST /v1/admin/mint': {
    tag: 'ledger',
    summary: 'Mint on a testbed ledger (admin token; refused on a production ledger)',
    response: { 201: object({ id: string, seq: integer, hash: string }), ...e(400, 401, 403) },
  },
  'POST /v1/payments/stranded': {
    tag: 'reservations',
    summary: 'Claim back a payment that could not buy its quote (signed by the payer): refunded, or credited towards a new quote at the old price',
    response: {
      201: stranded,
      200: stranded,
      ...e(400, 401, 402, 403, 404, 409, 410),
    },
  },
  'GET /v1/reservation-stats': {
    tag: 'reservations',
    summary: 'Reservations as aggregates: how many in each state, and per class the active count and reserved rate',
    response: {
      200: object({
        at: ms,
        states: object(Object.fromEntries(RESERVATION_STATES.map((s) => [s, integer]))),
        classes: array(object({ classId: string, active: integer, reservedBps: bps })),
      }),
      ...e(400),
    },
  },
  'GET /v1/prices': {
    tag: 'market',
    summary: 'Current price per class; with history=true, the stored price changes',
    response: { 200: object({ at: ms, prices: array(classPrice), history: array(object({ at: ms, classId: string, price: number, demandBps: bps })) }, ['at', 'prices']), ...e(400) },
  },
  'GET /v1/revenue': {
    tag: 'market',
    summary: 'Revenue per class and in total, in base units of the ledger: settled amounts, with channel vouchers not yet settled apart',
    response: { 200: object({ classes: array(object({ classId: string, amount: baseUnits, unsettled: baseUnits, payments: integer })), total: baseUnits, unsettled: baseUnits }), ...e(400) },
  },
  'GET /v1/topology': { tag: 'network', summary: 'Switches, links, hosts, per-link capacity use per class, and network counters', response: { 200: topology, ...e(400) } },
  'GET /metrics': { tag: 'operations', summary: 'Prometheus metrics', response: { 200: text('text/plain', 'Prometheus text exposition format 0.0.4'), ...e(400) } },
  'GET /healthz': { tag: 'operations', summary: 'The process is up', response: { 200: object({ status: { type: 'string', enum: ['ok'] }, uptimeSeconds: number }) } },
  'GET /readyz': {
    tag: 'operations',
    summary: 'Ready to serve: the store is open, the ledger audited and the configured switches connected',
    response: { 200: readinessReport, 503: readinessReport },
  },
  'GET /openapi.json': { tag: 'operations', summary: 'This description (OpenAPI 3.1)', response: { 200: { type: 'object', additionalProperties: true }, ...e(400) } },
  'GET /': { tag: 'operations', summary: 'The dashboard (HTML)', response: { 200: text('text/html', 'the dashboard page') } },
  'GET /dashboard/:file': {
    tag: 'operations',
    summary: "The dashboard's script and style sheet",
    response: { 200: { description: 'dashboard.js or dashboard.css', content: { 'text/javascript': { schema: string }, 'text/css': { schema: string } } }, ...e(400) },
  },
  'GET /v1/ledger/info': {
    tag: 'ledger',
    summary: "The local ledger's identity and head",
    response: { 200: object({ ledger: string, ledgerId: string, authority: string, operatorAddress: nullable(string), testbed: boolean, head: { type: 'object' } }) },
  },
  'GET /v1/ledger/accounts/:address': { tag: 'ledger', summary: "An account's balance and nonce", response: { 200: object({ address: string, balance: baseUnits, nonce: integer }), ...e(400) } },
  'POST /v1/ledger/transfers': { tag: 'ledger', summary: 'A signed transfer', response: { 201: object({ id: string, seq: integer, hash: string, proof }), ...e(400, 402) } },
  'POST /v1/ledger/faucet': {
    tag: 'ledger',
    summary: 'Mint test funds: the same handler as POST /v1/admin/mint (admin token; testbed ledgers only; 401 token_missing without a token)',
    response: { 201: object({ id: string, seq: integer, hash: string }), ...e(400, 401, 403) },
  },
  'POST /v1/ledger/payments/verify': {
    tag: 'ledger',
    summary: 'Check that a payment paid an amount to a recipient with a memo',
    response: { 200: object({ ok: { type: 'boolean', enum: [true] }, proof, amount: baseUnits, payer: string }), ...e(400, 402) },
  },
  'POST /v1/ledger/channels': { tag: 'ledger', summary: 'Open a payment channel', response: { 201: object({ channel: string, seq: integer, hash: string }), ...e(400, 402) } },
  'GET /v1/ledger/channels/:id': { tag: 'ledger', summary: 'A payment channel', response: { 200: channel, ...e(400, 404) } },
  'POST /v1/ledger/channels/:id/settle': { tag: 'ledger', summary: 'Settle a channel with its latest voucher', response: { 201: ledgerEntry, ...e(400, 402, 404) } },
  'POST /v1/ledger/channels/:id/reclaim': { tag: 'ledger', summary: "Reclaim a channel's deposit after its timeout", response: { 201: ledgerEntry, ...e(400, 402, 404) } },
  'GET /v1/ledger/audit': {
    tag: 'ledger',
    summary: 'Re-check the whole journal (hashes, links, signatures, replayed state)',
    response: {
      200: {
        oneOf: [
          object({ ok: { type: 'boolean', enum: [true] }, entries: integer, head: string }),
          object({ ok: { type: 'boolean', enum: [false] }, entries: integer, problem: object({ seq: nullable(integer), reason: string }) }),
        ],
      },
    },
  },
};

/** Adds the tag, summary and responses of a route as it is registered (the onRoute hook). */
export function describeRoute(route: RouteOptions): void {
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  const found = methods.map((m) => ROUTES[`${m} ${route.url}`]).find((d) => d !== undefined);
  if (!found) return;
  route.schema = { ...route.schema, tags: [found.tag], summary: found.summary, response: found.response };
}

/** The routes this table describes (for the test that every route is described). */
export function describedRoutes(): string[] {
  return Object.keys(ROUTES);
}
