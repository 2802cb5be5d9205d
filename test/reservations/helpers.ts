// Test fixtures for the reservation side: a scripted Topology (no switches) and a
// RecordingEnforcer that STANDS IN FOR THE SWITCHES — it records what the reservation side
// asks the network side to install, remove and restore. The real enforcement in Open
// vSwitch is tested against real OVS in test/network/network-ovs.test.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach } from 'vitest';
import { ApiClient, ApiError } from '../../src/api/client.js';
import { accountSigner } from '../../src/api/request-signature.js';
import { tokenHash } from '../../src/api/auth.js';
import { defaultConfig } from '../../src/config/defaults.js';
import type { PayflowConfig } from '../../src/config/types.js';
import type { EnforcedReservation, Enforcer, LoadSample, Network, NetworkStats } from '../../src/network/contracts.js';
import { startController, type RunningController } from '../../src/app/main.js';
import { Topology } from '../../src/network/topology.js';
import { LedgerHttpClient } from '../../src/payments/http-client.js';
import { SigningKey } from '../../src/payments/keys.js';
import type { PaymentProof } from '../../src/payments/ledger.js';

export class RecordingEnforcer implements Enforcer {
  readonly installed = new Map<string, EnforcedReservation>();
  readonly calls: { op: 'install' | 'remove' | 'restore'; arg: unknown }[] = [];
  /** the next install() rejects with this error (once) */
  failNextInstall: Error | undefined;

  async install(r: EnforcedReservation): Promise<void> {
    this.calls.push({ op: 'install', arg: r });
    if (this.failNextInstall) {
      const e = this.failNextInstall;
      this.failNextInstall = undefined;
      throw e;
    }
    this.installed.set(r.id, r);
  }
  async remove(id: string): Promise<void> {
    this.calls.push({ op: 'remove', arg: id });
    this.installed.delete(id);
  }
  async restore(list: readonly EnforcedReservation[]): Promise<void> {
    this.calls.push({ op: 'restore', arg: list.map((r) => r.id) });
    this.installed.clear();
    for (const r of list) this.installed.set(r.id, r);
  }
}

/**
 * s1 —— s2 —— s3 (dpids 1, 2, 3; s1:2 ↔ s2:1, s2:2 ↔ s3:1), every link 10 Mbit/s.
 * Hosts: h1 10.0.0.1 / fd00::1 at s1:1, h2 10.0.0.2 / fd00::2 at s3:2, h3 10.0.0.3 at s2:3.
 */
export function scriptedTopology(capacityBps = 10e6): Topology {
  const t = new Topology({ capacity: { defaultCapacityBps: capacityBps, usePortSpeed: false, overrides: [] } });
  t.addSwitch(1n, [1, 2].map((portNo) => ({ portNo, up: true })));
  t.addSwitch(2n, [1, 2, 3].map((portNo) => ({ portNo, up: true })));
  t.addSwitch(3n, [1, 2].map((portNo) => ({ portNo, up: true })));
  const link = (a: bigint, ap: number, b: bigint, bp: number): void => {
    t.linkSeen({ dpid: a, port: ap }, { dpid: b, port: bp }, 0);
    t.linkSeen({ dpid: b, port: bp }, { dpid: a, port: ap }, 0);
  };
  link(1n, 2, 2n, 1);
  link(2n, 2, 3n, 1);
  for (const ip of ['10.0.0.1', 'fd00::1']) t.learnHost({ mac: '02:00:00:00:00:01', dpid: 1n, port: 1, ip, nowMs: 0 });
  for (const ip of ['10.0.0.2', 'fd00::2']) t.learnHost({ mac: '02:00:00:00:00:02', dpid: 3n, port: 2, ip, nowMs: 0 });
  t.learnHost({ mac: '02:00:00:00:00:03', dpid: 2n, port: 3, ip: '10.0.0.3', nowMs: 0 });
  return t;
}

