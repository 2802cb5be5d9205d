// /healthz and /readyz over a real socket on a controller with its real SQLite store and
// local ledger: ready when the store is open, the ledger's journal passes the audit and the
// allow-listed switches are connected; 503 naming the failed check otherwise.
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, tempDir, type Harness } from '../reservations/helpers.js';
import type { PayflowConfig } from '../../src/config/types.js';

interface Report {
  status: string;
  checks: { name: string; ok: boolean; detail?: string }[];
}

describe('health and readiness', () => {
  let h: Harness | undefined;
  let t: ReturnType<typeof tempDir> | undefined;
  afterEach(async () => {
    await h?.close();
    t?.cleanup();
    h = undefined;
  });
  const start = async (patch?: (c: PayflowConfig) => void): Promise<Harness> => {
    t = tempDir();
    h = await startHarness(t.dir, patch ? { patch } : {});
    return h;
  };
  const readyz = async (hh: Harness): Promise<{ status: number; body: Report }> => {
    const res = await fetch(`${hh.running.url}/readyz`);
    return { status: res.status, body: (await res.json()) as Report };
  };
  const failed = (r: Report): string[] => r.checks.filter((c) => !c.ok).map((c) => c.name);

  it('GET /healthz is 200 while the process runs', async () => {
    const hh = await start();
    const res = await fetch(`${hh.running.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', uptimeSeconds: expect.any(Number) });
  });

  it('GET /readyz is 200 with the store open, the ledger audited and no switch required', async () => {
    const hh = await start();
    const q = await hh.api.quote({ src: '10.0.0.1', dst: '10.0.0.2', rate: '1mbit', duration: '60s' });
    await hh.api.reserve(q.quote.id, await hh.pay(q.quote));
    const r = await readyz(hh);
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('ready');
    expect(r.body.checks.map((c) => c.name)).toEqual(['store', 'ledger', 'switches']);
    expect(r.body.checks.find((c) => c.name === 'ledger')!.detail).toMatch(/^\d+ entries audited$/);
  });

  it('is 503 while an allow-listed switch is not connected, and 200 once all are', async () => {
    // the test network has switches 1, 2 and 3
    const hh = await start((c) => {
      c.openflow.switches = ['0000000000000001', '0000000000000002', '0000000000000009'];
    });
    let r = await readyz(hh);
    expect(r.status).toBe(503);
    expect(r.body.status).toBe('not_ready');
    expect(failed(r.body)).toEqual(['switches']);
    expect(r.body.checks.find((c) => c.name === 'switches')!.detail).toBe('not connected: 0000000000000009');
    hh.network.topology.addSwitch(9n, [{ portNo: 1, up: true }]);
    r = await readyz(hh);
    expect(r.status).toBe(200);
    hh.network.topology.removeSwitch(9n);
    expect((await readyz(hh)).status).toBe(503);
  });

  it('is 503 when the ledger journal fails its audit', async () => {
    const hh = await start();
    // an entry altered behind the ledger's back: its hash no longer matches its content
    const db = hh.running.store.db;
    const last = db.prepare<[], { seq: number; body: string }>('SELECT seq, body FROM ledger_entries ORDER BY seq DESC LIMIT 1').get()!;
    db.prepare('UPDATE ledger_entries SET body = ? WHERE seq = ?').run(last.body.replace(/"[0-9]+"/, '"1"'), last.seq);
    const r = await readyz(hh);
    expect(r.status).toBe(503);
    expect(failed(r.body)).toEqual(['ledger']);
    expect(r.body.checks.find((c) => c.name === 'ledger')!.detail).toMatch(/altered|not valid|does not/);
    // liveness does not depend on it
    expect((await fetch(`${hh.running.url}/healthz`)).status).toBe(200);
  });

  it('is 503 when the store is closed', async () => {
    const hh = await start();
    expect((await readyz(hh)).status).toBe(200);
    hh.running.store.close();
    const r = await readyz(hh);
    expect(r.status).toBe(503);
    expect(failed(r.body)).toEqual(['store', 'ledger']);
    expect(r.body.checks[0]).toEqual({ name: 'store', ok: false, detail: 'the store is closed' });
  });
});
