// The API's description: GET /openapi.json lists every registered route with its request
// and response schemas, parses and validates as OpenAPI 3.1 (@apidevtools/swagger-parser),
// documents what the routes really answer, and GET /docs renders it without a network.
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, tempDir, type Harness } from '../reservations/helpers.js';
import { accountSigner, signRequest } from '../../src/api/request-signature.js';
import { describedRoutes } from '../../src/api/responses.js';

interface Operation {
  summary?: string;
  tags?: string[];
  parameters?: unknown[];
  requestBody?: unknown;
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}
type Document = { openapi: string; paths: Record<string, Record<string, Operation>> };

/** fastify's `/a/:id` as OpenAPI's `/a/{id}` */
const openapiPath = (url: string): string => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** Every METHOD url the server registered, read from fastify's route tree, without HEAD. */
function registeredRoutes(h: Harness): string[] {
  const tree = h.running.app.printRoutes({ commonPrefix: false });
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([└├│─\s]*)(\S+) \(([A-Z, ]+)\)$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4 - 1;
    stack.length = depth;
    const url = (stack[depth - 1] ?? '') + m[2]!;
    stack.push(url);
    for (const method of m[3]!.split(', ')) if (method !== 'HEAD') out.push(`${method} ${url}`);
  }
  return out;
}

describe('OpenAPI description', () => {
  let h: Harness;
  let doc: Document;
  const t = tempDir();
  beforeAll(async () => {
    h = await startHarness(t.dir);
    const res = await fetch(`${h.running.url}/openapi.json`);
    expect(res.status).toBe(200);
    doc = (await res.json()) as Document;
  });
  afterAll(async () => {
    await h.close();
    t.cleanup();
  });

  it('validates as OpenAPI 3.1', async () => {
    expect(doc.openapi).toBe('3.1.0');
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeTruthy();
  });

  it('describes every registered route except the docs page assets, each with a summary and a response schema', () => {
    const routes = registeredRoutes(h).filter((r) => !/^GET \/docs(\/|$)/.test(r));
    expect(routes).toContain('DELETE /v1/reservations/:id');
    expect(routes.length).toBeGreaterThanOrEqual(25);
    const missing = routes.filter((r) => {
      const [method, url] = r.split(' ') as [string, string];
      return doc.paths[openapiPath(url)]?.[method.toLowerCase()] === undefined;
    });
    expect(missing).toEqual([]);
    const undescribed = routes.filter((r) => {
      const [method, url] = r.split(' ') as [string, string];
      const op = doc.paths[openapiPath(url)]![method.toLowerCase()]!;
      return !op.summary || !op.tags?.length || !Object.keys(op.responses).some((s) => s.startsWith('2'));
    });
    expect(undescribed).toEqual([]);
    // and the table of answers names no route that does not exist
    expect(describedRoutes().filter((r) => !routes.includes(r))).toEqual([]);
  });

  it('carries the request schemas the routes validate with', () => {
    const quote = doc.paths['/v1/quotes']!['post']!;
    const body = (quote.requestBody as { content: Record<string, { schema: { required: string[]; properties: Record<string, unknown> } }> }).content['application/json']!.schema;
    expect(body.required).toEqual(['duration']);
    expect(Object.keys(body.properties)).toContain('reservationId');
    const prices = doc.paths['/v1/prices']!['get']!;
    expect((prices.parameters as { name: string; in: string }[]).map((p) => `${p.in}:${p.name}`)).toEqual(
      expect.arrayContaining(['query:history', 'query:classId', 'query:limit', 'query:since']),
    );
    const one = doc.paths['/v1/reservations/{id}']!['get']!;
    expect(one.parameters).toContainEqual(expect.objectContaining({ in: 'path', name: 'id', required: true }));
  });

  it('documents what the routes answer: live responses match their documented schemas', async () => {
    const q = await h.api.quote({ src: '10.0.0.1', dst: '10.0.0.2', rate: '1mbit', duration: '60s' });
    const r = await h.api.reserve(q.quote.id, await h.pay(q.quote));
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const check = async (method: string, url: string, docPath: string, status: number, body?: unknown, signed = false): Promise<void> => {
      const text = body === undefined ? undefined : JSON.stringify(body);
      const headers: Record<string, string> = text === undefined ? {} : { 'content-type': 'application/json' };
      // the owner's routes are asked as the owner (a request signed by the key that paid)
      if (signed) headers['payflow-signature'] = signRequest(accountSigner(h.payer), { method, path: url, body: text });
      const res = await fetch(`${h.running.url}${url}`, { method, headers, ...(text === undefined ? {} : { body: text }) });
      expect(res.status, `${method} ${url}`).toBe(status);
      const schema = doc.paths[docPath]![method.toLowerCase()]!.responses[String(status)]!.content!['application/json']!.schema;
      const validate = ajv.compile(schema as object);
      const json: unknown = await res.json();
      expect(validate(json) ? [] : validate.errors, `${method} ${url}`).toEqual([]);
    };
    await check('GET', '/v1/menu', '/v1/menu', 200);
    await check('POST', '/v1/quotes', '/v1/quotes', 201, { src: '10.0.0.1', dst: '10.0.0.2', rate: '1mbit', duration: '60s' });
    await check('GET', '/v1/reservations', '/v1/reservations', 200);
    await check('GET', '/v1/reservations', '/v1/reservations', 200, undefined, true);
    await check('GET', `/v1/reservations/${r.id}`, '/v1/reservations/{id}', 200, undefined, true);
    await check('GET', `/v1/reservations/${r.id}`, '/v1/reservations/{id}', 401);
    await check('GET', '/v1/reservations/nope', '/v1/reservations/{id}', 404, undefined, true);
    await check('GET', '/v1/prices?history=true', '/v1/prices', 200);
    await check('GET', '/v1/revenue', '/v1/revenue', 200);
    await check('GET', '/v1/topology', '/v1/topology', 200);
    await check('GET', '/v1/reservation-stats', '/v1/reservation-stats', 200);
    await check('GET', '/healthz', '/healthz', 200);
    await check('GET', '/readyz', '/readyz', 200);
    await check('GET', '/v1/ledger/info', '/v1/ledger/info', 200);
    await check('GET', '/v1/ledger/audit', '/v1/ledger/audit', 200);
    await check('DELETE', `/v1/reservations/${r.id}`, '/v1/reservations/{id}', 200, undefined, true);
  });

  it('serves a docs page and its assets from the package (no CDN)', async () => {
    const page = await fetch(`${h.running.url}/docs/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\/(?!localhost|127\.0\.0\.1)[^"']*\.(js|css)/);
    const scripts = [...html.matchAll(/src="([^"]+\.js)"/g)].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    for (const s of scripts) {
      const res = await fetch(new URL(s, `${h.running.url}/docs/`));
      expect(res.status, s).toBe(200);
      await res.arrayBuffer();
    }
  });
});
