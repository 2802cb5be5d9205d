// `payflow controller`'s start-up wiring (docs/controller.md): the SQLite store (WAL)
// and the embedded local ledger under the data directory, service classes and admission
// control over the network's topology, the pricing agent on the data-plane engine, the
// reservation service (restoring what was paid before a restart; cancellation refunds paid
// from the operator's account on the local ledger), and the HTTP API with the ledger
// mounted at /v1/ledger. The network side is the OpenFlowNetwork
// (src/network/network.ts); with `openflow.enabled: false` it is a StaticNetwork
// (src/network/static.ts): the topology written in the config, reservations admitted and
// recorded but NOT enforced in any switch (logged as a warning at start).
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { requestLogsAtDebug } from '../util/logging.js';
import { buildApi } from '../api/server.js';
import { createMetrics } from '../api/metrics.js';
import { controllerReadiness } from '../api/health.js';
import { auditLedger } from '../payments/audit.js';
import { LEDGER_CHECKPOINT_FILE } from '../payments/checkpoint.js';
import type { PayflowConfig } from '../config/types.js';
import { Engine } from '../dataplane/engine.js';
import { IotaLedger } from '../payments/iota-ledger.js';
import { SigningKey } from '../payments/keys.js';
import type { Ledger } from '../payments/ledger.js';
import { LocalLedger } from '../payments/local-ledger.js';
import { ChannelBook } from '../payments/channels.js';
import { LocalRefunds } from '../payments/refunds.js';
import { PricingAgent, type PricingEngine } from '../pricing/agent.js';
import { AdmissionControl } from '../qos/admission.js';
import { ServiceClasses } from '../qos/classes.js';
import { Store } from '../store/index.js';
import { attachCapacitySync } from '../network/capacity-sync.js';
import type { Network } from '../network/contracts.js';
import { StaticNetwork } from '../network/static.js';
import { OpenFlowNetwork } from '../network/network.js';
import { HostStore } from '../network/host-store.js';
import { ReservationService } from '../reservations/service.js';
import { formatDpid } from '../util/dpid.js';
import { CONTROLLER_COMPONENT, controllerMigrations } from '../reservations/migrations.js';
import { auditRecords } from '../reservations/audit.js';
import { withStoredChanges } from '../reservations/class-changes.js';

export { StaticNetwork } from '../network/static.js';

export interface StartOptions {
  /** the network side; default: OpenFlowNetwork, or StaticNetwork when openflow.enabled is false */
  network?: Network;
  logger?: Logger;
  /** the pricing engine (default: the wasm Engine) */
  createEngine?: () => PricingEngine;
  now?: () => number;
}

export interface RunningController {
  /** http://host:port of the API */
  url: string;
  /** where the OpenFlow listener is bound (undefined without OpenFlowNetwork) */
  openflowAddress: { host: string; port: number } | undefined;
  app: FastifyInstance;
  store: Store;
  ledger: Ledger;
  localLedger: LocalLedger | undefined;
  operatorKey: SigningKey;
  network: Network;
  admission: AdmissionControl;
  pricing: PricingAgent;
  service: ReservationService;
  logger: Logger;
  close(): Promise<void>;
}

/**
 * The ledger checks itself before the controller serves anything: the whole journal
 * (hashes, links, signatures, replayed state), its checkpoint (a journal cut short), and
 * the controller's redemptions and reservations against it. A failure stops the start,
 * naming the first bad entry; a ledger is restored from a backup, never repaired.
 */
function refuseBrokenLedger(store: Store, checkpointFile: string, operatorAddress: string): void {
  const audit = auditLedger(store, { checkpointFile });
  if (!audit.ok) {
    const where = audit.problem.seq === null ? 'its state' : `entry ${audit.problem.seq}`;
    throw new Error(`the ledger in ${store.path} fails its audit at ${where}: ${audit.problem.reason}. The controller does not start on it (restore the file from a backup; 'payflow ledger verify' shows the same)`);
  }
  const records = auditRecords(store, operatorAddress);
  if (!records.ok) throw new Error(`the controller's records in ${store.path} do not match the ledger: ${records.problem}. The controller does not start on them`);
}

function loadOrCreateKey(path: string, create: boolean): SigningKey | undefined {
  if (existsSync(path)) return SigningKey.load(path);
  if (!create) return undefined;
  const key = SigningKey.generate();
  key.save(path);
  return key;
}

