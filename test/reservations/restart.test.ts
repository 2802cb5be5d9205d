// The kill -9 restart test and the client CLI, with the built
// command `node dist/src/cli/main.js` as child processes (run `npx tsc -p tsconfig.json`
// first). The controller runs with `openflow.enabled: false` and a static topology from
// its config: no switches, reservations admitted and recorded but not enforced (the
// network side's enforcement is tested against real OVS in test/network/network-ovs.test.ts).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountSigner } from '../../src/api/request-signature.js';
import { ApiClient, ApiError } from '../../src/api/client.js';
import { LedgerHttpClient } from '../../src/payments/http-client.js';
import { SigningKey } from '../../src/payments/keys.js';
import { CLI, configText, fundingLedger, startCli, tempDir, TEST_ADMIN_TOKEN } from './helpers.js';

describe('payflow controller: kill -9 and restart; the client commands', () => {
  const t = tempDir();
  const configPath = join(t.dir, 'payflow.yaml');
  const dataDir = join(t.dir, 'data');
  let running: Started | undefined;

  beforeAll(() => {
    writeFileSync(configPath, configText(dataDir));
  });
  afterAll(async () => {
    if (running && running.child.exitCode === null) {
      running.child.kill('SIGKILL');
      await running.exited;
    }
    t.cleanup();
  });

  it('a paid reservation survives SIGKILL; its proof is still refused as already redeemed', async () => {
    running = await startCli(['controller', '--config', configPath]);
    const payer = SigningKey.generate();
    const api = new ApiClient(running.url, { signer: accountSigner(payer) });
    const ledger = fundingLedger(api.ledgerUrl);
    await ledger.faucet(payer.address, 10n ** 12n);
    const q = await api.quote({ src: '10.0.0.1', dst: '10.0.0.2', classId: 'gold', rate: '5mbit', duration: '1h', proto: 6, dstPort: 443 });
    const proof = await ledger.pay(payer, q.quote.payTo, BigInt(q.quote.amount), q.quote.id);
    const r = await api.reserve(q.quote.id, proof);
    expect(r.state).toBe('active');

    running.child.kill('SIGKILL');
    expect((await running.exited).signal).toBe('SIGKILL');

    running = await startCli(['controller', '--config', configPath]);
    const api2 = new ApiClient(running.url, { signer: accountSigner(payer) });
    const back = await api2.reservation(r.id);
    expect(back).toMatchObject({ id: r.id, state: 'active', expiresAt: r.expiresAt, rateBps: 5_000_000, paid: q.quote.amount });
    // back in admission control: the capacity it holds is not offered again
    const topo = (await api2.topology()) as { resources: { resource: string; classes: { classId: string; reservedBps: number }[] }[] };
    const s1 = topo.resources.find((x) => x.resource === '0000000000000001:2')!;
    expect(s1.classes.find((c) => c.classId === 'gold')!.reservedBps).toBe(5_000_000);
    // the same proof cannot buy again, and nothing was charged twice
    const q2 = await api2.quote({ src: '10.0.0.1', dst: '10.0.0.2', rate: '1mbit', duration: '1m' });
    const err = await api2.reserve(q2.quote.id, proof).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(402);
    expect((err as ApiError).code).toBe('already_redeemed');
    expect((await api2.revenue()).total).toBe(q.quote.amount);
    expect(await new LedgerHttpClient(api2.ledgerUrl).balance(q.quote.payTo)).toBe(BigInt(q.quote.amount));
  });

  it('payflow reserve does quote → pay → reserve; payflow quote and payflow reservations talk to the same API', () => {
    const url = running!.url;
    const wallet = join(t.dir, 'wallet.json');
    SigningKey.generate().save(wallet);
    const quote = spawnSync('node', [CLI, 'quote', '--api', url, '--src', 'fd00::1', '--dst', 'fd00::2', '--rate', '2mbit', '--duration', '30s', '--class', 'silver', '--json'], { encoding: 'utf8' });
    expect(quote.status, quote.stderr).toBe(0);
    expect(JSON.parse(quote.stdout).quote.terms).toMatchObject({ classId: 'silver', rateBps: 2_000_000, durationMs: 30_000 });
    // --faucet mints with an admin token: without one it is refused, saying how to get one
    const buy = [CLI, 'reserve', '--api', url, '--src', '10.0.0.1', '--dst', '10.0.0.2', '--rate', '5mbit', '--duration', '60s', '--wallet', wallet, '--faucet', '--json'];
    const { PAYFLOW_TOKEN: _ignored, ...envWithoutToken } = process.env;
    const noToken = spawnSync('node', buy, { encoding: 'utf8', env: envWithoutToken });
    expect(noToken.status).toBe(1);
    expect(noToken.stderr).toMatch(/token_missing|operator token of scope admin/);
    const res = spawnSync('node', buy, { encoding: 'utf8', env: { ...envWithoutToken, PAYFLOW_TOKEN: TEST_ADMIN_TOKEN } });
    expect(res.status, res.stderr).toBe(0);
    const r = JSON.parse(res.stdout) as { id: string; state: string; rateBps: number; classId: string };
    expect(r).toMatchObject({ state: 'active', rateBps: 5_000_000, classId: 'gold' });
    const list = spawnSync('node', [CLI, 'reservations', '--api', url, '--state', 'active', '--wallet', wallet, '--json'], { encoding: 'utf8' });
    expect(list.status, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as { id: string }[]).map((x) => x.id)).toContain(r.id);
    // without the wallet: only the load, no reservation, host or path
    const load = spawnSync('node', [resolve(CLI), 'reservations', '--api', url], { encoding: 'utf8', cwd: t.dir, env: { ...process.env } });
    expect(load.status, load.stderr).toBe(0);
    expect(load.stdout).toMatch(/^2 reservations in force, 10000000 bit\/s reserved/);
    expect(load.stdout).not.toContain('10.0.0.1');
    const unsigned = spawnSync('node', [resolve(CLI), 'reservations', r.id, '--api', url, '--cancel'], { encoding: 'utf8', cwd: t.dir, env: { ...process.env } });
    expect(unsigned.status).toBe(1);
    expect(unsigned.stderr).toMatch(/sign this request with the key that paid/);
    const text = spawnSync('node', [CLI, 'reservations', r.id, '--api', url, '--wallet', wallet, '--cancel'], { encoding: 'utf8' });
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`reservation ${r.id} cancelled`));
    expect(text.stdout).toMatch(/refunded \d+ to pf1/);
    // a refusal is printed with its reason and exit status 1
    const big = spawnSync('node', [CLI, 'reserve', '--api', url, '--src', '10.0.0.1', '--dst', '10.0.0.2', '--rate', '90mbit', '--duration', '60s', '--wallet', wallet, '--faucet', '--token', TEST_ADMIN_TOKEN], { encoding: 'utf8' });
    expect(big.status).toBe(1);
    expect(big.stderr).toMatch(/at most \d+ bit\/s fits now/);
  });

  it('SIGTERM stops the controller cleanly', async () => {
    running!.child.kill('SIGTERM');
    expect(await running!.exited).toEqual({ code: 0, signal: null });
  });

  it('a bad config is refused at start with the path of the bad field', () => {
    const bad = join(t.dir, 'bad.yaml');
    writeFileSync(bad, 'classes:\n  - { id: gold, basePrice: 0.16, target: 1.5, share: 0.4, dscp: 46, bestEffort: true }\ntopology:\n  static:\n    hosts: [ { mac: "ff:ff:ff:ff:ff:ff", at: { dpid: 1, port: 1 }, ips: ["10.0.0.1"] } ]\n');
    const r = spawnSync('node', [CLI, 'controller', '--config', bad, '--data-dir', join(t.dir, 'never')], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/classes\[0\]\.target: must be between 0 and 1/);
    expect(r.stderr).toMatch(/topology\.static\.hosts\[0\]\.mac: must be a unicast MAC/);
  });
});
