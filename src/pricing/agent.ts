// The pricing agent (pricing seed 004, section 5; docs/design.md, "Pricing").
// Per service class it keeps the demand D_i — reserved (admission control's rates on the
// class's most loaded link) and measured (the Network's LoadSample feed, one sample per
// stats poll) — hands it to the data-plane engine, ticks the engine every poll, and reads
// the price back. The price functions (exponential, tatonnement) exist once, in the
// engine (assembly/pricing.ts behind src/dataplane/engine.ts); nothing here recomputes them.
//
// How the network maps onto the engine's one-class-one-capacity model: class i's Cmax_i
// is its share of the capacity of its reference link — the link where the class is most
// loaded (reserved / Cmax_i), or the smallest known link while nothing is reserved, or
// links.defaultCapacity when no link is known. Reserved demand is the class's reserved
// rate on that link. Measured demand is the class's measured rate from the LoadSample,
// smoothed by an EWMA with the configured window (weight 1 − e^(−dt/W); the engine's own
// EWMA runs over bytes its pipeline accounts, which the controller does not feed). The
// demand source (pricing.demand: reserved | measured | max) picks what D_i is; the engine
// gets D_i through setReserved and its own measured stays 0, so its D = max(D_i, 0) = D_i.
//
// Quotes: in exponential mode a quote is priced by the engine at the quote's demand on the
// path's most loaded link (quoteReservation's PriceContext), with a second engine instance
// used as a calculator (setClass with that link's Cmax_i and T_i, setReserved, price). In
// tatonnement mode the price is state (the iteration), so a quote gets the class's current price.
//
// Measured demand from `payflow switch` is the switch's own accounting: a class's
// in-profile rate (classRateBps), with what its reservations sent beyond their paid rate
// and the switch re-marked at the meter reported apart (classDegradedBps, kept here as
// degradedBps for the views). Degraded traffic is carried as best effort: it is neither a
// class's demand nor charged to anyone. From Open vSwitch the measured rate is the offered
// rate at the meters, an estimate.
//
// Persisted (store, 'controller' migrations): every price change per class in
// controller_prices; revenue is the sum of controller_payments per class (channel vouchers
// once settled, see revenue()). A payment buys a reserved rate for a duration, so revenue is
// what was sold in profile: bytes delivered degraded earn nothing.
import type { PricingConfig } from '../config/types.js';
import type { LoadSample } from '../qos/load.js';
import type { AdmissionControl } from '../qos/admission.js';
import type { ServiceClass, ServiceClasses } from '../qos/classes.js';
import type { PriceContext, PriceFn } from '../qos/quote.js';
import type { Store } from '../store/index.js';

/** The engine's pricing methods (src/dataplane/engine.ts Engine); the agent uses nothing else. */
export interface PricingEngine {
  setClass(cls: number, params: { basePrice: number; cmaxBps: number; targetBps: number; maxPrice: number; mode: 'exponential' | 'tatonnement'; ewmaWindowNs: number }): void;
  setReserved(cls: number, reservedBps: number): void;
  tick(nowNs: number): void;
  price(cls: number): number;
  demand(cls: number): number;
}

export interface PricingAgentOptions {
  store: Store;
  classes: ServiceClasses;
  admission: AdmissionControl;
  pricing: PricingConfig;
  /** capacity used as the reference link while no link is known, bits/s */
  defaultCapacityBps: number;
  /** creates an engine (the agent makes two: the running prices and a quote calculator) */
  createEngine: () => PricingEngine;
  now?: () => number;
}

export interface ClassPrice {
  classId: string;
  name: string;
  /** currency units per Mbit/s per second */
  price: number;
  basePrice: number;
  maxPrice: number;
  /** D_i the engine priced at, bits/s */
  demandBps: number;
  reservedBps: number;
  measuredBps: number;
  /** traffic of the class beyond its paid rate that its ingress meters re-marked to best effort, bits/s (at the meter: later hops may still drop some); not demand, not charged */
  degradedBps: number;
  /** the reference link and its Cmax_i, T_i */
  resource: string | null;
  cmaxBps: number;
  targetBps: number;
}

