// Admission control (pricing seed 004, section 4: "Admission Control determines access to
// available network resources and keeps track of all reservations"; PayFlow's preorder).
// A reservation of rate r in class i is admitted only if on every resource (egress port,
// i.e. link direction) of its path reserved_i + r <= Cmax_i; otherwise it is refused with
// the bottleneck — the resource with the least room — and the largest rate that fits now.
// Reserve and release are all-or-nothing over the whole path: every check happens before
// the first change, and JavaScript runs them without interruption.
import type { ServiceClass, ServiceClasses } from './classes.js';
import { CapacityModel } from './capacity.js';

export interface ReservationRequest {
  /** caller-chosen unique id (the reservation id of the store) */
  id: string;
  classId: string;
  /** whole bits per second, > 0 */
  rateBps: number;
  /** capacity resources of the path, in order (Topology path.resources) */
  resources: readonly string[];
}

export interface AdmittedReservation {
  readonly id: string;
  readonly classId: string;
  readonly rateBps: number;
  readonly resources: readonly string[];
}

export interface Bottleneck {
  resource: string;
  capacityBps: number;
  cmaxBps: number;
  reservedBps: number;
  availableBps: number;
}

export type AdmissionRefusal =
  | { code: 'insufficient-capacity'; classId: string; requestedBps: number; maxFitBps: number; bottleneck: Bottleneck; message: string }
  | { code: 'unknown-class'; classId: string; message: string }
  | { code: 'invalid-rate'; message: string }
  | { code: 'invalid-request'; message: string }
  | { code: 'empty-path'; message: string }
  | { code: 'unknown-capacity'; resource: string; message: string }
  | { code: 'duplicate-id'; id: string; message: string };

/** A dry run: whether the request fits, the largest rate that fits, and the tightest resource. */
export type AvailabilityResult =
  | { ok: true; classId: string; requestedBps: number; maxFitBps: number; bottleneck: Bottleneck }
  | { ok: false; refusal: AdmissionRefusal };

export type AdmitResult = { ok: true; reservation: AdmittedReservation } | { ok: false; refusal: AdmissionRefusal };

export interface AdmissionStats {
  admitted: number;
  refused: number;
  released: number;
  active: number;
}

interface Checked {
  cls: ServiceClass;
  counts: Map<string, number>;
  maxFitBps: number;
  bottleneck: Bottleneck;
}

function refuse(refusal: AdmissionRefusal): { ok: false; refusal: AdmissionRefusal } {
  return { ok: false, refusal };
}

export class AdmissionControl {
  readonly capacity: CapacityModel;
  private readonly active = new Map<string, AdmittedReservation & { counts: Map<string, number>; cls: ServiceClass }>();
  private readonly classTotals: number[];
  private counters = { admitted: 0, refused: 0, released: 0 };

  constructor(readonly classes: ServiceClasses, capacity?: CapacityModel) {
    this.capacity = capacity ?? new CapacityModel(classes);
    if (this.capacity.classes !== classes) throw new Error('the capacity model must use the same service classes');
    this.classTotals = new Array<number>(classes.size).fill(0);
  }

  /** Validates the request and finds the bottleneck and the largest rate that fits, without changing anything. */
  check(req: Omit<ReservationRequest, 'id'>): AvailabilityResult {
    const r = this.evaluate(req);
    if ('code' in r) return refuse(r);
    return { ok: true, classId: r.cls.id, requestedBps: req.rateBps, maxFitBps: r.maxFitBps, bottleneck: r.bottleneck };
  }

  private evaluate(req: Omit<ReservationRequest, 'id'>): Checked | AdmissionRefusal {
    if (req === null || typeof req !== 'object') return { code: 'invalid-request', message: 'request must be an object' };
    const cls = typeof req.classId === 'string' ? this.classes.get(req.classId) : undefined;
    if (!cls) return { code: 'unknown-class', classId: String(req.classId), message: `no service class "${String(req.classId)}"` };
    if (typeof req.rateBps !== 'number' || !Number.isSafeInteger(req.rateBps) || req.rateBps <= 0) {
      return { code: 'invalid-rate', message: 'rateBps must be a positive whole number of bits/s' };
    }
    if (!Array.isArray(req.resources)) return { code: 'invalid-request', message: 'resources must be a list' };
    if (req.resources.length === 0) return { code: 'empty-path', message: 'the path has no resources' };
    // A resource listed twice (a hairpin) carries the flow twice.
    const counts = new Map<string, number>();
    for (const res of req.resources) {
      if (typeof res !== 'string' || res === '') return { code: 'invalid-request', message: 'every resource must be a non-empty string' };
      counts.set(res, (counts.get(res) ?? 0) + 1);
    }
    let bottleneck: Bottleneck | undefined;
    let maxFitBps = Infinity;
    for (const [resource, multiplicity] of counts) {
      const capacityBps = this.capacity.capacityOf(resource);
      if (capacityBps === undefined) return { code: 'unknown-capacity', resource, message: `the capacity of ${resource} is not known` };
      const cmaxBps = this.capacity.classes.cmaxBps(cls, capacityBps);
      const reservedBps = this.capacity.reservedOf(resource, cls);
      const availableBps = Math.max(0, cmaxBps - reservedBps);
      const fit = Math.floor(availableBps / multiplicity);
      if (fit < maxFitBps) {
        maxFitBps = fit;
        bottleneck = { resource, capacityBps, cmaxBps, reservedBps, availableBps };
      }
    }
    return { cls, counts, maxFitBps, bottleneck: bottleneck! };
  }

