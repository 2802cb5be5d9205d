// Prometheus metrics of the controller: reservations by state, admission
// decisions, price, demand and revenue per class, OpenFlow messages and connected switches
// (Network.stats()). Every value is read at scrape time from its owner (collect callbacks),
// so nothing is counted twice and a restart shows the stored state, not zeros.
import { Counter, Gauge, Registry } from 'prom-client';
import type { Network } from '../network/contracts.js';
import type { ReservationService } from '../reservations/service.js';
import type { PricingAgent } from '../pricing/agent.js';
import type { AdmissionControl } from '../qos/admission.js';

export interface MetricsSources {
  service: ReservationService;
  pricing: PricingAgent;
  admission: AdmissionControl;
  network: Network;
}

export function createMetrics(src: MetricsSources): Registry {
  const registry = new Registry();
  new Gauge({
    name: 'payflow_reservations',
    help: 'Reservations in the store by state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      for (const [state, n] of Object.entries(src.service.countByState())) this.set({ state }, n);
    },
  });
  new Gauge({
    name: 'payflow_reservations_live',
    help: 'Reservations admitted and in force now',
    registers: [registry],
    collect() {
      this.set(src.admission.stats().active);
    },
  });
  new Counter({
    name: 'payflow_admission_decisions_total',
    help: 'Admission control decisions since start (admitted, refused, released)',
    labelNames: ['result'],
    registers: [registry],
    collect() {
      const s = src.admission.stats();
      this.reset();
      this.inc({ result: 'admitted' }, s.admitted);
      this.inc({ result: 'refused' }, s.refused);
      this.inc({ result: 'released' }, s.released);
    },
  });
  new Counter({
    name: 'payflow_capacity_refusals_total',
    help: 'Quotes and reservations refused with 409 because the class had no room on the path',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(src.service.stats().capacityRefusals);
    },
  });
  new Counter({
    name: 'payflow_quotes_total',
    help: 'Quotes issued since start',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(src.service.stats().quotes);
    },
  });
  new Gauge({
    name: 'payflow_price',
    help: 'Current price per class, currency units per Mbit/s per second',
    labelNames: ['class'],
    registers: [registry],
    collect() {
      for (const p of src.pricing.prices()) this.set({ class: p.classId }, p.price);
    },
  });
  new Gauge({
    name: 'payflow_demand_bps',
    help: 'Demand D_i the price was computed at, bits/s',
    labelNames: ['class'],
    registers: [registry],
    collect() {
      for (const p of src.pricing.prices()) this.set({ class: p.classId }, p.demandBps);
    },
  });
  new Counter({
    name: 'payflow_revenue_base_units_total',
    help: 'Revenue per class from stored payments, ledger base units',
    labelNames: ['class'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of src.pricing.revenue().classes) this.inc({ class: r.classId }, Number(r.amount));
    },
  });
  new Counter({
    name: 'payflow_openflow_messages_total',
    help: 'OpenFlow messages exchanged with the switches',
    labelNames: ['direction'],
    registers: [registry],
    collect() {
      const s = src.network.stats();
      this.reset();
      this.inc({ direction: 'in' }, s.openflowMessagesIn);
      this.inc({ direction: 'out' }, s.openflowMessagesOut);
    },
  });
  new Gauge({
    name: 'payflow_connected_switches',
    help: 'Switches connected over OpenFlow',
    registers: [registry],
    collect() {
      this.set(src.network.stats().connectedSwitches);
    },
  });
  new Gauge({
    name: 'payflow_reservations_installed',
    help: 'Reservations the network side reports installed in the switches',
    registers: [registry],
    collect() {
      this.set(src.network.stats().reservationsInstalled);
    },
  });
  return registry;
}
