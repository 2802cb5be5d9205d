// Service classes (pricing seed 004, sections 4–5): the menu the network sells. Each
// class has a dense index (for per-class arrays here and in the data plane), its share
// of every link (Cmax_i as a fraction of capacity), its fill factor f_i = T_i / Cmax_i,
// base and maximum price, DSCP mark, excess policy and the colour policy it maps onto. Built from the validated config.
import type { ExcessPolicy, PolicingConfig, ServiceClassConfig } from '../config/types.js';

export interface ServiceClass {
  readonly id: string;
  readonly index: number;
  readonly name: string;
  readonly basePrice: number;
  readonly maxPrice: number;
  /** f_i = T_i / Cmax_i */
  readonly target: number;
  /** Cmax_i / link capacity */
  readonly share: number;
  readonly dscp: number;
  readonly bestEffort: boolean;
  /** traffic beyond the paid rate: dropped, or degraded to the next lower class */
  readonly excess: ExcessPolicy;
  readonly policing: Readonly<PolicingConfig>;
}

export class ServiceClassError extends Error {
  override name = 'ServiceClassError';
}

export class ServiceClasses {
  private readonly byId = new Map<string, ServiceClass>();
  private readonly ordered: ServiceClass[];
  bestEffort: ServiceClass;

  /** Throws ServiceClassError for inconsistent input (validateConfig already refuses it). */
  constructor(configs: readonly ServiceClassConfig[]) {
    if (configs.length === 0) throw new ServiceClassError('at least one service class is needed');
    this.ordered = configs.map((c, index) => Object.freeze({ ...c, index, policing: Object.freeze({ ...c.policing }) }));
    for (const c of this.ordered) {
      if (this.byId.has(c.id)) throw new ServiceClassError(`duplicate class id "${c.id}"`);
      if (!(c.share > 0 && c.share <= 1)) throw new ServiceClassError(`class "${c.id}": share must be in (0, 1]`);
      if (!(c.target > 0 && c.target <= 1)) throw new ServiceClassError(`class "${c.id}": target must be in (0, 1]`);
      this.byId.set(c.id, c);
    }
    const bestEffort = this.ordered.filter((c) => c.bestEffort);
    if (bestEffort.length !== 1) throw new ServiceClassError('exactly one class must be best effort');
    this.bestEffort = bestEffort[0]!;
    const shares = this.ordered.reduce((s, c) => s + c.share, 0);
    if (shares > 1 + 1e-9) throw new ServiceClassError('class shares sum to more than 1');
  }

  /**
   * Changes a class's prices, target or share at run time (the operator's admin API);
   * the caller has validated the whole set of classes with the change (as the config is).
   * Admission control and the pricing agent look classes up here, so the change holds
   * from the next decision on; reservations admitted before keep what they have.
   */
  update(id: string, change: Partial<Pick<ServiceClass, 'basePrice' | 'maxPrice' | 'target' | 'share'>>): ServiceClass {
    const old = this.byId.get(id);
    if (!old) throw new ServiceClassError(`no service class "${id}"`);
    const next: ServiceClass = Object.freeze({ ...old, ...change });
    this.ordered[old.index] = next;
    this.byId.set(id, next);
    if (old.bestEffort) this.bestEffort = next;
    return next;
  }

  get size(): number {
    return this.ordered.length;
  }

  get(id: string): ServiceClass | undefined {
    return this.byId.get(id);
  }

  list(): readonly ServiceClass[] {
    return this.ordered;
  }

  /** Cmax_i on a link of the given capacity, whole bits/s (floored so sums never exceed capacity). */
  cmaxBps(cls: ServiceClass, capacityBps: number): number {
    return Math.floor(cls.share * capacityBps);
  }
}