  /** Admits the reservation on every resource of its path, or refuses it and changes nothing. */
  admit(req: ReservationRequest): AdmitResult {
    const result = this.tryAdmit(req);
    if (result.ok) this.counters.admitted++;
    else this.counters.refused++;
    return result;
  }

  private tryAdmit(req: ReservationRequest): AdmitResult {
    if (req === null || typeof req !== 'object') return refuse({ code: 'invalid-request', message: 'request must be an object' });
    if (typeof req.id !== 'string' || req.id === '') return refuse({ code: 'invalid-request', message: 'id must be a non-empty string' });
    if (this.active.has(req.id)) return refuse({ code: 'duplicate-id', id: req.id, message: `reservation ${req.id} is already admitted` });
    const r = this.evaluate(req);
    if ('code' in r) return refuse(r);
    if (req.rateBps > r.maxFitBps) {
      return refuse({
        code: 'insufficient-capacity',
        classId: r.cls.id,
        requestedBps: req.rateBps,
        maxFitBps: r.maxFitBps,
        bottleneck: r.bottleneck,
        message: `${req.rateBps} bit/s of ${r.cls.id} does not fit on ${r.bottleneck.resource}: at most ${r.maxFitBps} bit/s fits now`,
      });
    }
    return { ok: true, reservation: this.record(req, r.cls, r.counts) };
  }

  /**
   * Puts back a reservation that was admitted before (a restart, from the store) without
   * checking capacity: it was paid for and must be in force. Capacities may be unknown
   * yet; any excess shows up in capacity.overcommitted().
   */
  restore(req: ReservationRequest): AdmitResult {
    if (req === null || typeof req !== 'object') return refuse({ code: 'invalid-request', message: 'request must be an object' });
    if (typeof req.id !== 'string' || req.id === '') return refuse({ code: 'invalid-request', message: 'id must be a non-empty string' });
    if (this.active.has(req.id)) return refuse({ code: 'duplicate-id', id: req.id, message: `reservation ${req.id} is already admitted` });
    const cls = typeof req.classId === 'string' ? this.classes.get(req.classId) : undefined;
    if (!cls) return refuse({ code: 'unknown-class', classId: String(req.classId), message: `no service class "${String(req.classId)}"` });
    if (typeof req.rateBps !== 'number' || !Number.isSafeInteger(req.rateBps) || req.rateBps <= 0) {
      return refuse({ code: 'invalid-rate', message: 'rateBps must be a positive whole number of bits/s' });
    }
    if (!Array.isArray(req.resources) || req.resources.length === 0 || req.resources.some((x) => typeof x !== 'string' || x === '')) {
      return refuse({ code: 'empty-path', message: 'the path must list at least one resource' });
    }
    const counts = new Map<string, number>();
    for (const res of req.resources) counts.set(res, (counts.get(res) ?? 0) + 1);
    return { ok: true, reservation: this.record(req, cls, counts) };
  }

  private record(req: ReservationRequest, cls: ServiceClass, counts: Map<string, number>): AdmittedReservation {
    const resources = Object.freeze([...req.resources]);
    const entry = { id: req.id, classId: cls.id, rateBps: req.rateBps, resources, counts, cls };
    this.capacity.adjust(counts, cls, req.rateBps);
    this.classTotals[cls.index] = this.classTotals[cls.index]! + req.rateBps;
    this.active.set(req.id, entry);
    return this.view(entry);
  }

  /** Releases a reservation on every resource of its path; undefined when it is not active. */
  release(id: string): AdmittedReservation | undefined {
    const entry = this.active.get(id);
    if (!entry) return undefined;
    this.capacity.adjust(entry.counts, entry.cls, -entry.rateBps);
    this.classTotals[entry.cls.index] = this.classTotals[entry.cls.index]! - entry.rateBps;
    this.active.delete(id);
    this.counters.released++;
    return this.view(entry);
  }

  private view(e: AdmittedReservation): AdmittedReservation {
    return { id: e.id, classId: e.classId, rateBps: e.rateBps, resources: e.resources };
  }

  get(id: string): AdmittedReservation | undefined {
    const e = this.active.get(id);
    return e && this.view(e);
  }

  list(): AdmittedReservation[] {
    return [...this.active.values()].map((e) => this.view(e));
  }

  /**
   * Ids of active reservations whose path uses the resource (to reroute when a link
   * fails). A scan over all reservations: link failures are rare, admissions are not,
   * so no per-resource index is kept up to date on every admit and release.
   */
  reservationsUsing(resource: string): string[] {
    const ids: string[] = [];
    for (const e of this.active.values()) if (e.counts.has(resource)) ids.push(e.id);
    return ids.sort();
  }

  /** Sum of the rates of the class's active reservations (reserved demand D_i for pricing), bits/s. */
  classReservedBps(classId: string): number {
    const cls = this.classes.get(classId);
    return cls ? this.classTotals[cls.index]! : 0;
  }

  stats(): AdmissionStats {
    return { ...this.counters, active: this.active.size };
  }
}
