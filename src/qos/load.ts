// Measured load per service class: what the network side reports from the switches'
// counters and what the pricing agent reads as demand D_i (pricing paper, section 5).

/** Measured traffic the network side reports from polled port/meter/flow stats. */
export interface LoadSample {
  /** wall-clock ms of the sample */
  atMs: number;
  /**
   * measured rate per service class id, bits per second: from a switch's own accounting
   * (`payflow switch`) the in-profile rate; otherwise the offered rate at the meters
   */
  classRateBps: Record<string, number>;
  /** per class, the rate delivered degraded (re-marked beyond the paid rate, carried as best effort); only from switches that account it */
  classDegradedBps?: Record<string, number>;
}
