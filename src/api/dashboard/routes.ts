// The dashboard: GET / serves a page (public/index.html, public/dashboard.js as an ES
// module, public/dashboard.css) that draws itself from the public API — prices and load
// from /v1/prices, reservations as aggregates from /v1/reservation-stats, capacity per link
// from /v1/topology, revenue from /v1/revenue. The files ship in the package as they are
// (the build copies them next to the compiled module); no framework, no bundler.
//
// GET /v1/reservation-stats is the public view of reservations: how many are in each state
// and, per class, how many are active and at what total rate. It names no host, flow,
// payment or receipt.
import { readFileSync } from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';
import type { ReservationService } from '../../reservations/service.js';
import type { ReservationState } from '../../reservations/types.js';

export interface DashboardOptions {
  service: ReservationService;
  /** the classes in menu order */
  classIds: () => string[];
}

/** The most active reservations summed per class (the service's list limit). */
const ACTIVE_SCAN_LIMIT = 1000;

const ASSETS: Record<string, string> = {
  'dashboard.js': 'text/javascript; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
};

function asset(name: string): string {
  return readFileSync(new URL(`./public/${name}`, import.meta.url), 'utf8');
}

export interface ReservationStats {
  at: number;
  states: Record<ReservationState, number>;
  classes: { classId: string; active: number; reservedBps: number }[];
}

/** Reservations as aggregates (no hosts, flows or payments). */
export function reservationStats(service: ReservationService, classIds: string[]): ReservationStats {
  const states = service.countByState();
  const perClass = new Map(classIds.map((id) => [id, { classId: id, active: 0, reservedBps: 0 }]));
  for (const r of service.list({ state: 'active', limit: ACTIVE_SCAN_LIMIT })) {
    let c = perClass.get(r.classId);
    if (!c) perClass.set(r.classId, (c = { classId: r.classId, active: 0, reservedBps: 0 }));
    c.active++;
    c.reservedBps += r.rateBps;
  }
  return { at: Date.now(), states, classes: [...perClass.values()] };
}

const noQuery = { type: 'object', additionalProperties: false, properties: {} } as const;
/** the page takes one option: how often it polls, ms */
const pageQuery = { type: 'object', additionalProperties: false, properties: { poll: { type: 'string', pattern: '^[1-9][0-9]{2,5}$' } } } as const;

export const dashboardPlugin: FastifyPluginAsync<DashboardOptions> = async (app, options) => {
  // read once at start: a missing file fails the start, not the first visitor
  const page = asset('index.html');
  const files = new Map(Object.entries(ASSETS).map(([name, type]) => [name, { type, body: asset(name) }]));

  app.get('/', { schema: { querystring: pageQuery } }, async (_request, reply) =>
    reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-cache').send(page));

  app.get<{ Params: { file: string } }>(
    '/dashboard/:file',
    { schema: { params: { type: 'object', required: ['file'], additionalProperties: false, properties: { file: { type: 'string', enum: Object.keys(ASSETS) } } }, querystring: noQuery } },
    async (request, reply) => {
      const f = files.get(request.params.file)!;
      return reply.header('content-type', f.type).header('cache-control', 'no-cache').send(f.body);
    },
  );

  app.get('/v1/reservation-stats', { schema: { querystring: noQuery } }, async () => reservationStats(options.service, options.classIds()));
};