export interface PricePoint {
  at: number;
  classId: string;
  price: number;
  demandBps: number;
}

export interface ClassRevenue {
  classId: string;
  /** base units, decimal string: settled on the ledger */
  amount: string;
  /** base units, decimal string: promised by channel vouchers not settled yet */
  unsettled: string;
  payments: number;
}

interface ClassState {
  cls: ServiceClass;
  configured: { cmaxBps: number; targetBps: number } | undefined;
  measuredBps: number;
  degradedBps: number;
  reservedBps: number;
  resource: string | null;
  lastRecorded: { price: number; demandBps: number } | undefined;
}

export class PricingAgent {
  private readonly engine: PricingEngine;
  private readonly calculator: PricingEngine;
  private readonly state: ClassState[];
  private readonly now: () => number;
  private lastSampleMs: number | undefined;
  /** engine time is ns since this moment (keeps it exact: well below 2^53) */
  private readonly epochMs: number;
  private timer: NodeJS.Timeout | undefined;
  private ticks = 0;

  constructor(private readonly options: PricingAgentOptions) {
    this.engine = options.createEngine();
    this.calculator = options.createEngine();
    this.now = options.now ?? Date.now;
    this.epochMs = this.now();
    this.state = options.classes.list().map((cls) => ({ cls, configured: undefined, measuredBps: 0, degradedBps: 0, reservedBps: 0, resource: null, lastRecorded: undefined }));
    this.update(false);
  }

