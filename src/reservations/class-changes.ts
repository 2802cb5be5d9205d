// Run-time changes of the service classes (the operator's admin API, PATCH /v1/classes/:id):
// a change of basePrice, maxPrice, target or share is validated with the whole set of
// classes exactly as the config is (src/config/validate.ts), stored in
// controller_class_changes, applied to ServiceClasses (admission control) and the pricing
// agent at once, and applied again over the config's values at every start.
import type { ServiceClassConfig } from '../config/types.js';
import { formatIssues, validateConfig } from '../config/validate.js';
import type { ServiceClasses } from '../qos/classes.js';
import type { PricingAgent } from '../pricing/agent.js';
import type { Store } from '../store/index.js';
import { Refusal } from './refusal.js';

export type ClassChange = Partial<Pick<ServiceClassConfig, 'basePrice' | 'maxPrice' | 'target' | 'share'>>;

interface Row {
  class_id: string;
  base_price: number;
  max_price: number;
  target: number;
  share: number;
}

/** The config's classes with the stored changes applied (classes no longer configured are skipped). */
export function withStoredChanges(store: Store, classes: readonly ServiceClassConfig[]): ServiceClassConfig[] {
  const rows = store.db.prepare<[], Row>('SELECT * FROM controller_class_changes').all();
  const by = new Map(rows.map((r) => [r.class_id, r]));
  const changed = classes.map((c) => {
    const r = by.get(c.id);
    return r ? { ...c, basePrice: r.base_price, maxPrice: r.max_price, target: r.target, share: r.share } : c;
  });
  // A config edited since may not fit the stored changes: then the config wins.
  return validateConfig({ classes: changed.map(raw) }).ok ? changed : [...classes];
}

/** Validates, stores and applies a change; returns the class as it now is. */
export function changeClass(o: { store: Store; classes: ServiceClasses; pricing: PricingAgent; now: number }, id: string, change: ClassChange, actor: string): ServiceClassConfig {
  const current = o.classes.list().map((c): ServiceClassConfig => ({ id: c.id, name: c.name, basePrice: c.basePrice, maxPrice: c.maxPrice, target: c.target, share: c.share, dscp: c.dscp, bestEffort: c.bestEffort, excess: c.excess, policing: { ...c.policing } }));
  const at = current.findIndex((c) => c.id === id);
  if (at < 0) throw new Refusal('unknown_class', `no service class "${id}"`);
  const next = { ...current[at]!, ...change };
  current[at] = next;
  const checked = validateConfig({ classes: current.map(raw) });
  if (!checked.ok) throw new Refusal('bad_request', formatIssues(checked.issues));
  o.store.db
    .prepare(
      `INSERT INTO controller_class_changes (class_id, base_price, max_price, target, share, changed_by, at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (class_id) DO UPDATE SET base_price = excluded.base_price, max_price = excluded.max_price, target = excluded.target,
         share = excluded.share, changed_by = excluded.changed_by, at = excluded.at`,
    )
    .run(id, next.basePrice, next.maxPrice, next.target, next.share, actor, o.now);
  o.classes.update(id, { basePrice: next.basePrice, maxPrice: next.maxPrice, target: next.target, share: next.share });
  o.pricing.classesChanged();
  return next;
}

/** A class as it is written in payflow.yaml (what the validator reads). */
function raw(c: ServiceClassConfig): Record<string, unknown> {
  return { id: c.id, name: c.name, basePrice: c.basePrice, maxPrice: c.maxPrice, target: c.target, share: c.share, dscp: c.dscp, bestEffort: c.bestEffort, excess: c.excess, policing: { ...c.policing } };
}
