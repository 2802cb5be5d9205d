// controller.reserve_latency (issue 5, "Benchmarks"): the time from POST /v1/reservations
// to the 201, over a real socket, with the embedded local ledger (real SQLite file in WAL
// mode, synchronous=FULL, real Ed25519 signatures) verifying and redeeming the payment.
// The network side is the controller's StaticNetwork (`openflow.enabled: false`, a static
// two-switch topology): its enforcer RECORDS the installation instead of sending flows to
// switches, so the figure excludes the OpenFlow round trip and barrier (G2's side).
//
// The harness times a synchronous run(); an HTTP request is asynchronous. So the controller
// and the HTTP client run in a worker thread, and run() hands it one request through shared
// memory and blocks (Atomics.wait) until the 201 came back. Quotes are bought and paid in
// advance (outside the timed request); the worker times each POST → 201 itself, and
// `extra` reports p50 and p99 in ms over every request made.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread, Worker, workerData, parentPort } from 'node:worker_threads';
import type { BenchCase, BenchOperation, BenchSuite } from './harness.js';

const MAX_SAMPLES = 1 << 16;

/** Atomics.waitAsync (Node 16+, ES2024; the project's TypeScript lib is ES2022). */
interface AtomicsWaitAsync {
  waitAsync(array: Int32Array, index: number, value: number, timeoutMs: number): { async: false; value: string } | { async: true; value: Promise<string> };
}
const KIND = 'payflow-bench-controller-api';

interface Shared {
  kind: typeof KIND;
  dir: string;
  pool: number;
  control: SharedArrayBuffer;
  latencies: SharedArrayBuffer;
}

// control: [0] requests asked, [1] requests answered, [2] failures, [3] pool refills, [4] stop
async function workerMain(data: Shared): Promise<void> {
  const pino = (await import('pino')).default;
  const { defaultConfig } = await import('../src/config/defaults.js');
  const { startController } = await import('../src/controller/main.js');
  const { ApiClient } = await import('../src/api/client.js');
  const { LedgerHttpClient } = await import('../src/payments/http-client.js');
  const { SigningKey } = await import('../src/payments/keys.js');
  const control = new Int32Array(data.control);
  const lat = new Float64Array(data.latencies);

  const config = defaultConfig();
  config.dataDir = data.dir;
  config.log.level = 'silent';
  config.http.listen = { host: '127.0.0.1', port: 0 };
  config.openflow.enabled = false;
  config.ledger = { kind: 'local', testbed: true, baseUnitsPerCurrencyUnit: 1_000_000 };
  config.reservations.quoteTtlMs = 3_600_000;
  config.links.defaultCapacityBps = 100e9;
  config.topology.static = {
    links: [{ a: { dpid: '0000000000000001', port: 2 }, b: { dpid: '0000000000000002', port: 1 } }],
    hosts: [
      { mac: '02:00:00:00:00:01', at: { dpid: '0000000000000001', port: 1 }, ips: ['10.0.0.1'] },
      { mac: '02:00:00:00:00:02', at: { dpid: '0000000000000002', port: 2 }, ips: ['10.0.0.2'] },
    ],
  };
  const running = await startController(config, { logger: pino({ level: 'silent' }) });
  const api = new ApiClient(running.url);
  const ledger = new LedgerHttpClient(api.ledgerUrl);
  const payer = SigningKey.generate();
  await ledger.faucet(payer.address, 10n ** 17n);
  const body = async (): Promise<string> => {
    const q = await api.quote({ src: '10.0.0.1', dst: '10.0.0.2', rate: '1mbit', duration: '1h' });
    const proof = await ledger.pay(payer, q.quote.payTo, BigInt(q.quote.amount), q.quote.id);
    return JSON.stringify({ quoteId: q.quote.id, payment: proof });
  };
  const pool: string[] = [];
  for (let i = 0; i < data.pool; i++) pool.push(await body());
  parentPort!.postMessage('ready');

  let served = 0;
  for (;;) {
    if (Atomics.load(control, 4) === 1) break;
    if (Atomics.load(control, 0) === served) {
      const w = (Atomics as unknown as AtomicsWaitAsync).waitAsync(control, 0, served, 1000);
      if (w.async) await w.value;
      continue;
    }
    let payload = pool.pop();
    if (payload === undefined) {
      Atomics.add(control, 3, 1);
      payload = await body();
    }
    const t0 = performance.now();
    const res = await fetch(`${running.url}/v1/reservations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload });
    await res.arrayBuffer();
    const ms = performance.now() - t0;
    if (res.status !== 201) Atomics.add(control, 2, 1);
    lat[served % MAX_SAMPLES] = ms;
    served++;
    Atomics.store(control, 1, served);
    Atomics.notify(control, 1);
  }
  await running.close();
}

if (!isMainThread && (workerData as Shared | undefined)?.kind === KIND) {
  workerMain(workerData as Shared).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}

function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round(sorted[i]! * 1000) / 1000;
}

async function reserveLatencySetup(quick: boolean): Promise<BenchOperation> {
  const dir = mkdtempSync(join(tmpdir(), 'payflow-bench-controller-api-'));
  const data: Shared = {
    kind: KIND,
    dir,
    pool: quick ? 150 : 1500,
    control: new SharedArrayBuffer(5 * 4),
    latencies: new SharedArrayBuffer(MAX_SAMPLES * 8),
  };
  const control = new Int32Array(data.control);
  const lat = new Float64Array(data.latencies);
  const worker = new Worker(new URL(import.meta.url), { workerData: data });
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
    void exited.then((code) => reject(new Error(`the benchmark worker exited with ${code} before it was ready`)));
  });
  let asked = 0;
  return {
    run() {
      asked++;
      Atomics.store(control, 0, asked);
      Atomics.notify(control, 0);
      for (;;) {
        const done = Atomics.load(control, 1);
        if (done >= asked) break;
        if (Atomics.wait(control, 1, done, 30_000) === 'timed-out') throw new Error('the benchmark worker did not answer within 30 s');
      }
    },
    extra() {
      const n = Math.min(Atomics.load(control, 1), MAX_SAMPLES);
      const sorted = Array.from(lat.subarray(0, n)).sort((a, b) => a - b);
      return { p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), requests: Atomics.load(control, 1), failures: Atomics.load(control, 2), poolRefills: Atomics.load(control, 3) };
    },
    async teardown() {
      Atomics.store(control, 4, 1);
      Atomics.notify(control, 0);
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** controller.reserve_latency: one reservation (POST → 201) per run. */
export function controllerApiCases(quick: boolean): BenchCase[] {
  return [{ name: 'controller.reserve_latency', impl: 'ts', batch: 1, setup: () => reserveLatencySetup(quick) }];
}

export const controllerApiSuite: BenchSuite = {
  name: 'controller',
  cases: (options) => controllerApiCases(options.quick),
};