  /** Ticks every intervalMs until stop(). */
  start(intervalMs: number): void {
    this.stop();
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** A measured-load sample from the network side (Network.onLoad). */
  onLoad(sample: LoadSample): void {
    const at = Number.isFinite(sample.atMs) ? sample.atMs : this.now();
    const dt = this.lastSampleMs === undefined ? Infinity : Math.max(0, at - this.lastSampleMs);
    this.lastSampleMs = at;
    const window = this.options.pricing.demandWindowMs;
    const weight = dt === Infinity ? 1 : window <= 0 ? 1 : 1 - Math.exp(-dt / window);
    for (const s of this.state) {
      const raw = sample.classRateBps[s.cls.id];
      const rate = typeof raw === 'number' && Number.isFinite(raw) && raw >= 0 ? raw : 0;
      s.measuredBps += weight * (rate - s.measuredBps);
      const rawDegraded = sample.classDegradedBps?.[s.cls.id];
      const degraded = typeof rawDegraded === 'number' && Number.isFinite(rawDegraded) && rawDegraded >= 0 ? rawDegraded : 0;
      s.degradedBps += weight * (degraded - s.degradedBps);
    }
  }

  /** One pricing interval: demand into the engine, engine tick, prices recorded when they moved. */
  tick(): void {
    this.ticks++;
    this.update(true);
  }

  /** A class's prices, target or share changed (ServiceClasses.update): the engine is set up again. */
  classesChanged(): void {
    for (const s of this.state) {
      s.cls = this.options.classes.get(s.cls.id) ?? s.cls;
      s.configured = undefined;
    }
    this.update(false);
  }

  /** Demand changed (a reservation was admitted or released): exponential prices move at once. */
  reservationsChanged(): void {
    this.update(false);
  }

  private update(tick: boolean): void {
    const now = this.now();
    for (const s of this.state) {
      const ref = this.reference(s.cls);
      s.resource = ref.resource;
      s.reservedBps = ref.reservedBps;
      const cmaxBps = Math.max(1, this.options.classes.cmaxBps(s.cls, ref.capacityBps));
      const targetBps = Math.min(cmaxBps, s.cls.target * cmaxBps);
      if (!s.configured || s.configured.cmaxBps !== cmaxBps || s.configured.targetBps !== targetBps) {
        this.engine.setClass(s.cls.index, this.params(s.cls, cmaxBps, targetBps));
        s.configured = { cmaxBps, targetBps };
      }
      this.engine.setReserved(s.cls.index, this.demandOf(s.reservedBps, s.measuredBps));
    }
    if (tick) this.engine.tick(Math.max(0, now - this.epochMs) * 1e6);
    this.record(now);
  }

  private params(cls: ServiceClass, cmaxBps: number, targetBps: number) {
    return { basePrice: cls.basePrice, cmaxBps, targetBps, maxPrice: cls.maxPrice, mode: this.options.pricing.mode, ewmaWindowNs: 0 };
  }

  private demandOf(reservedBps: number, measuredBps: number): number {
    switch (this.options.pricing.demand) {
      case 'reserved':
        return reservedBps;
      case 'measured':
        return measuredBps;
      default:
        return Math.max(reservedBps, measuredBps);
    }
  }

  /** The class's reference link: most loaded by reserved / Cmax_i, else the smallest known. */
  private reference(cls: ServiceClass): { resource: string | null; capacityBps: number; reservedBps: number } {
    const cap = this.options.admission.capacity;
    let best: { resource: string; capacityBps: number; reservedBps: number; load: number } | undefined;
    let smallest: { resource: string; capacityBps: number } | undefined;
    for (const resource of cap.listResources()) {
      const capacityBps = cap.capacityOf(resource);
      if (capacityBps === undefined || capacityBps <= 0) continue;
      if (!smallest || capacityBps < smallest.capacityBps) smallest = { resource, capacityBps };
      const reservedBps = cap.reservedOf(resource, cls);
      if (reservedBps <= 0) continue;
      const cmax = this.options.classes.cmaxBps(cls, capacityBps);
      const load = cmax > 0 ? reservedBps / cmax : Infinity;
      if (!best || load > best.load) best = { resource, capacityBps, reservedBps, load };
    }
    if (best) return best;
    if (smallest) return { ...smallest, reservedBps: 0 };
    return { resource: null, capacityBps: this.options.defaultCapacityBps, reservedBps: 0 };
  }

  private record(now: number): void {
    const insert = this.options.store.db.prepare('INSERT INTO controller_prices (at, class_id, price, demand_bps) VALUES (?, ?, ?, ?)');
    const changed: PricePoint[] = [];
    for (const s of this.state) {
      const price = this.engine.price(s.cls.index);
      const demandBps = this.engine.demand(s.cls.index);
      const last = s.lastRecorded;
      if (last && Math.abs(last.price - price) <= 1e-12 * Math.max(1, price) && Math.abs(last.demandBps - demandBps) < 1) continue;
      s.lastRecorded = { price, demandBps };
      changed.push({ at: now, classId: s.cls.id, price, demandBps });
    }
    if (changed.length) this.options.store.transaction(() => changed.forEach((p) => insert.run(p.at, p.classId, p.price, p.demandBps)));
  }

  /** The price function for quoteReservation (src/qos/quote.ts). */
  readonly priceFn: PriceFn = (classId: string, demandBps: number, context: PriceContext): number => {
    const s = this.state.find((x) => x.cls.id === classId);
    if (!s) throw new Error(`no service class "${classId}"`);
    if (this.options.pricing.mode === 'tatonnement') return this.engine.price(s.cls.index);
    const cmaxBps = context.cmaxBps;
    if (!(cmaxBps > 0)) throw new Error(`class ${classId} has no capacity on ${context.resource}`);
    const targetBps = Math.min(cmaxBps, Math.max(1e-9, context.targetBps));
    this.calculator.setClass(s.cls.index, { ...this.params(s.cls, cmaxBps, targetBps), mode: 'exponential' });
    const demand = this.options.pricing.demand === 'reserved' ? demandBps : Math.max(demandBps, s.measuredBps);
    this.calculator.setReserved(s.cls.index, demand);
    return this.calculator.price(s.cls.index);
  };

  /** Current price per class. */
  prices(): ClassPrice[] {
    return this.state.map((s) => ({
      classId: s.cls.id,
      name: s.cls.name,
      price: this.engine.price(s.cls.index),
      basePrice: s.cls.basePrice,
      maxPrice: s.cls.maxPrice,
      demandBps: this.engine.demand(s.cls.index),
      reservedBps: s.reservedBps,
      measuredBps: s.measuredBps,
      degradedBps: s.degradedBps,
      resource: s.resource,
      cmaxBps: s.configured?.cmaxBps ?? 0,
      targetBps: s.configured?.targetBps ?? 0,
    }));
  }

  priceOf(classId: string): number | undefined {
    const s = this.state.find((x) => x.cls.id === classId);
    return s ? this.engine.price(s.cls.index) : undefined;
  }

  /** Stored price changes, newest last; optionally one class, at most `limit` (newest). */
  history(options: { classId?: string; limit?: number; since?: number } = {}): PricePoint[] {
    const limit = Math.max(1, Math.min(options.limit ?? 1000, 100_000));
    const rows = this.options.store.db
      .prepare<[string | null, string | null, number, number], { at: number; class_id: string; price: number; demand_bps: number }>(
        `SELECT at, class_id, price, demand_bps FROM controller_prices
         WHERE (? IS NULL OR class_id = ?) AND at >= ? ORDER BY seq DESC LIMIT ?`,
      )
      .all(options.classId ?? null, options.classId ?? null, options.since ?? 0, limit);
    return rows.reverse().map((r) => ({ at: r.at, classId: r.class_id, price: r.price, demandBps: r.demand_bps }));
  }

  /**
   * Revenue per class from the stored payments (every class listed, zero included): what
   * reservations paid for their reserved rate, i.e. for traffic in profile (excess
   * delivered degraded is not in it). Ledger transfers count at once; what channel vouchers
   * promised counts once the channel is settled on the ledger
   * (payment_channel_vouchers.settled_sequence reaches the voucher), and until then is
   * shown apart as `unsettled`.
   */
  revenue(): { classes: ClassRevenue[]; total: string; unsettled: string } {
    const db = this.options.store.db;
    const withChannels = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'payment_channel_vouchers'").get() !== undefined;
    const sql = withChannels
      ? `SELECT p.class_id, (p.kind = 'voucher' AND (v.settled_sequence IS NULL OR CAST(substr(p.proof_id, 66) AS INTEGER) > v.settled_sequence)) AS unsettled,
                SUM(p.amount) AS amount, COUNT(*) AS n
           FROM controller_payments p LEFT JOIN payment_channel_vouchers v ON p.kind = 'voucher' AND v.channel = substr(p.proof_id, 1, 64)
          GROUP BY p.class_id, unsettled`
      : `SELECT class_id, kind = 'voucher' AS unsettled, SUM(amount) AS amount, COUNT(*) AS n FROM controller_payments GROUP BY class_id, unsettled`;
    const rows = db.prepare<[], { class_id: string; unsettled: bigint; amount: bigint; n: bigint }>(sql).safeIntegers(true).all();
    let total = 0n;
    let unsettledTotal = 0n;
    const classes = this.state.map((s) => {
      let amount = 0n;
      let unsettled = 0n;
      let payments = 0;
      for (const r of rows) {
        if (r.class_id !== s.cls.id) continue;
        if (r.unsettled) unsettled += BigInt(r.amount);
        else amount += BigInt(r.amount);
        payments += Number(r.n);
      }
      total += amount;
      unsettledTotal += unsettled;
      return { classId: s.cls.id, amount: amount.toString(), unsettled: unsettled.toString(), payments };
    });
    return { classes, total: total.toString(), unsettled: unsettledTotal.toString() };
  }

  get tickCount(): number {
    return this.ticks;
  }
}
