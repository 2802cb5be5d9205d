// The `--rules` file of `payflow replay` (docs/replay.md "Rules file"): JSON or YAML holding
// the wildcard rules, meters, service classes (with what happens to their out-of-profile
// packets: `excess`, as in the controller's configuration), default action and best-effort
// class to load into the data plane before a capture runs through it. This module only parses and checks the
// file into typed values; every problem is a RulesFileError naming the offending path
// (e.g. `rules[2].dport`), and nothing is applied to an engine until the whole file is valid.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { policingOf, type ExcessPolicy } from '../../config/index.js';
import { classErrorText, ReferencePricing, type ClassParams } from '../reference/pricing.js';
import { meterErrorText, ReferenceMeters, type MeterParams } from '../reference/meter.js';
import type { DataPlane, PortMatch, RuleAction, WildcardRule } from '../types.js';

export class RulesFileError extends Error {
  override name = 'RulesFileError';
}

export interface ReplayMeter {
  id: number;
  params: MeterParams;
}
export interface ReplayClass {
  id: number;
  params: ClassParams;
  /** demand committed by reservations, bits/s */
  reservedBps: number;
  /** out-of-profile (yellow and red) packets: degraded to best effort or dropped; absent: the engine's default */
  excess?: ExcessPolicy;
}
export interface ReplayRule {
  id: number;
  rule: WildcardRule;
}

export interface ReplayRules {
  defaultAction?: RuleAction;
  bestEffort?: { class: number; queue: number; dscp: number };
  meters: ReplayMeter[];
  classes: ReplayClass[];
  rules: ReplayRule[];
  /** pricing tick interval in capture time, ns (default 1 s) */
  tickNs: number;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(path: string, msg: string): never {
  throw new RulesFileError(`${path}: ${msg}`);
}

function onlyKeys(o: Obj, path: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) fail(path, `unknown key '${k}' (allowed: ${allowed.join(', ')})`);
}

function int(o: Obj, key: string, path: string, min: number, max: number, dflt?: number): number {
  const v = o[key];
  if (v === undefined) {
    if (dflt === undefined) fail(`${path}.${key}`, 'required');
    return dflt;
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(`${path}.${key}`, `expected an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return v;
}

function num(o: Obj, key: string, path: string, dflt?: number): number {
  const v = o[key];
  if (v === undefined) {
    if (dflt === undefined) fail(`${path}.${key}`, 'required');
    return dflt;
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${path}.${key}`, `expected a number, got ${JSON.stringify(v)}`);
  return v;
}

function optInt(o: Obj, key: string, path: string, min: number, max: number): number | undefined {
  return o[key] === undefined ? undefined : int(o, key, path, min, max);
}

function optString(o: Obj, key: string, path: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') fail(`${path}.${key}`, `expected a string, got ${JSON.stringify(v)}`);
  return v;
}

function list(o: Obj, key: string): unknown[] {
  const v = o[key];
  if (v === undefined) return [];
  if (!Array.isArray(v)) fail(key, 'expected a list');
  return v;
}

function action(v: unknown, path: string): RuleAction {
  if (!isObj(v)) fail(path, 'expected an object { action, class, queue, dscp, meter }');
  onlyKeys(v, path, ['action', 'class', 'queue', 'dscp', 'meter']);
  const a = v['action'] ?? 'forward';
  if (a !== 'forward' && a !== 'drop') fail(`${path}.action`, `expected 'forward' or 'drop', got ${JSON.stringify(a)}`);
  const out: RuleAction = { action: a };
  const cls = optInt(v, 'class', path, 0, 63);
  const queue = optInt(v, 'queue', path, 0, 255);
  const dscp = optInt(v, 'dscp', path, 0, 63);
  const meter = optInt(v, 'meter', path, 0, 0xffffffff);
  if (cls !== undefined) out.class = cls;
  if (queue !== undefined) out.queue = queue;
  if (dscp !== undefined) out.dscp = dscp;
  if (meter !== undefined) out.meter = meter;
  return out;
}

function port(v: unknown, path: string): PortMatch {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535) return v;
  if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 65535) && v[0] <= v[1]) {
    return [v[0] as number, v[1] as number];
  }
  fail(path, `expected a port (0..65535) or a range [lo, hi], got ${JSON.stringify(v)}`);
}

