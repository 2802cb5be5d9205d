// The benchmark harness behind `payflow bench`: every area (data plane, OpenFlow,
// payments, controller) contributes a BenchSuite; each case is measured with benny
// (Benchmark.js underneath) and reported as items per second. The JSON shape
// `{ name, impl, batch, mpps }` is the contract of `payflow bench --json`; extra figures a case
// computes (memory per flow, latency percentiles) ride along in `extra`.
import b from 'benny';

export type Impl = 'wasm' | 'ts';

export interface BenchCase {
  /** dotted name, area first: `dataplane.pipeline`, `openflow.decode.flow_mod`, ... */
  name: string;
  impl: Impl;
  /** items (packets, messages, verifications) processed by one call of the operation */
  batch: number;
  /**
   * Prepares the case once and returns the operation to time. May be async (an
   * HTTP server to start, say). Heavy setup belongs here, never in the operation.
   */
  setup(): BenchOperation | Promise<BenchOperation>;
}

export interface BenchOperation {
  run(): void;
  /** figures the case measured besides the rate, e.g. `{ bytesPerFlow: 152 }` */
  extra?(): Record<string, number>;
  /**
   * A rate the case measured itself over wall time (packets through a live switch, say),
   * reported instead of timing run(), which is then not called.
   */
  measured?(): { perSecond: number; samples: number; rme: number };
  teardown?(): void | Promise<void>;
}

export interface BenchSuite {
  /** area name, also the prefix of its cases' names */
  name: string;
  cases(options: BenchOptions): BenchCase[];
}

export interface BenchOptions {
  quick: boolean;
}

export interface BenchResult {
  name: string;
  impl: Impl;
  batch: number;
  /** million items per second */
  mpps: number;
  /** items per second (mpps × 1e6), for the areas where items are not packets */
  perSecond: number;
  /** relative margin of error of the rate, percent */
  rme: number;
  samples: number;
  extra?: Record<string, number>;
}

export interface RunOptions extends BenchOptions {
  /** only cases whose name starts with one of these */
  filter?: readonly string[];
  /** progress lines go here (stderr for the CLI) */
  progress?: (line: string) => void;
}

/** Runs every selected case, one benny suite per case so that state is freed between them. */
export async function runSuites(suites: readonly BenchSuite[], options: RunOptions): Promise<BenchResult[]> {
  const cases = suites
    .flatMap((s) => s.cases(options))
    .filter((c) => !options.filter?.length || options.filter.some((f) => c.name.startsWith(f)));
  const timing = options.quick ? { maxTime: 0.12, minSamples: 3, delay: 0 } : { maxTime: 1.5, minSamples: 10, delay: 0.01 };
  const results: BenchResult[] = [];
  let index = 0;
  for (const c of cases) {
    index++;
    const label = `${c.name} [${c.impl}, batch ${c.batch}]`;
    options.progress?.(`(${index}/${cases.length}) ${label}`);
    const op = await c.setup();
    const own = op.measured?.();
    let r: { ops: number; margin: number; samples: number };
    if (own) r = { ops: own.perSecond / c.batch, margin: own.rme, samples: own.samples };
    else {
      const run = op.run.bind(op);
      const summary = await withConsoleOnStderr(() => b.suite(label, b.add(label, () => run, timing)));
      r = summary.results[0]!;
    }
    const perSecond = r.ops * c.batch;
    const result: BenchResult = {
      name: c.name,
      impl: c.impl,
      batch: c.batch,
      mpps: round(perSecond / 1e6, 4),
      perSecond: Math.round(perSecond),
      rme: round(r.margin, 2),
      samples: r.samples,
    };
    const extra = op.extra?.();
    if (extra && Object.keys(extra).length) result.extra = extra;
    results.push(result);
    await op.teardown?.();
  }
  return results;
}

/** A fixed-width table of results, with the wasm/ts ratio where both were measured. */
export function formatTable(results: readonly BenchResult[]): string {
  const header = ['name', 'impl', 'batch', 'rate', '±%', 'wasm/ts', 'extra'];
  const rows = results.map((r) => {
    let ratio = '';
    if (r.impl === 'wasm') {
      const twin = results.find((t) => t.impl === 'ts' && t.name === r.name && t.batch === r.batch);
      if (twin && twin.mpps > 0) ratio = `${(r.mpps / twin.mpps).toFixed(2)}×`;
    }
    const extra = r.extra ? Object.entries(r.extra).map(([k, v]) => `${k}=${v}`).join(' ') : '';
    return [r.name, r.impl, String(r.batch), fmtRate(r.mpps), r.rme.toFixed(1), ratio, extra];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i >= 2 && i <= 5 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Items per second in natural units: `52.19 M/s`, `21.2 k/s`, `200 /s`; a single-item case (batch 1, a latency) also as ms per item. */
export function fmtRate(mpps: number): string {
  const perSecond = mpps * 1e6;
  if (perSecond >= 1e6) return `${mpps.toFixed(2)} M/s`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(perSecond >= 1e5 ? 0 : 1)} k/s`;
  if (perSecond > 0) return `${perSecond.toFixed(perSecond >= 100 ? 0 : 1)} /s (${(1000 / perSecond).toFixed(perSecond >= 100 ? 2 : 1)} ms)`;
  return '0 /s';
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** benny reports through console.log; keep stdout for the table or the JSON. */
async function withConsoleOnStderr<T>(fn: () => Promise<T>): Promise<T> {
  const log = console.log;
  console.log = () => {
    // benny's own chatter; our progress line already says which case runs
  };
  try {
    return await fn();
  } finally {
    console.log = log;
  }
}
