// Liveness and readiness, as process supervisors and load balancers probe them (the
// Kubernetes convention: /healthz answers while the process runs, /readyz only while it
// can serve): /healthz is always 200; /readyz is 200 when every check passes and 503
// otherwise, naming the checks that failed. The checks are the controller's: its SQLite
// store is open, the local ledger's journal passed the full audit (src/payments/audit.ts),
// and every switch in the config's allow-list (openflow.switches) is connected.
import type { FastifyPluginAsync } from 'fastify';
import type { Store } from '../store/index.js';
import type { AuditResult } from '../payments/audit.js';
import { formatDpid, parseDpid } from '../util/dpid.js';

export interface ReadinessCheck {
  name: 'store' | 'ledger' | 'switches';
  ok: boolean;
  /** why it failed, or what was checked */
  detail?: string;
}

export type Readiness = () => ReadinessCheck[];

export interface ReadinessSources {
  store: Store;
  /**
   * The full audit of the local ledger's journal; absent for a ledger the controller does
   * not keep (IOTA), whose check then passes. A passed audit is kept: the journal only
   * grows through the ledger's own checked appends, so it is audited once per process.
   */
  audit?: () => AuditResult;
  /** openflow.switches: the datapath ids that must be connected (absent or empty: none) */
  requiredSwitches?: readonly string[];
  /** the datapath ids connected now, 16 hex digits */
  connectedSwitches: () => Iterable<string>;
}

/** The controller's readiness checks over its live parts. */
export function controllerReadiness(sources: ReadinessSources): Readiness {
  const required = (sources.requiredSwitches ?? []).map(normaliseDpid);
  let audited: AuditResult | undefined;
  return () => {
    const checks: ReadinessCheck[] = [];
    checks.push(storeCheck(sources.store));
    if (!sources.audit) checks.push({ name: 'ledger', ok: true, detail: 'no local ledger to audit' });
    else if (!checks[0]!.ok) checks.push({ name: 'ledger', ok: false, detail: 'not audited: the store is not open' });
    else {
      let result = audited;
      if (!result) {
        try {
          result = sources.audit();
        } catch (err) {
          result = { ok: false, entries: 0, problem: { seq: null, reason: err instanceof Error ? err.message : String(err) } };
        }
        if (result.ok) audited = result;
      }
      checks.push(result.ok ? { name: 'ledger', ok: true, detail: `${result.entries} entries audited` } : { name: 'ledger', ok: false, detail: result.problem.reason });
    }
    const connected = new Set([...sources.connectedSwitches()].map(normaliseDpid));
    const missing = required.filter((d) => !connected.has(d));
    checks.push(
      missing.length
        ? { name: 'switches', ok: false, detail: `not connected: ${missing.join(', ')}` }
        : { name: 'switches', ok: true, detail: required.length ? `${required.length} configured switches connected` : 'no switches required (openflow.switches not set)' },
    );
    return checks;
  };
}

function storeCheck(store: Store): ReadinessCheck {
  if (!store.db.open) return { name: 'store', ok: false, detail: 'the store is closed' };
  try {
    store.db.prepare('SELECT 1').get();
    return { name: 'store', ok: true };
  } catch (err) {
    return { name: 'store', ok: false, detail: err instanceof Error ? err.message : String(err) };
  }
}

function normaliseDpid(text: string): string {
  const d = parseDpid(text);
  return d.ok ? formatDpid(d.dpid) : text;
}

const started = Date.now();
const noQuery = { type: 'object', additionalProperties: false, properties: {} } as const;

/** GET /healthz and, when the controller gave its checks, GET /readyz. */
export const healthPlugin: FastifyPluginAsync<{ readiness?: Readiness }> = async (app, options) => {
  app.get('/healthz', { schema: { querystring: noQuery } }, async () => ({ status: 'ok', uptimeSeconds: Math.round((Date.now() - started) / 1000) }));
  const readiness = options.readiness ?? ((): ReadinessCheck[] => []);
  app.get('/readyz', { schema: { querystring: noQuery } }, async (_request, reply) => {
    const checks = readiness();
    const ready = checks.every((c) => c.ok);
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  });
};