function meter(v: unknown, i: number): ReplayMeter {
  const path = `meters[${i}]`;
  if (!isObj(v)) fail(path, 'expected an object');
  onlyKeys(v, path, ['id', 'mode', 'colorAware', 'cir', 'cbs', 'ebs', 'pir', 'pbs']);
  const mode = v['mode'];
  if (mode !== 'srTCM' && mode !== 'trTCM') fail(`${path}.mode`, `expected 'srTCM' or 'trTCM', got ${JSON.stringify(mode)}`);
  const aware = v['colorAware'] ?? false;
  if (typeof aware !== 'boolean') fail(`${path}.colorAware`, 'expected true or false');
  const params: MeterParams = { mode, colorAware: aware, cir: int(v, 'cir', path, 0, Number.MAX_SAFE_INTEGER), cbs: int(v, 'cbs', path, 0, Number.MAX_SAFE_INTEGER) };
  if (mode === 'srTCM') params.ebs = int(v, 'ebs', path, 0, Number.MAX_SAFE_INTEGER, 0);
  else {
    params.pir = int(v, 'pir', path, 0, Number.MAX_SAFE_INTEGER);
    params.pbs = int(v, 'pbs', path, 0, Number.MAX_SAFE_INTEGER, 0);
  }
  // the parameters are checked by the meter twin, which returns the same codes as the wasm module
  const code = new ReferenceMeters(1).set(0, params, 0);
  if (code !== 0) fail(path, `${meterErrorText(code)} (code ${code})`);
  return { id: int(v, 'id', path, 0, 0xffffffff), params };
}

function serviceClass(v: unknown, i: number): ReplayClass {
  const path = `classes[${i}]`;
  if (!isObj(v)) fail(path, 'expected an object');
  onlyKeys(v, path, ['id', 'basePrice', 'cmaxBps', 'targetBps', 'maxPrice', 'mode', 'ewmaWindowNs', 'reservedBps', 'excess']);
  const mode = v['mode'] ?? 'exponential';
  if (mode !== 'exponential' && mode !== 'tatonnement') fail(`${path}.mode`, `expected 'exponential' or 'tatonnement', got ${JSON.stringify(mode)}`);
  const basePrice = num(v, 'basePrice', path);
  const c: ReplayClass = {
    id: int(v, 'id', path, 0, 63),
    params: {
      basePrice,
      cmaxBps: num(v, 'cmaxBps', path),
      targetBps: num(v, 'targetBps', path),
      maxPrice: num(v, 'maxPrice', path, 10 * basePrice),
      mode,
      ewmaWindowNs: int(v, 'ewmaWindowNs', path, 0, Number.MAX_SAFE_INTEGER, 1_000_000_000),
    },
    reservedBps: num(v, 'reservedBps', path, 0),
  };
  if (c.reservedBps < 0) fail(`${path}.reservedBps`, 'must not be negative');
  const excess = v['excess'];
  if (excess !== undefined) {
    if (excess !== 'drop' && excess !== 'degrade') fail(`${path}.excess`, `expected 'drop' or 'degrade', got ${JSON.stringify(excess)}`);
    c.excess = excess;
  }
  const code = new ReferencePricing().setClass(c.id, c.params);
  if (code !== 0) fail(path, `${classErrorText(code)} (code ${code})`);
  return c;
}

function rule(v: unknown, i: number): ReplayRule {
  const path = `rules[${i}]`;
  if (!isObj(v)) fail(path, 'expected an object');
  onlyKeys(v, path, ['id', 'priority', 'inPort', 'ethertype', 'src', 'dst', 'proto', 'sport', 'dport', 'dscp', 'flowLabel', 'action']);
  const r: WildcardRule = { priority: int(v, 'priority', path, -(2 ** 31), 2 ** 31 - 1), action: action(v['action'], `${path}.action`) };
  const inPort = optInt(v, 'inPort', path, 0, 0xffffffff);
  const ethertype = optInt(v, 'ethertype', path, 0, 0xffff);
  const proto = optInt(v, 'proto', path, 0, 255);
  const dscp = optInt(v, 'dscp', path, 0, 63);
  const src = optString(v, 'src', path);
  const dst = optString(v, 'dst', path);
  if (inPort !== undefined) r.inPort = inPort;
  if (ethertype !== undefined) r.ethertype = ethertype;
  if (proto !== undefined) r.proto = proto;
  if (dscp !== undefined) r.dscp = dscp;
  if (src !== undefined) r.src = src;
  if (dst !== undefined) r.dst = dst;
  if (v['sport'] !== undefined) r.sport = port(v['sport'], `${path}.sport`);
  if (v['dport'] !== undefined) r.dport = port(v['dport'], `${path}.dport`);
  const fl = v['flowLabel'];
  if (fl !== undefined) {
    if (isObj(fl)) {
      onlyKeys(fl, `${path}.flowLabel`, ['value', 'mask']);
      r.flowLabel = { value: int(fl, 'value', `${path}.flowLabel`, 0, 0xfffff), mask: int(fl, 'mask', `${path}.flowLabel`, 0, 0xfffff) };
    } else {
      r.flowLabel = int(v, 'flowLabel', path, 0, 0xfffff);
    }
  }
  return { id: int(v, 'id', path, 0, 0xffffffff, i), rule: r };
}

