// A quote is PayFlow's preorder (pricing seed 004, section 5.1: "prices are sent to the
// customers that initiated requests who accept or reject the prices"): availability
// along the path plus the current price, with no payment and no state change. Pricing
// itself belongs to the pricing engine; it is passed in as `price(classId, demandBps,
// context)`. The demand handed to it is the class's reserved rate on the path's most
// loaded resource (highest (reserved + r) / Cmax_i) with this request added (capped at
// what fits), and the context carries that resource's Cmax_i and T_i = f_i · Cmax_i so a
// per-link price model can normalise. Prices are currency units per Mbit/s per second.
import type { AdmissionControl, AdmissionRefusal, Bottleneck } from './admission.js';

export interface PriceContext {
  /** the class's dense index (ServiceClass.index), which is the data-plane engine's class number when configured in order */
  classIndex: number;
  resource: string;
  cmaxBps: number;
  /** T_i = f_i · Cmax_i on that resource */
  targetBps: number;
}

export type PriceFn = (classId: string, demandBps: number, context: PriceContext) => number;

export interface PreorderRequest {
  classId: string;
  rateBps: number;
  durationMs: number;
  resources: readonly string[];
}

export interface PreorderQuote {
  classId: string;
  rateBps: number;
  durationMs: number;
  /** true when the whole rate fits on every resource now */
  available: boolean;
  maxFitBps: number;
  bottleneck: Bottleneck;
  /** the resource whose load set the price, and the demand the price was computed at */
  pricedAt: Omit<PriceContext, 'classIndex'> & { demandBps: number };
  /** currency units per Mbit/s per second */
  unitPrice: number;
  /** unitPrice × rate (Mbit/s) × duration (s), in currency units */
  totalPrice: number;
}

export type PreorderResult =
  | { ok: true; quote: PreorderQuote }
  | { ok: false; refusal: AdmissionRefusal | { code: 'invalid-duration'; message: string } | { code: 'price-unavailable'; message: string } };

export function quoteReservation(admission: AdmissionControl, req: PreorderRequest, price: PriceFn): PreorderResult {
  if (typeof req?.durationMs !== 'number' || !Number.isFinite(req.durationMs) || req.durationMs <= 0) {
    return { ok: false, refusal: { code: 'invalid-duration', message: 'durationMs must be a positive, finite number' } };
  }
  const check = admission.check(req);
  if (!check.ok) return check;
  const cls = admission.classes.get(req.classId)!;
  const fits = Math.min(req.rateBps, check.maxFitBps);
  // The most loaded resource after adding the request, by fraction of Cmax_i.
  let priced: (Omit<PriceContext, 'classIndex'> & { demandBps: number }) | undefined;
  let worst = -1;
  for (const resource of new Set(req.resources)) {
    const cmaxBps = admission.capacity.cmaxOf(resource, cls)!;
    const demandBps = admission.capacity.reservedOf(resource, cls) + fits;
    const load = cmaxBps > 0 ? demandBps / cmaxBps : Infinity;
    if (load > worst) {
      worst = load;
      priced = { resource, cmaxBps, targetBps: cls.target * cmaxBps, demandBps };
    }
  }
  let unitPrice: number;
  try {
    unitPrice = price(cls.id, priced!.demandBps, { classIndex: cls.index, resource: priced!.resource, cmaxBps: priced!.cmaxBps, targetBps: priced!.targetBps });
  } catch (e) {
    return { ok: false, refusal: { code: 'price-unavailable', message: `the price function failed: ${(e as Error).message}` } };
  }
  if (typeof unitPrice !== 'number' || !Number.isFinite(unitPrice) || unitPrice < 0) {
    return { ok: false, refusal: { code: 'price-unavailable', message: `the price function returned ${String(unitPrice)}` } };
  }
  return {
    ok: true,
    quote: {
      classId: cls.id,
      rateBps: req.rateBps,
      durationMs: req.durationMs,
      available: req.rateBps <= check.maxFitBps,
      maxFitBps: check.maxFitBps,
      bottleneck: check.bottleneck,
      pricedAt: priced!,
      unitPrice,
      totalPrice: unitPrice * (req.rateBps / 1e6) * (req.durationMs / 1000),
    },
  };
}
