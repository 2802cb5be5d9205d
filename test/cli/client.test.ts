// The client commands against a real controller started in the test (real HTTP, real SQLite,
// the scripted topology of test/reservations/helpers.ts), the CLI run as the built child
// process: `payflow prices` (table and --json), reservation ids by unique prefix (unique,
// ambiguous, unknown, not hex), the short ids the list prints accepted back, and money printed
// exactly. Needs `npm run build` first (npm test does it).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, startHarness, tempDir, TEST_ADMIN_TOKEN, type Harness } from '../reservations/helpers.js';
import type { ReservationView } from '../../src/reservations/types.js';

const run = promisify(execFile);

async function payflow(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return payflowWith({}, ...args);
}

/** The CLI with extra environment variables (PAYFLOW_TOKEN unset unless given). */
async function payflowWith(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { PAYFLOW_TOKEN: _unset, ...base } = process.env;
  try {
    const r = await run(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...base, ...env } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

/** A number printed with more than 6 decimals: what money must never look like. */
const LONG_FLOAT = /\d\.\d{7,}/;

describe('payflow client commands against a running controller', () => {
  const t = tempDir('payflow-cli-');
  let h: Harness;
  let url: string;
  const reservations: ReservationView[] = [];

  let wallet = '';

  beforeAll(async () => {
    h = await startHarness(t.dir);
    url = h.running.url;
    // the CLI signs as the key that paid for the reservations (their owner)
    wallet = `${t.dir}/wallet.json`;
    h.payer.save(wallet);
    // 17 reservations: two of them must share a first hex digit (16 digits), so a one-digit
    // prefix is ambiguous for at least one of them
    for (let i = 0; i < 17; i++) {
      const q = await h.api.quote({ src: '10.0.0.1', dst: '10.0.0.2', rate: '8kbit', duration: '10m', classId: 'silver' });
      reservations.push(await h.api.reserve(q.quote.id, await h.pay(q.quote)));
    }
  }, 60_000);

  afterAll(async () => {
    await h?.close();
    t.cleanup();
  });

  it('prices: one row per class with the price in 6 fixed decimals, the ledger and the load', async () => {
    const r = await payflow('prices', '--api', url);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^prices at \d{4}-\d\d-\d\dT[\d:.]+Z, in currency units per Mbit\/s per second$/m);
    expect(r.stdout).toMatch(/local ledger, 1000000 base units per currency unit/);
    expect(r.stdout).toMatch(/^ {2}gold\s+Gold\s+46\s+0\.160000\s+0\.160000\s+1\.600000\s/m);
    expect(r.stdout).toMatch(/^ {2}best-effort\s+Best effort\s+0\s+0\.040000\s+0\.040000\s+0\.400000\s.*best effort$/m);
    expect(r.stdout).toMatch(/^ {2}silver\s+Silver\s+26\s+\d+\.\d{6}\s/m);
    expect(r.stdout).not.toMatch(LONG_FLOAT);
  });

  it('prices --json: the API\'s menu and prices as they came', async () => {
    const r = await payflow('prices', '--api', url, '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { menu: unknown; prices: { prices: { classId: string }[] } };
    expect(out.menu).toEqual(await h.api.menu());
    expect(out.prices.prices.map((p) => p.classId)).toEqual(['gold', 'silver', 'best-effort']);
  });

  it('prices: a controller that is not there is a clear error, exit 1', async () => {
    const r = await payflow('prices', '--api', 'http://127.0.0.1:9');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^payflow prices: /);
  });

  it('the list prints short ids, and each one is accepted back', async () => {
    const r = await payflow('reservations', '--wallet', wallet, '--api', url);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ {2}id\s+state\s+class\s+rate\s+flow\s+until\s+paid \(base units\)$/);
    expect(lines).toHaveLength(1 + reservations.length);
    const shortIds = lines.slice(1).map((l) => l.trim().split(/\s+/)[0]!);
    for (const short of shortIds) expect(short.length).toBeGreaterThanOrEqual(8);
    for (const short of shortIds.slice(0, 3)) {
      const full = reservations.find((x) => x.id.startsWith(short))!;
      const shown = await payflow('reservations', short, '--wallet', wallet, '--api', url);
      expect(shown.code, shown.stderr).toBe(0);
      expect(shown.stdout).toMatch(new RegExp(`^reservation ${full.id} active$`, 'm'));
    }
  });

  it('an operator token in PAYFLOW_TOKEN lists every reservation; --wallet still signs as the wallet; a bad token is refused', async () => {
    const viaEnv = await payflowWith({ PAYFLOW_TOKEN: TEST_ADMIN_TOKEN }, 'reservations', '--api', url, '--json', '--limit', '1000');
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    const listed = (JSON.parse(viaEnv.stdout) as ReservationView[]).map((r) => r.id);
    for (const r of reservations) expect(listed).toContain(r.id);
    const unsigned = await payflow('reservations', '--api', url);
    expect(unsigned.stdout).toMatch(/sign with --wallet to see your own/);
    const walletWins = await payflowWith({ PAYFLOW_TOKEN: 'not-a-token' }, 'reservations', '--wallet', wallet, '--api', url, '--json');
    expect(walletWins.code, walletWins.stderr).toBe(0);
    const bad = await payflowWith({ PAYFLOW_TOKEN: 'not-a-token' }, 'reservations', '--api', url);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
  });

  it('a unique prefix (any case) names its reservation; --json and --cancel take it too', async () => {
    const ids = reservations.map((r) => r.id);
    const target = ids.find((id) => ids.filter((o) => o.startsWith(id.slice(0, 5))).length === 1)!;
    const json = await payflow('reservations', target.slice(0, 5).toUpperCase(), '--wallet', wallet, '--api', url, '--json');
    expect(json.code, json.stderr).toBe(0);
    expect((JSON.parse(json.stdout) as ReservationView).id).toBe(target);
    const cancelled = await payflow('reservations', target.slice(0, 6), '--cancel', '--wallet', wallet, '--api', url);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.stdout).toMatch(new RegExp(`^reservation ${target} cancelled$`, 'm'));
    // a whole id still works
    expect((await payflow('reservations', target, '--wallet', wallet, '--api', url)).stdout).toMatch(/ cancelled$/m);
  });

  it('an ambiguous prefix is refused, listing every candidate', async () => {
    const ids = reservations.map((r) => r.id);
    const digit = [...'0123456789abcdef'].find((d) => ids.filter((id) => id.startsWith(d)).length >= 2)!;
    const candidates = ids.filter((id) => id.startsWith(digit));
    const r = await payflow('reservations', digit, '--wallet', wallet, '--api', url);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`'${digit}' is ambiguous: ${candidates.length} reservations start with it`));
    for (const id of candidates) expect(r.stderr).toContain(id);
    expect(r.stdout).toBe('');
  });

  it('an unknown prefix and text that is not an id are refused clearly', async () => {
    const ids = reservations.map((r) => r.id);
    let unknown = '';
    for (let n = 0; ; n++) {
      unknown = n.toString(16).padStart(6, '0');
      if (!ids.some((id) => id.startsWith(unknown))) break;
    }
    const r = await payflow('reservations', unknown, '--wallet', wallet, '--api', url);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`no reservation id starts with '${unknown}' \\(among the controller's \\d+ reservations\\)`));
    const bad = await payflow('reservations', 'not-an-id', '--wallet', wallet, '--api', url);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/'not-an-id' is not a reservation id/);
  });

  it('money is exact: a quote whose float total is 11.200000000000001 prints 11.200000 and its exact base units', async () => {
    // gold at its base price, 0.16 x 1 Mbit/s x 70 s = 11.200000000000001 in binary floating point
    const flow = ['--api', url, '--src', '10.0.0.1', '--dst', '10.0.0.2', '--rate', '1mbit', '--duration', '70s', '--class', 'gold'];
    const json = await payflow('quote', ...flow, '--json');
    const q = JSON.parse(json.stdout) as { unitPrice: number; totalPrice: number; quote: { amount: string } };
    expect(q.unitPrice).toBe(0.16);
    expect(String(q.totalPrice)).toBe('11.200000000000001'); // the API keeps the float as it is
    const r = await payflow('quote', ...flow);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`price 0\\.160000 per Mbit/s per s, total 11\\.200000 = ${q.quote.amount} base units to pf1`));
    expect(q.quote.amount).toBe('11200001'); // rounded up to whole base units by the controller
    expect(r.stdout).not.toMatch(LONG_FLOAT);
    const shown = await payflow('reservations', reservations[0]!.id, '--wallet', wallet, '--api', url);
    expect(shown.stdout).toMatch(new RegExp(`paid ${reservations[0]!.paid} base units`));
  });
});
