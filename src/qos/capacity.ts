// The capacity model of admission control (pricing seed 004, section 4; PayFlow's
// preorder): per resource — one direction of a link, named by its egress port — its
// capacity, and per service class the rate reserved on it. Cmax_i of a resource is the
// class's share of its capacity. All rates are whole bits/s, so sums are exact.
// Mutation goes through AdmissionControl, which keeps every change all-or-nothing.
import type { ServiceClass, ServiceClasses } from './classes.js';

export interface ResourceUsage {
  resource: string;
  /** undefined while the resource's capacity is not known */
  capacityBps: number | undefined;
  classes: { classId: string; cmaxBps: number; reservedBps: number; availableBps: number }[];
}

export interface Overcommit {
  resource: string;
  classId: string;
  cmaxBps: number;
  reservedBps: number;
}

interface ResourceState {
  capacityBps: number | undefined;
  reserved: number[];
}

export class CapacityError extends Error {
  override name = 'CapacityError';
}

export class CapacityModel {
  private readonly resources = new Map<string, ResourceState>();

  constructor(readonly classes: ServiceClasses) {}

  /** Sets (or changes) a resource's capacity. Existing reservations stay even if they no longer fit. */
  setCapacity(resource: string, capacityBps: number): void {
    if (typeof resource !== 'string' || resource === '') throw new CapacityError('resource must be a non-empty string');
    if (!Number.isFinite(capacityBps) || capacityBps < 0) throw new CapacityError(`capacity of ${resource} must be a finite, non-negative number of bits/s`);
    this.state(resource).capacityBps = Math.floor(capacityBps);
  }

  /** Forgets a resource's capacity (the link went away); reservations on it stay tracked. */
  clearCapacity(resource: string): void {
    const s = this.resources.get(resource);
    if (!s) return;
    s.capacityBps = undefined;
    if (s.reserved.every((r) => r === 0)) this.resources.delete(resource);
  }

  capacityOf(resource: string): number | undefined {
    return this.resources.get(resource)?.capacityBps;
  }

  /** Cmax_i of the class on the resource; undefined while its capacity is unknown. */
  cmaxOf(resource: string, cls: ServiceClass): number | undefined {
    const cap = this.resources.get(resource)?.capacityBps;
    return cap === undefined ? undefined : this.classes.cmaxBps(cls, cap);
  }

  reservedOf(resource: string, cls: ServiceClass): number {
    return this.resources.get(resource)?.reserved[cls.index] ?? 0;
  }

  /** Cmax_i minus what is reserved, never negative; undefined while the capacity is unknown. */
  availableOf(resource: string, cls: ServiceClass): number | undefined {
    const cmax = this.cmaxOf(resource, cls);
    return cmax === undefined ? undefined : Math.max(0, cmax - this.reservedOf(resource, cls));
  }

  usage(resource: string): ResourceUsage {
    const s = this.resources.get(resource);
    return {
      resource,
      capacityBps: s?.capacityBps,
      classes: this.classes.list().map((c) => {
        const cmax = s?.capacityBps === undefined ? 0 : this.classes.cmaxBps(c, s.capacityBps);
        const reserved = s?.reserved[c.index] ?? 0;
        return { classId: c.id, cmaxBps: cmax, reservedBps: reserved, availableBps: Math.max(0, cmax - reserved) };
      }),
    };
  }

  /** Resources that have a capacity or a reservation, sorted. */
  listResources(): string[] {
    return [...this.resources.keys()].sort();
  }

  /** Where reservations exceed Cmax_i (after a capacity drop, or restored reservations). */
  overcommitted(): Overcommit[] {
    const out: Overcommit[] = [];
    for (const [resource, s] of this.resources) {
      for (const c of this.classes.list()) {
        const reserved = s.reserved[c.index]!;
        const cmax = s.capacityBps === undefined ? 0 : this.classes.cmaxBps(c, s.capacityBps);
        if (reserved > cmax) out.push({ resource, classId: c.id, cmaxBps: cmax, reservedBps: reserved });
      }
    }
    return out.sort((a, b) => (a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : a.classId < b.classId ? -1 : 1));
  }

  /** @internal AdmissionControl only: adds `delta` bits/s of the class on each resource. */
  adjust(resources: ReadonlyMap<string, number>, cls: ServiceClass, rateBps: number): void {
    for (const [resource, multiplicity] of resources) {
      const s = this.state(resource);
      s.reserved[cls.index] = s.reserved[cls.index]! + rateBps * multiplicity;
      if (s.capacityBps === undefined && s.reserved.every((r) => r === 0)) this.resources.delete(resource);
    }
  }

  private state(resource: string): ResourceState {
    let s = this.resources.get(resource);
    if (!s) {
      s = { capacityBps: undefined, reserved: new Array<number>(this.classes.size).fill(0) };
      this.resources.set(resource, s);
    }
    return s;
  }
}
