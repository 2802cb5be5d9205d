// The HTTP API's read routes and /metrics over a real socket; the
// RecordingEnforcer stands in for the switches (test/reservations/helpers.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, tempDir, type Harness } from '../reservations/helpers.js';

describe('API routes', () => {
  let h: Harness;
  const t = tempDir();
  beforeAll(async () => {
    h = await startHarness(t.dir);
  });
  afterAll(async () => {
    await h.close();
    t.cleanup();
  });

  it('GET /v1/menu lists the classes, limits and where to pay', async () => {
    const m = await h.api.menu();
    expect(m.classes.map((c) => c.id)).toEqual(['gold', 'silver', 'best-effort']);
    expect(m.classes[0]).toMatchObject({ basePrice: 0.16, maxPrice: 1.6, target: 0.5, dscp: 46, price: 0.16 });
    expect(m.ledger).toEqual({ kind: 'local', payTo: h.running.operatorKey.address, baseUnitsPerCurrencyUnit: 1_000_000 });
    expect(m.limits.quoteTtlMs).toBe(30_000);
  });

  it('GET /v1/topology shows switches, links, hosts, capacity use and network stats', async () => {
    const topo = (await h.api.topology()) as { switches: unknown[]; links: unknown[]; hosts: { ipv4: string[] }[]; resources: { resource: string }[]; network: { connectedSwitches: number } };
    expect(topo.switches).toHaveLength(3);
    expect(topo.links).toHaveLength(4);
    expect(topo.hosts.flatMap((x) => x.ipv4).sort()).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(topo.resources.map((r) => r.resource)).toContain('0000000000000002:2');
    expect(topo.network.connectedSwitches).toBe(3);
  });

  it('GET /metrics is Prometheus text with reservations, admission, prices, revenue and OpenFlow figures', async () => {
    const q = await h.api.quote({ src: '10.0.0.1', dst: '10.0.0.2', rate: '1mbit', duration: '60s' });
    await h.api.reserve(q.quote.id, await h.pay(q.quote));
    await h.api.quote({ src: '10.0.0.1', dst: '10.0.0.2', rate: '9mbit', duration: '60s' }).catch(() => undefined);
    const res = await fetch(`${h.running.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/^payflow_reservations\{state="active"\} 1$/m);
    expect(text).toMatch(/^payflow_admission_decisions_total\{result="admitted"\} 1$/m);
    expect(text).toMatch(/^payflow_capacity_refusals_total 1$/m);
    expect(text).toMatch(/^payflow_price\{class="gold"\} 0\.16$/m);
    expect(text).toMatch(/^payflow_revenue_base_units_total\{class="gold"\} 9600000$/m);
    expect(text).toMatch(/^payflow_openflow_messages_total\{direction="in"\} 10$/m);
    expect(text).toMatch(/^payflow_connected_switches 3$/m);
    expect(text).toMatch(/^payflow_reservations_installed 1$/m);
  });

  it('GET /v1/prices serves current prices and, on request, the stored history', async () => {
    const p = await h.api.prices(true);
    expect(p.prices.map((x) => x.classId)).toEqual(['gold', 'silver', 'best-effort']);
    expect(p.history!.length).toBeGreaterThanOrEqual(3);
    expect(p.history!.every((x) => typeof x.at === 'number' && x.price > 0)).toBe(true);
  });

  it("measured load from the network's LoadSamples moves the price served at /v1/prices", async () => {
    h.running.pricing.tick();
    h.network.emitLoad({ atMs: h.clock.now, classRateBps: { gold: 3_500_000 } });
    h.clock.now += 1000;
    h.running.pricing.tick();
    const gold = (await h.api.prices()).prices.find((p) => p.classId === 'gold')!;
    expect(gold.measuredBps).toBeGreaterThan(3_000_000);
    expect(gold.price).toBeGreaterThan(0.16);
    const m = await h.api.menu();
    expect(m.classes[0]!.price).toBe(gold.price);
  });

  it('serves the local ledger at /v1/ledger', async () => {
    const info = (await (await fetch(`${h.running.url}/v1/ledger/info`)).json()) as { operatorAddress: string; testbed: boolean };
    expect(info.operatorAddress).toBe(h.running.operatorKey.address);
    expect(info.testbed).toBe(true);
  });
});
