// The local ledger served on its own (`payflow ledger serve`): the ledger's routes
// (src/payments/http-service.ts) under /v1/ledger, and its faucet under the same rule as the
// controller's — an operator token of scope admin, audited (mint-routes.ts). The tokens are
// those of the data directory's store (`payflow token create --data-dir DIR`, the same
// payflow.db as the ledger) and any given here; the audit log is that store's api_audit.
import type { ApiTokenConfig } from '../config/types.js';
import { startLedgerServer, type LedgerServer } from '../payments/http-service.js';
import type { LocalLedger } from '../payments/local-ledger.js';
import type { Store } from '../store/index.js';
import { mintRoutes } from './mint-routes.js';
import { RequestStore } from './request-store.js';

export async function startLedgerApi(options: {
  ledger: LocalLedger;
  /** holds the operator tokens and the audit log (the ledger's own store, usually) */
  store: Store;
  tokens?: readonly ApiTokenConfig[];
  host?: string;
  port?: number;
  logger?: boolean;
  now?: () => number;
}): Promise<LedgerServer> {
  const requests = new RequestStore(options.store);
  const { ledger } = options;
  return startLedgerServer({
    ledger,
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.logger !== undefined ? { logger: options.logger } : {}),
    extend: async (app, prefix) => {
      await app.register(mintRoutes, {
        paths: [`${prefix}/faucet`],
        tokens: options.tokens ?? [],
        requests,
        mint: (address, amount) => ledger.faucet(address, amount),
        now: options.now ?? Date.now,
      });
    },
  });
}