export class TestNetwork implements Network {
  readonly enforcer = new RecordingEnforcer();
  private readonly listeners = new Set<(s: LoadSample) => void>();
  started = 0;
  constructor(readonly topology: Topology = scriptedTopology()) {}
  onLoad(listener: (s: LoadSample) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emitLoad(sample: LoadSample): void {
    for (const l of this.listeners) l(sample);
  }
  stats(): NetworkStats {
    return { connectedSwitches: 3, openflowMessagesIn: 10, openflowMessagesOut: 20, reservationsInstalled: this.enforcer.installed.size };
  }
  async start(): Promise<void> {
    this.started++;
  }
  async stop(): Promise<void> {}
}

export function tempDir(prefix = 'payflow-g1-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The admin token every test controller knows (minting needs one): what the testbed gives itself. */
export const TEST_ADMIN_TOKEN = 'pft_test-admin-that-funds-wallets';
export const TEST_ADMIN = { name: 'test-funder', sha256: tokenHash(TEST_ADMIN_TOKEN), scope: 'admin' } as const;

/** A ledger client that may mint (it carries TEST_ADMIN_TOKEN). */
export function fundingLedger(ledgerUrl: string): LedgerHttpClient {
  return new LedgerHttpClient(ledgerUrl, { token: TEST_ADMIN_TOKEN });
}

export function testConfig(dataDir: string, patch: (c: PayflowConfig) => void = () => undefined): PayflowConfig {
  const c = defaultConfig();
  c.dataDir = dataDir;
  c.log.level = 'silent';
  c.http.listen = { host: '127.0.0.1', port: 0 };
  c.ledger = { kind: 'local', testbed: true, baseUnitsPerCurrencyUnit: 1_000_000 };
  patch(c);
  c.http.tokens = [...c.http.tokens, TEST_ADMIN];
  return c;
}

export interface Harness {
  running: RunningController;
  network: TestNetwork;
  /** signs every request with `payer`'s key (the owner of what it buys) */
  api: ApiClient;
  /** signs nothing */
  anon: ApiClient;
  /** carries TEST_ADMIN_TOKEN, so that it may mint */
  ledger: LedgerHttpClient;
  payer: SigningKey;
  clock: { now: number };
  /** pays `amount` (default: the quote's) with memo (default: the quote id) */
  pay(quote: { id: string; payTo: string; amount: string }, opts?: { amount?: bigint; memo?: string }): Promise<PaymentProof>;
  close(): Promise<void>;
}

export async function startHarness(dataDir: string, opts: { network?: TestNetwork; patch?: (c: PayflowConfig) => void; clock?: { now: number }; payer?: SigningKey } = {}): Promise<Harness> {
  const network = opts.network ?? new TestNetwork();
  const clock = opts.clock ?? { now: Date.now() };
  const running = await startController(testConfig(dataDir, opts.patch), { network, logger: pino({ level: 'silent' }), now: () => clock.now });
  const payer = opts.payer ?? SigningKey.generate();
  const api = new ApiClient(running.url, { signer: accountSigner(payer) });
  const anon = new ApiClient(running.url);
  const ledger = fundingLedger(api.ledgerUrl);
  await ledger.faucet(payer.address, 10n ** 15n);
  return {
    running,
    network,
    api,
    anon,
    ledger,
    payer,
    clock,
    pay: (q, o = {}) => ledger.pay(payer, q.payTo, o.amount ?? BigInt(q.amount), o.memo ?? q.id),
    close: () => running.close(),
  };
}

/** A controller in its own data directory for each test of the calling describe block. */
export function harnessPerTest(): { readonly h: Harness } {
  const current: { h?: Harness; t?: ReturnType<typeof tempDir> } = {};
  beforeEach(async () => {
    current.t = tempDir();
    current.h = await startHarness(current.t.dir);
  });
  afterEach(async () => {
    await current.h?.close();
    current.t?.cleanup();
  });
  return {
    get h(): Harness {
      if (!current.h) throw new Error('the harness runs inside a test only');
      return current.h;
    },
  };
}

/** The built command (run `npm run build` first). */
export const CLI = 'dist/src/cli/main.js';

/** A controller config with no switches and a static two-host topology (10.0.0.1, 10.0.0.2). */
export function configText(dataDir: string): string {
  return [
    `dataDir: ${JSON.stringify(dataDir)}`,
    'log: { level: warn }',
    'openflow: { enabled: false, listen: "127.0.0.1:0" }',
    `http: { listen: "127.0.0.1:0", tokens: [{ name: ${TEST_ADMIN.name}, sha256: "${TEST_ADMIN.sha256}", scope: admin }] }`,
    'ledger: { kind: local, testbed: true }',
    'links: { defaultCapacity: 100mbit }',
    'topology:',
    '  static:',
    '    links:',
    '      - { a: { dpid: 1, port: 2 }, b: { dpid: 2, port: 1 } }',
    '    hosts:',
    '      - { mac: "02:00:00:00:00:01", at: { dpid: 1, port: 1 }, ips: ["10.0.0.1", "fd00::1"] }',
    '      - { mac: "02:00:00:00:00:02", at: { dpid: 2, port: 2 }, ips: ["10.0.0.2", "fd00::2"] }',
    '',
  ].join('\n');
}

export interface Started {
  child: ChildProcess;
  url: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the built CLI (e.g. `controller --config F`) and resolves once its API listens. */
export async function startCli(args: string[]): Promise<Started> {
  const child = spawn('node', [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /API on (http:\/\/\S+),/.exec(out);
      if (m) resolve(m[1]!);
    });
    void exited.then((e) => reject(new Error(`controller exited (${e.code ?? e.signal}) before listening: ${err}`)));
  });
  return { child, url, exited };
}

/** The ApiError a call is refused with (fails the test when it succeeds). */
export async function refusal(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}
