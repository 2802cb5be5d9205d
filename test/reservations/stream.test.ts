// `payflow reserve --stream` (from the client's side): the built CLI buys a
// reservation, opens a micropayment channel on the controller's local ledger and keeps the
// reservation one period ahead with signed cumulative vouchers, until the deposit is spent or
// it is interrupted; then the reservation ends with the time paid for. A real controller
// (child process, SQLite, local ledger, RSA-PSS channel key); no switches (openflow.enabled:
// false, as in restart.test.ts), so enforcement is not part of this test.
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/api/client.js';
import { accountSigner } from '../../src/api/request-signature.js';
import { SigningKey } from '../../src/payments/keys.js';
import { CLI, configText, startCli, tempDir, TEST_ADMIN_TOKEN, type Started } from './helpers.js';

interface StreamEvent {
  event: 'reserved' | 'channel' | 'voucher' | 'spent' | 'stopped';
  reservation?: { id: string; expiresAt: number; paid: string };
  sequence?: number;
  amount?: string;
  extendedByMs?: number;
  expiresAt?: number;
  paid?: string;
  deposit?: string;
}

describe('payflow reserve --stream: pay as you go through a micropayment channel', () => {
  const t = tempDir('payflow-stream-');
  let running: Started | undefined;
  let wallet = '';

  beforeAll(async () => {
    const cfg = join(t.dir, 'payflow.yaml');
    writeFileSync(cfg, configText(join(t.dir, 'data')) + 'reservations: { minDuration: 1s }\n');
    running = await startCli(['controller', '--config', cfg]);
    wallet = join(t.dir, 'wallet.json');
    SigningKey.generate().save(wallet);
  }, 60_000);

  afterAll(async () => {
    running?.child.kill('SIGTERM');
    await running?.exited;
    t.cleanup();
  });

  const reserveArgs = (...more: string[]) => [CLI, 'reserve', '--api', running!.url, '--src', '10.0.0.1', '--dst', '10.0.0.2', '--rate', '1mbit', '--class', 'gold', '--wallet', wallet, '--faucet', '--token', TEST_ADMIN_TOKEN, '--json', ...more];

  it('pays one period ahead with vouchers until the deposit is spent; the reservation then holds exactly what was paid', async () => {
    const r = spawnSync('node', reserveArgs('--duration', '2s', '--stream', '1s', '--periods', '3'), { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as StreamEvent);
    expect(events.map((e) => e.event)).toEqual(['reserved', 'channel', 'voucher', 'voucher', 'voucher', 'spent', 'stopped']);
    const reserved = events[0]!.reservation!;
    const vouchers = events.filter((e) => e.event === 'voucher');
    expect(vouchers.map((v) => v.sequence)).toEqual([1, 2, 3]);
    // each voucher bought one more second, so the reservation ends 2 s + 3 s after it began
    for (const v of vouchers) expect(v.extendedByMs).toBeGreaterThanOrEqual(999);
    const api = new ApiClient(running!.url, { signer: accountSigner(SigningKey.load(wallet)) });
    const final = await api.reservation(reserved.id);
    expect(final.expiresAt - reserved.expiresAt).toBe(vouchers.reduce((n, v) => n + v.extendedByMs!, 0));
    const voucherSum = vouchers.reduce((n, v) => n + BigInt(v.amount!), 0n);
    expect(BigInt(final.paid)).toBe(BigInt(reserved.paid) + voucherSum);
    expect(events.at(-1)!.paid).toBe(voucherSum.toString());
    // The payer cannot take the deposit back before the channel's timeout (over the controller's ledger API).
    const channel = (events[1] as StreamEvent & { channel: string }).channel;
    const early = spawnSync('node', [CLI, 'ledger', 'reclaim', channel, '--key', wallet, '--url', `${running!.url}/v1/ledger`], { encoding: 'utf8' });
    expect(early.status).toBe(1);
    expect(early.stderr).toMatch(/the deposit can be reclaimed from \d{4}-/);
  }, 60_000);

  it('stops on SIGINT: no more vouchers, the reservation keeps the time already paid for', async () => {
    const child = spawn('node', reserveArgs('--duration', '2s', '--stream', '1s', '--periods', '100'), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const firstVoucher = new Promise<void>((resolve) =>
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('"event":"voucher"')) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await firstVoucher;
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const events = out.trim().split('\n').map((l) => JSON.parse(l) as StreamEvent);
    expect(events.at(-1)!.event).toBe('stopped');
    const paidVouchers = events.filter((e) => e.event === 'voucher');
    expect(paidVouchers.length).toBeGreaterThanOrEqual(1);
    const final = await new ApiClient(running!.url, { signer: accountSigner(SigningKey.load(wallet)) }).reservation(events[0]!.reservation!.id);
    expect(final.expiresAt).toBe(events.at(-1)!.expiresAt);
  }, 60_000);

  it('refuses --periods without --stream, and a stream period under a second', () => {
    const a = spawnSync('node', reserveArgs('--duration', '2s', '--periods', '3'), { encoding: 'utf8' });
    expect(a.status).toBe(2);
    expect(a.stderr).toMatch(/--periods needs --stream/);
    const b = spawnSync('node', reserveArgs('--duration', '2s', '--stream', '100ms'), { encoding: 'utf8' });
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/--stream: /);
  });
});
