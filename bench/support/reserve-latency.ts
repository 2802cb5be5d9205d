// The shared machinery of the reservation-latency benchmarks (controller.reserve_latency,
// controller.reserve_latency_ovs). The harness times a synchronous run(); an HTTP request
// is asynchronous. So the controller and its HTTP client run in a worker thread, and run()
// hands the worker one request through shared memory and blocks (Atomics.wait) until the
// answer came back. The worker times each POST /v1/reservations → 201 itself.
//
// Shared memory: control = [0] requests asked, [1] requests answered, [2] failures,
// [3] pool refills (payments made inside the timed loop because the pool ran out), [4] stop;
// latencies = one float64 per request (ms), a ring of MAX_SAMPLES.
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import type { BenchOperation } from '../harness.js';

export const MAX_SAMPLES = 1 << 16;

export interface LatencyBuffers {
  control: SharedArrayBuffer;
  latencies: SharedArrayBuffer;
}

export function latencyBuffers(): LatencyBuffers {
  return { control: new SharedArrayBuffer(5 * 4), latencies: new SharedArrayBuffer(MAX_SAMPLES * 8) };
}

/** Atomics.waitAsync (Node 16+, ES2024; the project's TypeScript lib is ES2022). */
interface AtomicsWaitAsync {
  waitAsync(array: Int32Array, index: number, value: number, timeoutMs: number): { async: false; value: string } | { async: true; value: Promise<string> };
}

/**
 * Worker side: answers each request the main thread asks for with one POST of a prepaid
 * reservation body from `pool` (or a fresh one from `body()` when the pool is empty), until
 * told to stop.
 */
export async function serveReservations(buffers: LatencyBuffers, apiUrl: string, pool: string[], body: () => Promise<string>): Promise<void> {
  const control = new Int32Array(buffers.control);
  const lat = new Float64Array(buffers.latencies);
  let served = 0;
  for (;;) {
    if (Atomics.load(control, 4) === 1) break;
    if (Atomics.load(control, 0) === served) {
      const w = (Atomics as unknown as AtomicsWaitAsync).waitAsync(control, 0, served, 1000);
      if (w.async) await w.value;
      continue;
    }
    let payload = pool.pop();
    if (payload === undefined) {
      Atomics.add(control, 3, 1);
      payload = await body();
    }
    const t0 = performance.now();
    const res = await fetch(`${apiUrl}/v1/reservations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload });
    await res.arrayBuffer();
    const ms = performance.now() - t0;
    if (res.status !== 201) Atomics.add(control, 2, 1);
    lat[served % MAX_SAMPLES] = ms;
    served++;
    Atomics.store(control, 1, served);
    Atomics.notify(control, 1);
  }
}

/** Main-thread side: one blocking request per run(), the figures, and the stop signal. */
export class LatencyProbe {
  private readonly control: Int32Array;
  private readonly lat: Float64Array;
  private asked = 0;

  constructor(
    buffers: LatencyBuffers,
    private readonly name: string,
  ) {
    this.control = new Int32Array(buffers.control);
    this.lat = new Float64Array(buffers.latencies);
  }

  /** Asks the worker for one reservation and waits until it was answered. */
  request(): void {
    this.asked++;
    Atomics.store(this.control, 0, this.asked);
    Atomics.notify(this.control, 0);
    for (;;) {
      const done = Atomics.load(this.control, 1);
      if (done >= this.asked) break;
      if (Atomics.wait(this.control, 1, done, 30_000) === 'timed-out') throw new Error(`the ${this.name} worker did not answer within 30 s`);
    }
  }

  /** p50 and p99 in ms over every request made, with the counts. */
  figures(): Record<string, number> {
    const n = Math.min(Atomics.load(this.control, 1), MAX_SAMPLES);
    const sorted = Array.from(this.lat.subarray(0, n)).sort((a, b) => a - b);
    return {
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      requests: Atomics.load(this.control, 1),
      failures: Atomics.load(this.control, 2),
      poolRefills: Atomics.load(this.control, 3),
    };
  }

  stop(): void {
    Atomics.store(this.control, 4, 1);
    Atomics.notify(this.control, 0);
  }
}

function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round(sorted[i]! * 1000) / 1000;
}

/**
 * The worker side's entry: a benchmark module starts its worker from its own file, so the
 * module, loaded in the worker with workerData of this `kind`, runs `main` and exits.
 */
export function runAsWorker<T extends { kind: string }>(kind: string, main: (data: T) => Promise<void>): void {
  if (isMainThread || (workerData as T | undefined)?.kind !== kind) return;
  main(workerData as T).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}

/**
 * The main-thread side of a latency benchmark: starts `moduleUrl` as the worker (it calls
 * runAsWorker), waits until it is ready, and gives the harness one request per run() and the
 * probe's percentiles. `cleanup` runs after the worker exited, or if it never got ready.
 */
export async function latencyOperation(moduleUrl: URL, data: LatencyBuffers & { kind: string }, name: string, cleanup: () => void | Promise<void>): Promise<BenchOperation> {
  const probe = new LatencyProbe(data, name);
  let exited: Promise<number>;
  try {
    const worker = new Worker(moduleUrl, { workerData: data });
    exited = new Promise<number>((resolve) => worker.once('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
      void exited.then((code) => reject(new Error(`the ${name} worker exited with ${code} before it was ready`)));
    });
  } catch (err) {
    await cleanup();
    throw err;
  }
  return {
    run() {
      probe.request();
    },
    extra() {
      return probe.figures();
    },
    async teardown() {
      probe.stop();
      await exited;
      await cleanup();
    },
  };
}
