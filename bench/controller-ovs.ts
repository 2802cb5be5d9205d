// controller.reserve_latency_ovs (the time from POST to the
// barrier-confirmed 201, p50 and p99, with the local ledger) against REAL Open vSwitch:
// the controller (startController with its OpenFlowNetwork, SQLite in WAL mode and the
// embedded local ledger in a temp dir) drives two userspace-datapath bridges linked by a
// veth pair, one host namespace on each (the shared lab, bench/support/ovs-lab.ts, which
// test/network/network-ovs.test.ts builds too). Each timed request is POST /v1/reservations with a
// quote paid in advance; its 201 comes only after the ledger verified and redeemed the
// payment and the flows and meter were installed in both bridges and confirmed by a
// barrier (unlike controller.reserve_latency, whose enforcer only records).
//
// As in bench/controller-api.ts the controller and the HTTP client run in a worker thread
// and run() hands it one request through shared memory (Atomics), because the harness
// times a synchronous run(); the worker times each POST → 201 and `extra` reports p50 and
// p99 in ms over every request. The bench holds the machine-wide OVS lock for its whole
// run. Without root or a running OVS the case is left out with one line on stderr.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import type { BenchCase, BenchOperation, BenchSuite, RunOptions } from './harness.js';
import { OvsLab, type LabSpec } from './support/ovs-lab.js';
import { acquireOvsLock, ovsStatus } from './support/ovs.js';
import { latencyBuffers, latencyOperation, runAsWorker, serveReservations, type LatencyBuffers } from './support/reserve-latency.js';

const NAME = 'controller.reserve_latency_ovs';
const KIND = 'payflow-bench-controller-ovs';


interface Shared extends LatencyBuffers {
  kind: typeof KIND;
  dir: string;
  lab: LabSpec;
  pool: number;
}

// two bridges, s1:2 – s2:2; h1 on s1, h2 on s2 (port 1)
const LAB_LINKS = [{ a: 0, pa: 2, b: 1, pb: 2 }];

async function workerMain(data: Shared): Promise<void> {
  const pino = (await import('pino')).default;
  const { defaultConfig } = await import('../src/config/defaults.js');
  const { startController } = await import('../src/app/main.js');
  const { OpenFlowNetwork } = await import('../src/network/network.js');
  const { ApiClient } = await import('../src/api/client.js');
  const { LedgerHttpClient } = await import('../src/payments/http-client.js');
  const { SigningKey } = await import('../src/payments/keys.js');
  const { eventually } = await import('./support/ovs-lab.js');
  const lab = new OvsLab(data.lab);
  const [h1, h2] = lab.hosts as [(typeof lab.hosts)[0], (typeof lab.hosts)[0]];

  const config = defaultConfig();
  config.dataDir = data.dir;
  config.log.level = 'silent';
  config.http.listen = { host: '127.0.0.1', port: 0 };
  config.openflow.listen = { host: '127.0.0.1', port: 0 };
  config.openflow.echoIntervalMs = 2000;
  config.topology.lldpIntervalMs = 200;
  config.topology.linkTimeoutMs = 10_000;
  config.ledger = { kind: 'local', testbed: true, baseUnitsPerCurrencyUnit: 1_000_000 };
  config.reservations.quoteTtlMs = 3_600_000;
  // room for tens of thousands of 1 Mbit/s reservations: admission never refuses here
  config.links.usePortSpeed = false;
  config.links.defaultCapacityBps = 100e9;
  const running = await startController(config, { logger: pino({ level: 'silent' }) });
  try {
    const network = running.network;
    if (!(network instanceof OpenFlowNetwork) || !running.openflowAddress) throw new Error('the controller did not start its OpenFlowNetwork');
    await lab.create(running.openflowAddress.port);
    for (const b of lab.bridges) await network.switchReady(b.dpid);
    await eventually('the s1–s2 link discovered', () => network.topology.listLinks().length === 2, 60_000);
    await eventually(`ping ${h1.ipv4} → ${h2.ipv4}`, () => lab.ping(0, h2.ipv4), 60_000);
    await eventually('a path h1 → h2', () => network.topology.pathBetweenHosts(h1.ipv4, h2.ipv4) !== undefined, 60_000);

    const api = new ApiClient(running.url);
    const ledger = new LedgerHttpClient(api.ledgerUrl);
    const payer = SigningKey.generate();
    // funded in the process: minting over HTTP needs an admin token, and is not what is measured
    running.localLedger!.faucet(payer.address, 10n ** 17n);
    const body = async (): Promise<string> => {
      const q = await api.quote({ src: h1.ipv4, dst: h2.ipv4, classId: 'gold', rate: '1mbit', duration: '1h' });
      const proof = await ledger.pay(payer, q.quote.payTo, BigInt(q.quote.amount), q.quote.id);
      return JSON.stringify({ quoteId: q.quote.id, payment: proof });
    };
    const pool: string[] = [];
    for (let i = 0; i < data.pool; i++) pool.push(await body());
    // one untimed reservation first: the first installation also sets up egress queues
    const warm = await fetch(`${running.url}/v1/reservations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: await body() });
    if (warm.status !== 201) throw new Error(`the first reservation was answered ${warm.status}: ${await warm.text()}`);
    parentPort!.postMessage('ready');

    await serveReservations(data, running.url, pool, body);
  } finally {
    await running.close();
    await lab.destroy();
  }
}

runAsWorker<Shared>(KIND, workerMain);


async function setup(quick: boolean): Promise<BenchOperation> {
  const release = await acquireOvsLock(300_000);
  const dir = mkdtempSync(join(tmpdir(), 'payflow-bench-controller-ovs-'));
  const lab = new OvsLab({ switches: 2, links: LAB_LINKS, ipv4Prefix: '10.79.0', ipv6Prefix: 'fd00:79::' });
  const cleanup = async (): Promise<void> => {
    await lab.destroy(); // again, in case the worker died before its own cleanup
    rmSync(dir, { recursive: true, force: true });
    release();
  };
  const data: Shared = {
    kind: KIND,
    dir,
    lab: { switches: 2, links: LAB_LINKS, ipv4Prefix: '10.79.0', ipv6Prefix: 'fd00:79::', tag: lab.tag },
    pool: quick ? 100 : 1000,
    ...latencyBuffers(),
  };
  return latencyOperation(new URL(import.meta.url), data, NAME, cleanup);
}

/**
 * controller.reserve_latency_ovs: one reservation (POST → barrier-confirmed 201) per run,
 * or no case at all (one line on stderr) when OVS cannot be used here.
 */
export function controllerOvsCases(options: Partial<RunOptions> & { quick: boolean }): BenchCase[] {
  // not selected by --filter: say nothing and touch nothing
  if (options.filter?.length && !options.filter.some((f) => NAME.startsWith(f))) return [];
  const ovs = ovsStatus({ startIfStopped: false });
  if (!ovs.available) {
    process.stderr.write(`${NAME} left out: ${ovs.reason}\n`);
    return [];
  }
  return [{ name: NAME, impl: 'ts', batch: 1, setup: () => setup(options.quick) }];
}

export const controllerOvsSuite: BenchSuite = {
  name: 'controller',
  // runSuites passes its RunOptions (with --filter) to cases()
  cases: (options) => controllerOvsCases(options as Partial<RunOptions> & { quick: boolean }),
};