/** Starts the controller; resolves once the API listens. */
export async function startController(config: PayflowConfig, options: StartOptions = {}): Promise<RunningController> {
  const logger = options.logger ?? pino({ level: config.log.level, hooks: requestLogsAtDebug });
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const dbPath = join(dataDir, 'payflow.db');
  const isNew = !existsSync(dbPath);
  const store = Store.open(dbPath);
  const cleanups: (() => Promise<void> | void)[] = [() => store.close()];
  const closeAll = async (): Promise<void> => {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch (err) {
        logger.warn({ err }, 'error while stopping');
      }
    }
    cleanups.length = 0;
  };
  try {
    store.migrate(CONTROLLER_COMPONENT, controllerMigrations);
    // The operator key signs quotes and receipts and is where reservations are paid.
    const operatorKey = loadOrCreateKey(join(dataDir, 'operator-key.json'), true)!;
    let ledger: Ledger;
    let localLedger: LocalLedger | undefined;
    if (config.ledger.kind === 'local') {
      // The authority key is created with a new ledger (as `payflow ledger` does).
      const authorityKey = loadOrCreateKey(join(dataDir, 'ledger-authority.json'), isNew);
      const checkpointFile = join(dataDir, LEDGER_CHECKPOINT_FILE);
      localLedger = LocalLedger.open(store, { ...(authorityKey ? { authorityKey } : {}), testbed: config.ledger.testbed, operatorAddress: operatorKey.address, checkpointFile });
      if (config.ledger.testbed && !localLedger.genesisTestbed) logger.warn('ledger.testbed is set, but this ledger was created as a production ledger (its genesis entry says so): the faucet stays off');
      refuseBrokenLedger(store, checkpointFile, operatorKey.address);
      ledger = localLedger;
    } else {
      const iota: ConstructorParameters<typeof IotaLedger>[0] = { rpcUrl: config.ledger.rpcUrl, store };
      if (config.ledger.keyFile !== undefined) iota.keyFile = config.ledger.keyFile;
      if (config.ledger.operatorAddress !== undefined) iota.operatorAddress = config.ledger.operatorAddress;
      if (config.ledger.coinType !== undefined) iota.coinType = config.ledger.coinType;
      ledger = new IotaLedger(iota);
    }

    // the operator's run-time changes (PATCH /v1/classes/:id) over the config's values
    const classes = new ServiceClasses(withStoredChanges(store, config.classes));
    const admission = new AdmissionControl(classes);
    let network = options.network;
    if (!network) {
      if (config.openflow.enabled === false) {
        logger.warn('openflow.enabled is false: reservations are admitted and recorded but not enforced in any switch');
        network = new StaticNetwork(config);
      } else {
        network = new OpenFlowNetwork(config, { logger: logger.child({ component: 'network' }), hostStore: new HostStore(store) });
      }
    }
    const net = network;
    cleanups.push(attachCapacitySync(net.topology, admission.capacity));

    const pricing = new PricingAgent({
      store,
      classes,
      admission,
      pricing: config.pricing,
      defaultCapacityBps: config.links.defaultCapacityBps,
      createEngine: options.createEngine ?? (() => new Engine({ flowCapacity: 16, ruleCapacity: 16, meterCapacity: 16 })),
      ...(options.now ? { now: options.now } : {}),
    });
    cleanups.push(net.onLoad((s) => pricing.onLoad(s)));

    const service = new ReservationService({
      store,
      config,
      classes,
      admission,
      topology: () => net.topology,
      enforcer: net.enforcer,
      ledger,
      operatorKey,
      pricing,
      ...(localLedger
        ? {
            channels: new ChannelBook(store, localLedger, operatorKey.address, 'local', { settleMarginMs: config.reservations.channelSettleMarginMs }),
            settlement: localLedger,
            refunds: new LocalRefunds(localLedger, operatorKey),
          }
        : {}),
      logger: logger.child({ component: 'reservations' }),
      ...(options.now ? { now: options.now } : {}),
    });

    await net.start();
    cleanups.push(() => net.stop());
    if (net instanceof OpenFlowNetwork) {
      // A hard timeout fired in a switch: end it on the controller's side too.
      const onExpired = (): void => void service.sweep();
      net.on('reservationExpired', onExpired);
      cleanups.push(() => void net.off('reservationExpired', onExpired));
    }
    const restored = await service.restore();
    logger.info(restored, 'stored reservations restored');
    service.startTimers();
    cleanups.push(() => service.stopTimers());
    pricing.start(config.stats.pollIntervalMs);
    cleanups.push(() => pricing.stop());

    const metrics = createMetrics({ service, pricing, admission, network: net });
    // ready: the store open, the local ledger's journal audited, the allow-listed switches in the topology
    const readiness = controllerReadiness({
      store,
      ...(localLedger ? { audit: () => auditLedger(store, { checkpointFile: localLedger!.checkpointFile! }) } : {}),
      ...(config.openflow.switches ? { requiredSwitches: config.openflow.switches } : {}),
      connectedSwitches: () => net.topology.listSwitches().map((s) => formatDpid(s.dpid)),
    });
    const app = await buildApi({ service, pricing, admission, network: net, metrics, readiness, ...(localLedger ? { localLedger } : {}), logger: logger.child({ component: 'api' }), store, http: config.http });
    cleanups.push(() => app.close());
    await app.listen({ host: config.http.listen.host, port: config.http.listen.port });
    const addr = app.server.address();
    const port = addr && typeof addr === 'object' ? addr.port : config.http.listen.port;
    const host = config.http.listen.host.includes(':') ? `[${config.http.listen.host}]` : config.http.listen.host;
    const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host === '[::]' ? '[::1]' : host}:${port}`;
    const openflowAddress = net instanceof OpenFlowNetwork ? net.address : undefined;
    return { url, openflowAddress, app, store, ledger, localLedger, operatorKey, network: net, admission, pricing, service, logger, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
