// controller.reserve_latency: the time from POST /v1/reservations
// to the 201, over a real socket, with the embedded local ledger (real SQLite file in WAL
// mode, synchronous=FULL, real Ed25519 signatures) verifying and redeeming the payment.
// The network side is the controller's StaticNetwork (`openflow.enabled: false`, a static
// two-switch topology): its enforcer RECORDS the installation instead of sending flows to
// switches, so the figure excludes the OpenFlow round trip and barrier (the network side's part).
//
// The harness times a synchronous run(); an HTTP request is asynchronous. So the controller
// and the HTTP client run in a worker thread, and run() hands it one request through shared
// memory and blocks (Atomics.wait) until the 201 came back. Quotes are bought and paid in
// advance (outside the timed request); the worker times each POST → 201 itself, and
// `extra` reports p50 and p99 in ms over every request made.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import type { BenchCase, BenchOperation, BenchSuite } from './harness.js';
import { latencyBuffers, latencyOperation, runAsWorker, serveReservations, type LatencyBuffers } from './support/reserve-latency.js';


const KIND = 'payflow-bench-controller-api';

interface Shared extends LatencyBuffers {
  kind: typeof KIND;
  dir: string;
  pool: number;
}

async function workerMain(data: Shared): Promise<void> {
  const pino = (await import('pino')).default;
  const { defaultConfig } = await import('../src/config/defaults.js');
  const { startController } = await import('../src/app/main.js');
  const { ApiClient } = await import('../src/api/client.js');
  const { LedgerHttpClient } = await import('../src/payments/http-client.js');
  const { SigningKey } = await import('../src/payments/keys.js');

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
  // funded in the process: minting over HTTP needs an admin token, and is not what is measured
  running.localLedger!.faucet(payer.address, 10n ** 17n);
  const body = async (): Promise<string> => {
    const q = await api.quote({ src: '10.0.0.1', dst: '10.0.0.2', rate: '1mbit', duration: '1h' });
    const proof = await ledger.pay(payer, q.quote.payTo, BigInt(q.quote.amount), q.quote.id);
    return JSON.stringify({ quoteId: q.quote.id, payment: proof });
  };
  const pool: string[] = [];
  for (let i = 0; i < data.pool; i++) pool.push(await body());
  parentPort!.postMessage('ready');

  await serveReservations(data, running.url, pool, body);
  await running.close();
}

runAsWorker<Shared>(KIND, workerMain);


async function reserveLatencySetup(quick: boolean): Promise<BenchOperation> {
  const dir = mkdtempSync(join(tmpdir(), 'payflow-bench-controller-api-'));
  const data: Shared = {
    kind: KIND,
    dir,
    pool: quick ? 150 : 1500,
    ...latencyBuffers(),
  };
  return latencyOperation(new URL(import.meta.url), data, 'controller.reserve_latency', () => rmSync(dir, { recursive: true, force: true }));
}

/** controller.reserve_latency: one reservation (POST → 201) per run. */
export function controllerApiCases(quick: boolean): BenchCase[] {
  return [{ name: 'controller.reserve_latency', impl: 'ts', batch: 1, setup: () => reserveLatencySetup(quick) }];
}

export const controllerApiSuite: BenchSuite = {
  name: 'controller',
  cases: (options) => controllerApiCases(options.quick),
};