/** Checks a parsed rules document (the object a JSON or YAML file holds). */
export function parseReplayRules(doc: unknown): ReplayRules {
  if (doc === null || doc === undefined) doc = {};
  if (!isObj(doc)) fail('(top level)', 'expected a mapping with meters, classes, rules, default, bestEffort, tickMs');
  onlyKeys(doc, '(top level)', ['meters', 'classes', 'rules', 'default', 'bestEffort', 'tickMs']);
  const out: ReplayRules = {
    meters: list(doc, 'meters').map(meter),
    classes: list(doc, 'classes').map(serviceClass),
    rules: list(doc, 'rules').map(rule),
    tickNs: num(doc, 'tickMs', '(top level)', 1000) * 1e6,
  };
  if (!(out.tickNs > 0)) fail('tickMs', 'must be positive');
  if (doc['default'] !== undefined) out.defaultAction = action(doc['default'], 'default');
  const be = doc['bestEffort'];
  if (be !== undefined) {
    if (!isObj(be)) fail('bestEffort', 'expected { class, queue, dscp }');
    onlyKeys(be, 'bestEffort', ['class', 'queue', 'dscp']);
    out.bestEffort = { class: int(be, 'class', 'bestEffort', 0, 63, 0), queue: int(be, 'queue', 'bestEffort', 0, 255, 0), dscp: int(be, 'dscp', 'bestEffort', 0, 63, 0) };
  }
  const seen = new Set<number>();
  for (const r of out.rules) {
    if (seen.has(r.id)) fail('rules', `rule id ${r.id} appears twice`);
    seen.add(r.id);
  }
  return out;
}

/** Reads and checks a rules file (JSON is read as YAML, of which it is a subset). */
export async function loadReplayRules(path: string): Promise<ReplayRules> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new RulesFileError(`cannot read rules file ${path}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new RulesFileError(`${path}: not valid JSON or YAML: ${(err as Error).message}`);
  }
  try {
    return parseReplayRules(doc);
  } catch (err) {
    if (err instanceof RulesFileError) throw new RulesFileError(`${path}: ${err.message}`);
    throw err;
  }
}

/**
 * Loads checked rules into an engine: classes (and their excess policy: `degrade` downgrades
 * yellow and red packets to best effort, `drop` drops both, as policingOf maps the
 * controller's knob), meters (time 0), best effort, default action,
 * rules. What only the engine can check (a meter id beyond its capacity, an address that does
 * not parse) comes back as a RulesFileError naming the entry.
 */
export function applyReplayRules(engine: DataPlane, rules: ReplayRules): void {
  const at = (path: string, f: () => void): void => {
    try {
      f();
    } catch (err) {
      throw new RulesFileError(`${path}: ${(err as Error).message}`);
    }
  };
  rules.classes.forEach((c, i) =>
    at(`classes[${i}]`, () => {
      engine.setClass(c.id, c.params);
      if (c.reservedBps > 0) engine.setReserved(c.id, c.reservedBps);
      if (c.excess) {
        const { yellow, red } = policingOf(c.excess);
        engine.setClassExcess(c.id, { yellow, red });
      }
    }),
  );
  rules.meters.forEach((m, i) => at(`meters[${i}]`, () => engine.setMeter(m.id, m.params, 0)));
  const be = rules.bestEffort;
  if (be) at('bestEffort', () => engine.setBestEffort(be.class, be.queue, be.dscp));
  const d = rules.defaultAction;
  if (d) at('default', () => engine.setDefaultAction(d));
  rules.rules.forEach((r, i) => at(`rules[${i}]`, () => engine.setRule(r.id, r.rule)));
}
