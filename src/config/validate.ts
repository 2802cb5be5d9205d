// Validation of a parsed payflow.yaml (plain JS values, as the yaml package returns them)
// into a complete PayflowConfig. Every problem is collected with the path of the field
// (`classes[1].target: must be between 0 and 1`), unknown keys included, so one run
// reports all of them; nothing is thrown for bad input. Missing fields take the defaults
// of defaults.ts, except inside a `classes` list, which replaces the default classes.
import { parseDuration, parseRate, type DurationLimits, type RateLimits } from '../util/units.js';
import { formatDpid, parseDpid } from '../util/dpid.js';
import { normaliseHostAddress, normaliseUnicastMac } from '../util/addresses.js';
import { defaultConfig, DEFAULT_MAX_PRICE_FACTOR } from './defaults.js';
import type {
  EgressAgentConfig,
  LedgerConfig,
  LinkCapacityOverride,
  ListenConfig,
  LogLevel,
  PayflowConfig,
  ExcessPolicy,
  PolicingAction,
  PolicingConfig,
  ServiceClassConfig,
  StaticPortRef,
  StaticTopologyConfig,
} from './types.js';

export interface ConfigIssue {
  /** dotted path of the bad field, `classes[1].target`; "" for the whole document */
  path: string;
  message: string;
}

export type ConfigResult = { ok: true; config: PayflowConfig } | { ok: false; issues: ConfigIssue[] };

export const CLASS_ID_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;
const MAX_CLASSES = 8; // OpenFlow meters, DSCP code points and tc classes stay manageable
const SHARE_EPSILON = 1e-9;

type Obj = Record<string, unknown>;

/** Collects issues and reads typed fields; on a bad field it records the issue and returns undefined. */
class Reader {
  readonly issues: ConfigIssue[] = [];

  add(path: string, message: string): void {
    this.issues.push({ path, message });
  }

  /** A mapping with only the allowed keys; undefined (with an issue) when it is not a mapping. */
  object(value: unknown, path: string, allowed: readonly string[]): Obj | undefined {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.add(path, `must be a mapping (keys: ${allowed.join(', ')})`);
      return undefined;
    }
    const obj = value as Obj;
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key)) this.add(join(path, key), `unknown key (expected one of: ${allowed.join(', ')})`);
    }
    return obj;
  }

  /** The optional sub-mapping at key: {} when absent. */
  section(parent: Obj, key: string, path: string, allowed: readonly string[]): Obj | undefined {
    const value = parent[key];
    if (value === undefined || value === null) return {};
    return this.object(value, join(path, key), allowed);
  }

  string(obj: Obj, key: string, path: string, opts: { nonEmpty?: boolean; pattern?: RegExp; patternText?: string } = {}): string | undefined {
    const value = obj[key];
    if (value === undefined) return undefined;
    const p = join(path, key);
    if (typeof value !== 'string') return this.fail(p, 'must be a string');
    if ((opts.nonEmpty ?? true) && value.trim() === '') return this.fail(p, 'must not be empty');
    if (opts.pattern && !opts.pattern.test(value)) return this.fail(p, `must match ${opts.patternText ?? String(opts.pattern)}`);
    return value;
  }

  number(obj: Obj, key: string, path: string, range: { min?: number; max?: number; minExclusive?: boolean; integer?: boolean } = {}): number | undefined {
    const value = obj[key];
    if (value === undefined) return undefined;
    const p = join(path, key);
    if (typeof value !== 'number' || !Number.isFinite(value)) return this.fail(p, 'must be a finite number');
    if (range.integer && !Number.isInteger(value)) return this.fail(p, 'must be an integer');
    const { min, max } = range;
    const tooLow = min !== undefined && (range.minExclusive ? value <= min : value < min);
    const tooHigh = max !== undefined && value > max;
    if (tooLow || tooHigh) {
      if (min !== undefined && max !== undefined) return this.fail(p, `must be between ${min} and ${max}`);
      if (min !== undefined) return this.fail(p, range.minExclusive ? `must be greater than ${min}` : `must be at least ${min}`);
      return this.fail(p, `must be at most ${max}`);
    }
    return value;
  }

  boolean(obj: Obj, key: string, path: string): boolean | undefined {
    const value = obj[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'boolean') return this.fail(join(path, key), 'must be true or false');
    return value;
  }

  oneOf<T extends string>(obj: Obj, key: string, path: string, choices: readonly T[]): T | undefined {
    const value = obj[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
      return this.fail(join(path, key), `must be one of: ${choices.join(', ')}`);
    }
    return value as T;
  }

  rate(obj: Obj, key: string, path: string, limits?: RateLimits): number | undefined {
    const value = obj[key];
    if (value === undefined) return undefined;
    const r = parseRate(value, limits);
    return r.ok ? r.value : this.fail(join(path, key), r.error);
  }

  duration(obj: Obj, key: string, path: string, limits?: DurationLimits): number | undefined {
    const value = obj[key];
    if (value === undefined) return undefined;
    const r = parseDuration(value, limits);
    return r.ok ? r.value : this.fail(join(path, key), r.error);
  }

  listen(obj: Obj, key: string, path: string): ListenConfig | undefined {
    const value = obj[key];
    if (value === undefined) return undefined;
    const p = join(path, key);
    if (typeof value !== 'string') return this.fail(p, 'must be a string "host:port" (IPv6 as "[::1]:port")');
    const r = parseListen(value);
    return r.ok ? r.value : this.fail(p, r.error);
  }

  fail(path: string, message: string): undefined {
    this.add(path, message);
    return undefined;
  }
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** "0.0.0.0:6653", "[::]:6653", "localhost:0" → host and port. */
export function parseListen(text: string): { ok: true; value: ListenConfig } | { ok: false; error: string } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text.trim());
  if (!m) return { ok: false, error: 'must be "host:port" (IPv6 as "[::1]:port")' };
  const port = Number(m[3]);
  if (port > 65535) return { ok: false, error: 'port must be between 0 and 65535' };
  return { ok: true, value: { host: (m[1] ?? m[2])!, port } };
}

const TOP_KEYS = ['dataDir', 'log', 'openflow', 'http', 'ledger', 'pricing', 'stats', 'topology', 'links', 'egress', 'reservations', 'classes'] as const;
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const POLICING_ACTIONS: readonly PolicingAction[] = ['forward', 'downgrade', 'drop'];
const EXCESS_POLICIES: readonly ExcessPolicy[] = ['drop', 'degrade'];

/** Validates a parsed document; `null`/`undefined` (an empty file) gives the defaults. */
export function validateConfig(raw: unknown): ConfigResult {
  const r = new Reader();
  const config = defaultConfig();
  if (raw === undefined || raw === null) return { ok: true, config };
  const top = r.object(raw, '', TOP_KEYS);
  if (!top) return { ok: false, issues: r.issues };

  config.dataDir = r.string(top, 'dataDir', '') ?? config.dataDir;

  const log = r.section(top, 'log', '', ['level']);
  if (log) config.log.level = r.oneOf(log, 'level', 'log', LOG_LEVELS) ?? config.log.level;

  const of = r.section(top, 'openflow', '', ['enabled', 'listen', 'connect', 'echoInterval', 'tls', 'switches']);
  if (of) {
    const enabled = r.boolean(of, 'enabled', 'openflow');
    if (enabled !== undefined) config.openflow.enabled = enabled;
    config.openflow.listen = r.listen(of, 'listen', 'openflow') ?? config.openflow.listen;
    if (of['connect'] !== undefined) {
      if (!Array.isArray(of['connect'])) r.add('openflow.connect', 'must be a list of "host:port" (switches listening for their controller, e.g. OVS ptcp:6634)');
      else {
        const seen = new Set<string>();
        of['connect'].forEach((item: unknown, i: number) => {
          const p = `openflow.connect[${i}]`;
          const parsed = typeof item === 'string' ? parseListen(item) : undefined;
          if (!parsed || !parsed.ok) return r.add(p, parsed ? parsed.error : 'must be a string "host:port" (IPv6 as "[::1]:port")');
          const target = parsed.value;
          if (target.port === 0) r.add(p, 'port must be between 1 and 65535');
          else if (seen.has(`${target.host}:${target.port}`)) r.add(p, `${String(item)} is listed twice`);
          else {
            seen.add(`${target.host}:${target.port}`);
            config.openflow.connect.push(target);
          }
        });
      }
    }
    config.openflow.echoIntervalMs = r.duration(of, 'echoInterval', 'openflow', { minMs: 100, maxMs: 3_600_000 }) ?? config.openflow.echoIntervalMs;
    const tls = of['tls'] === undefined ? undefined : r.section(of, 'tls', 'openflow', ['cert', 'key', 'ca']);
    if (tls) {
      const cert = r.string(tls, 'cert', 'openflow.tls');
      const key = r.string(tls, 'key', 'openflow.tls');
      const ca = r.string(tls, 'ca', 'openflow.tls');
      if (cert === undefined || key === undefined || ca === undefined) r.add('openflow.tls', 'needs cert, key and ca (PEM file paths): TLS to switches is mutual');
      else config.openflow.tls = { cert, key, ca };
    }
    if (of['switches'] !== undefined) {
      if (!Array.isArray(of['switches'])) r.add('openflow.switches', 'must be a list of datapath ids (16 hex digits)');
      else {
        const list: string[] = [];
        of['switches'].forEach((item: unknown, i: number) => {
          const d = parseDpid(item);
          if (!d.ok) r.add(`openflow.switches[${i}]`, d.error);
          else if (list.includes(formatDpid(d.dpid))) r.add(`openflow.switches[${i}]`, `${formatDpid(d.dpid)} is listed twice`);
          else list.push(formatDpid(d.dpid));
        });
        config.openflow.switches = list;
      }
    }
  }
  if (of?.['listen'] === undefined && (config.openflow.tls || config.openflow.switches)) {
    config.openflow.listen = { ...config.openflow.listen, host: '0.0.0.0' };
    config.openflow.listenReason = config.openflow.tls
      ? 'all interfaces: switches prove who they are with TLS certificates'
      : 'all interfaces: only the allow-listed datapath ids are accepted';
  } else if (of?.['listen'] !== undefined) delete config.openflow.listenReason;
  readHttp(r, top, config);

  const ledger = readLedger(r, top);
  if (ledger) config.ledger = ledger;

  const pricing = r.section(top, 'pricing', '', ['mode', 'demand', 'demandWindow']);
  if (pricing) {
    config.pricing.mode = r.oneOf(pricing, 'mode', 'pricing', ['exponential', 'tatonnement'] as const) ?? config.pricing.mode;
    config.pricing.demand = r.oneOf(pricing, 'demand', 'pricing', ['reserved', 'measured', 'max'] as const) ?? config.pricing.demand;
    config.pricing.demandWindowMs = r.duration(pricing, 'demandWindow', 'pricing', { minMs: 10, maxMs: 24 * 3_600_000 }) ?? config.pricing.demandWindowMs;
  }

  const stats = r.section(top, 'stats', '', ['pollInterval']);
  if (stats) config.stats.pollIntervalMs = r.duration(stats, 'pollInterval', 'stats', { minMs: 10, maxMs: 3_600_000 }) ?? config.stats.pollIntervalMs;

  const topo = r.section(top, 'topology', '', ['lldpInterval', 'linkTimeout', 'hostTimeout', 'static']);
  if (topo) {
    const t = config.topology;
    t.lldpIntervalMs = r.duration(topo, 'lldpInterval', 'topology', { minMs: 10, maxMs: 3_600_000 }) ?? t.lldpIntervalMs;
    t.linkTimeoutMs = r.duration(topo, 'linkTimeout', 'topology', { minMs: 10, maxMs: 24 * 3_600_000 }) ?? t.linkTimeoutMs;
    t.hostTimeoutMs = r.duration(topo, 'hostTimeout', 'topology', { minMs: 10 }) ?? t.hostTimeoutMs;
    if (t.linkTimeoutMs <= t.lldpIntervalMs) r.add('topology.linkTimeout', 'must be longer than topology.lldpInterval');
    if (topo.static !== undefined && topo.static !== null) {
      const st = readStaticTopology(r, topo.static);
      if (st) t.static = st;
    }
  }

  readLinks(r, top, config);
  readEgress(r, top, config);
  readReservations(r, top, config);

  if (top.classes !== undefined) {
    const classes = readClasses(r, top.classes);
    if (classes) config.classes = classes;
  }

  return r.issues.length ? { ok: false, issues: r.issues } : { ok: true, config };
}

const HTTP_KEYS = ['listen', 'requestTimeout', 'connectionTimeout', 'keepAliveTimeout', 'bodyLimit', 'rateLimit', 'signatureWindow', 'idempotencyRetention', 'tokens'] as const;

function readHttp(r: Reader, top: Obj, config: PayflowConfig): void {
  const http = r.section(top, 'http', '', HTTP_KEYS);
  if (!http) return;
  const h = config.http;
  h.listen = r.listen(http, 'listen', 'http') ?? h.listen;
  h.requestTimeoutMs = r.duration(http, 'requestTimeout', 'http', { minMs: 100, maxMs: 3_600_000 }) ?? h.requestTimeoutMs;
  h.connectionTimeoutMs = r.duration(http, 'connectionTimeout', 'http', { minMs: 100, maxMs: 3_600_000 }) ?? h.connectionTimeoutMs;
  h.keepAliveTimeoutMs = r.duration(http, 'keepAliveTimeout', 'http', { minMs: 100, maxMs: 3_600_000 }) ?? h.keepAliveTimeoutMs;
  h.bodyLimitBytes = r.number(http, 'bodyLimit', 'http', { min: 1024, max: 16 * 1024 * 1024, integer: true }) ?? h.bodyLimitBytes;
  h.signatureWindowMs = r.duration(http, 'signatureWindow', 'http', { minMs: 1000, maxMs: 3_600_000 }) ?? h.signatureWindowMs;
  h.idempotencyRetentionMs = r.duration(http, 'idempotencyRetention', 'http', { minMs: 60_000, maxMs: 30 * 24 * 3_600_000 }) ?? h.idempotencyRetentionMs;
  const limits = r.section(http, 'rateLimit', 'http', ['perAddress', 'perKey']);
  if (limits) {
    for (const which of ['perAddress', 'perKey'] as const) {
      const l = r.section(limits, which, 'http.rateLimit', ['max', 'window']);
      if (!l) continue;
      const path = `http.rateLimit.${which}`;
      h.rateLimit[which] = {
        max: r.number(l, 'max', path, { min: 1, max: 1e9, integer: true }) ?? h.rateLimit[which].max,
        windowMs: r.duration(l, 'window', path, { minMs: 100, maxMs: 24 * 3_600_000 }) ?? h.rateLimit[which].windowMs,
      };
    }
  }
  if (http['tokens'] !== undefined) {
    if (!Array.isArray(http['tokens'])) r.add('http.tokens', 'must be a list of { name, sha256, scope }');
    else {
      h.tokens = [];
      http['tokens'].forEach((item: unknown, i: number) => {
        const p = `http.tokens[${i}]`;
        const t = r.object(item, p, ['name', 'sha256', 'scope']);
        if (!t) return;
        const name = r.string(t, 'name', p, { pattern: /^[A-Za-z0-9_.-]{1,64}$/, patternText: 'a name of letters, digits, _ . - (at most 64)' });
        const sha256 = r.string(t, 'sha256', p, { pattern: /^[0-9a-f]{64}$/, patternText: "the token's SHA-256 as 64 lowercase hex digits (`payflow token create` prints it)" });
        const scope = r.oneOf(t, 'scope', p, ['admin', 'read'] as const);
        for (const k of ['name', 'sha256', 'scope'] as const) if (t[k] === undefined) r.add(`${p}.${k}`, 'is required');
        if (name !== undefined && sha256 !== undefined && scope !== undefined) h.tokens.push({ name, sha256, scope });
      });
    }
  }
}

function readLedger(r: Reader, top: Obj): LedgerConfig | undefined {
  const keys = ['kind', 'testbed', 'rpcUrl', 'keyFile', 'operatorAddress', 'coinType', 'baseUnitsPerCurrencyUnit'];
  const l = r.section(top, 'ledger', '', keys);
  if (!l || Object.keys(l).length === 0) return undefined;
  const kind = r.oneOf(l, 'kind', 'ledger', ['local', 'iota'] as const) ?? 'local';
  const units = r.number(l, 'baseUnitsPerCurrencyUnit', 'ledger', { min: 1, max: 1e15, integer: true });
  if (kind === 'local') {
    for (const k of ['rpcUrl', 'keyFile', 'operatorAddress', 'coinType']) if (l[k] !== undefined) r.add(`ledger.${k}`, 'only applies to ledger.kind "iota"');
    return { kind, testbed: r.boolean(l, 'testbed', 'ledger') ?? false, baseUnitsPerCurrencyUnit: units ?? 1_000_000 };
  }
  if (l.testbed !== undefined) r.add('ledger.testbed', 'only applies to ledger.kind "local"');
  const rpcUrl = r.string(l, 'rpcUrl', 'ledger', { pattern: /^https?:\/\/\S+$/, patternText: 'an http(s) URL' });
  if (l.rpcUrl === undefined) r.add('ledger.rpcUrl', 'is required when ledger.kind is "iota"');
  const out: LedgerConfig = { kind, rpcUrl: rpcUrl ?? '', baseUnitsPerCurrencyUnit: units ?? 1_000_000_000 };
  const keyFile = r.string(l, 'keyFile', 'ledger');
  const operatorAddress = r.string(l, 'operatorAddress', 'ledger', { pattern: /^0x[0-9a-fA-F]{1,64}$/, patternText: 'a 0x-prefixed hex address' });
  const coinType = r.string(l, 'coinType', 'ledger');
  if (keyFile !== undefined) out.keyFile = keyFile;
  if (operatorAddress !== undefined) out.operatorAddress = operatorAddress;
  if (coinType !== undefined) out.coinType = coinType;
  return out;
}

function readPortRef(r: Reader, value: unknown, p: string): StaticPortRef | undefined {
  const o = r.object(value, p, ['dpid', 'port']);
  if (!o) return undefined;
  let dpid: string | undefined;
  if (o.dpid === undefined) r.add(`${p}.dpid`, 'is required');
  else {
    const d = parseDpid(o.dpid);
    if (d.ok) dpid = formatDpid(d.dpid);
    else r.add(`${p}.dpid`, d.error);
  }
  if (o.port === undefined) r.add(`${p}.port`, 'is required');
  const port = r.number(o, 'port', p, { min: 1, max: 0xffffff00, integer: true });
  return dpid !== undefined && port !== undefined ? { dpid, port } : undefined;
}

/** topology.static: bidirectional links and hosts at switch ports (no switches needed). */
function readStaticTopology(r: Reader, value: unknown): StaticTopologyConfig | undefined {
  const st = r.object(value, 'topology.static', ['links', 'hosts']);
  if (!st) return undefined;
  const before = r.issues.length;
  const out: StaticTopologyConfig = { links: [], hosts: [] };
  const used = new Map<string, string>();
  const claim = (ref: StaticPortRef, p: string): void => {
    const key = `${ref.dpid}:${ref.port}`;
    const earlier = used.get(key);
    if (earlier !== undefined) r.add(p, `port ${key} is already used by ${earlier}`);
    else used.set(key, p);
  };
  const list = (key: 'links' | 'hosts'): unknown[] => {
    const v = st[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      r.add(`topology.static.${key}`, key === 'links' ? 'must be a list of { a: { dpid, port }, b: { dpid, port } }' : 'must be a list of { mac, at: { dpid, port }, ips }');
      return [];
    }
    return v;
  };
  list('links').forEach((item, i) => {
    const p = `topology.static.links[${i}]`;
    const o = r.object(item, p, ['a', 'b']);
    if (!o) return;
    if (o.a === undefined) r.add(`${p}.a`, 'is required');
    if (o.b === undefined) r.add(`${p}.b`, 'is required');
    const a = o.a === undefined ? undefined : readPortRef(r, o.a, `${p}.a`);
    const b = o.b === undefined ? undefined : readPortRef(r, o.b, `${p}.b`);
    if (!a || !b) return;
    if (a.dpid === b.dpid) {
      r.add(p, 'a link joins two different switches');
      return;
    }
    claim(a, `${p}.a`);
    claim(b, `${p}.b`);
    out.links.push({ a, b });
  });
  const macs = new Map<string, number>();
  const ips = new Map<string, number>();
  list('hosts').forEach((item, i) => {
    const p = `topology.static.hosts[${i}]`;
    const o = r.object(item, p, ['mac', 'at', 'ips']);
    if (!o) return;
    for (const k of ['mac', 'at', 'ips'] as const) if (o[k] === undefined) r.add(`${p}.${k}`, 'is required');
    const macText = r.string(o, 'mac', p);
    const mac = macText === undefined ? undefined : normaliseUnicastMac(macText);
    if (macText !== undefined && mac === undefined) r.add(`${p}.mac`, 'must be a unicast MAC address (aa:bb:cc:dd:ee:ff)');
    if (mac !== undefined) {
      const earlier = macs.get(mac);
      if (earlier !== undefined) r.add(`${p}.mac`, `duplicates topology.static.hosts[${earlier}].mac`);
      else macs.set(mac, i);
    }
    const at = o.at === undefined ? undefined : readPortRef(r, o.at, `${p}.at`);
    const addresses: string[] = [];
    if (o.ips !== undefined) {
      if (!Array.isArray(o.ips) || o.ips.length === 0) r.add(`${p}.ips`, 'must be a non-empty list of IPv4 or IPv6 addresses');
      else
        o.ips.forEach((ip: unknown, j: number) => {
          const a = typeof ip === 'string' ? normaliseHostAddress(ip) : undefined;
          if (!a) return r.add(`${p}.ips[${j}]`, 'must be a unicast IPv4 or IPv6 address');
          const earlier = ips.get(a.address);
          if (earlier !== undefined) r.add(`${p}.ips[${j}]`, `duplicates an address of topology.static.hosts[${earlier}]`);
          else ips.set(a.address, i);
          addresses.push(a.address);
        });
    }
    if (at) claim(at, `${p}.at`);
    if (mac !== undefined && at && addresses.length) out.hosts.push({ mac, at, ips: addresses });
  });
  return r.issues.length === before ? out : undefined;
}

function readLinks(r: Reader, top: Obj, config: PayflowConfig): void {
  const links = r.section(top, 'links', '', ['defaultCapacity', 'usePortSpeed', 'overrides']);
  if (!links) return;
  config.links.defaultCapacityBps = r.rate(links, 'defaultCapacity', 'links') ?? config.links.defaultCapacityBps;
  config.links.usePortSpeed = r.boolean(links, 'usePortSpeed', 'links') ?? config.links.usePortSpeed;
  if (links.overrides === undefined || links.overrides === null) return;
  if (!Array.isArray(links.overrides)) {
    r.add('links.overrides', 'must be a list of { dpid, port, capacity }');
    return;
  }
  const seen = new Map<string, number>();
  const overrides: LinkCapacityOverride[] = [];
  links.overrides.forEach((item: unknown, i: number) => {
    const p = `links.overrides[${i}]`;
    const o = r.object(item, p, ['dpid', 'port', 'capacity']);
    if (!o) return;
    let dpid: string | undefined;
    if (o.dpid === undefined) r.add(`${p}.dpid`, 'is required');
    else {
      const d = parseDpid(o.dpid);
      if (d.ok) dpid = formatDpid(d.dpid);
      else r.add(`${p}.dpid`, d.error);
    }
    // OpenFlow 1.3 physical ports are 1..0xffffff00 (OFPP_MAX).
    const port = r.number(o, 'port', p, { min: 1, max: 0xffffff00, integer: true });
    if (o.port === undefined) r.add(`${p}.port`, 'is required');
    const capacityBps = r.rate(o, 'capacity', p);
    if (o.capacity === undefined) r.add(`${p}.capacity`, 'is required');
    if (dpid !== undefined && port !== undefined && capacityBps !== undefined) {
      const key = `${dpid}:${port}`;
      const earlier = seen.get(key);
      if (earlier !== undefined) r.add(p, `duplicates links.overrides[${earlier}] (same dpid and port)`);
      else seen.set(key, i);
      overrides.push({ dpid, port, capacityBps });
    }
  });
  config.links.overrides = overrides;
}

function readEgress(r: Reader, top: Obj, config: PayflowConfig): void {
  const egress = r.section(top, 'egress', '', ['shape', 'agents']);
  if (!egress) return;
  config.egress.shape = r.oneOf(egress, 'shape', 'egress', ['auto', 'on', 'off'] as const) ?? config.egress.shape;
  if (egress.agents === undefined || egress.agents === null) return;
  if (!Array.isArray(egress.agents)) {
    r.add('egress.agents', 'must be a list of { dpid, address }');
    return;
  }
  const agents: EgressAgentConfig[] = [];
  const seen = new Set<string>();
  egress.agents.forEach((item: unknown, i: number) => {
    const p = `egress.agents[${i}]`;
    const o = r.object(item, p, ['dpid', 'address']);
    if (!o) return;
    const d = o.dpid === undefined ? undefined : parseDpid(o.dpid);
    if (!d) r.add(`${p}.dpid`, 'is required');
    else if (!d.ok) r.add(`${p}.dpid`, d.error);
    if (o.address === undefined) r.add(`${p}.address`, 'is required');
    const address = r.listen(o, 'address', p);
    if (!d?.ok || !address) return;
    const dpid = formatDpid(d.dpid);
    if (seen.has(dpid)) r.add(`${p}.dpid`, 'is listed twice');
    seen.add(dpid);
    agents.push({ dpid, address });
  });
  config.egress.agents = agents;
}

function readReservations(r: Reader, top: Obj, config: PayflowConfig): void {
  const res = r.section(top, 'reservations', '', ['minRate', 'maxRate', 'minDuration', 'maxDuration', 'burst', 'quoteTtl', 'quoteRetention', 'cancelFee', 'maxActivePerPayer', 'channelSettleMargin', 'channelMinLifetime', 'stranded']);
  if (!res) return;
  const c = config.reservations;
  c.minRateBps = r.rate(res, 'minRate', 'reservations') ?? c.minRateBps;
  c.maxRateBps = r.rate(res, 'maxRate', 'reservations') ?? c.maxRateBps;
  c.minDurationMs = r.duration(res, 'minDuration', 'reservations') ?? c.minDurationMs;
  c.maxDurationMs = r.duration(res, 'maxDuration', 'reservations') ?? c.maxDurationMs;
  c.burstMs = r.duration(res, 'burst', 'reservations', { maxMs: 10_000 }) ?? c.burstMs;
  c.quoteTtlMs = r.duration(res, 'quoteTtl', 'reservations', { minMs: 1000, maxMs: 24 * 3_600_000 }) ?? c.quoteTtlMs;
  c.quoteRetentionMs = r.duration(res, 'quoteRetention', 'reservations', { minMs: 0, maxMs: 30 * 24 * 3_600_000 }) ?? c.quoteRetentionMs;
  c.cancelFee = r.number(res, 'cancelFee', 'reservations', { min: 0, max: 1 }) ?? c.cancelFee;
  c.maxActivePerPayer = r.number(res, 'maxActivePerPayer', 'reservations', { min: 1, max: 1_000_000, integer: true }) ?? c.maxActivePerPayer;
  c.channelSettleMarginMs = r.duration(res, 'channelSettleMargin', 'reservations', { minMs: 1000, maxMs: 7 * 24 * 3_600_000 }) ?? c.channelSettleMarginMs;
  c.channelMinLifetimeMs = r.duration(res, 'channelMinLifetime', 'reservations', { minMs: 1000, maxMs: 30 * 24 * 3_600_000 }) ?? c.channelMinLifetimeMs;
  if (c.channelMinLifetimeMs <= c.channelSettleMarginMs) r.add('reservations.channelMinLifetime', 'must exceed reservations.channelSettleMargin (a channel must be able to pay for some time)');
  const stranded = r.section(res, 'stranded', 'reservations', ['policy', 'grace']);
  if (stranded) {
    c.stranded = {
      policy: r.oneOf(stranded, 'policy', 'reservations.stranded', ['credit', 'refund'] as const) ?? c.stranded.policy,
      graceMs: r.duration(stranded, 'grace', 'reservations.stranded', { minMs: 1000, maxMs: 30 * 24 * 3_600_000 }) ?? c.stranded.graceMs,
    };
  }
  if (c.minRateBps > c.maxRateBps) r.add('reservations.minRate', 'must not exceed reservations.maxRate');
  if (c.minDurationMs > c.maxDurationMs) r.add('reservations.minDuration', 'must not exceed reservations.maxDuration');
}

const CLASS_KEYS = ['id', 'name', 'basePrice', 'maxPrice', 'target', 'share', 'dscp', 'bestEffort', 'excess', 'policing'] as const;

function readClasses(r: Reader, value: unknown): ServiceClassConfig[] | undefined {
  if (!Array.isArray(value)) return r.fail('classes', 'must be a list of service classes');
  if (value.length === 0) return r.fail('classes', 'must list at least one service class');
  if (value.length > MAX_CLASSES) return r.fail('classes', `must list at most ${MAX_CLASSES} service classes`);
  const classes: ServiceClassConfig[] = [];
  let complete = true;
  value.forEach((item: unknown, i: number) => {
    const c = readClass(r, item, `classes[${i}]`);
    if (c) classes.push(c);
    else complete = false;
  });
  if (!complete) return undefined;

  const ids = new Map<string, number>();
  const dscps = new Map<number, number>();
  classes.forEach((c, i) => {
    const idAt = ids.get(c.id);
    if (idAt !== undefined) r.add(`classes[${i}].id`, `duplicates classes[${idAt}].id "${c.id}"`);
    else ids.set(c.id, i);
    const dscpAt = dscps.get(c.dscp);
    if (dscpAt !== undefined) r.add(`classes[${i}].dscp`, `duplicates classes[${dscpAt}].dscp ${c.dscp}`);
    else dscps.set(c.dscp, i);
  });
  const bestEffort = classes.filter((c) => c.bestEffort).length;
  if (bestEffort !== 1) r.add('classes', `exactly one class must have bestEffort: true (found ${bestEffort})`);
  const shares = classes.reduce((sum, c) => sum + c.share, 0);
  if (shares > 1 + SHARE_EPSILON) r.add('classes', `shares sum to ${Number(shares.toFixed(6))}, must be at most 1`);
  return classes;
}

function readClass(r: Reader, item: unknown, p: string): ServiceClassConfig | undefined {
  const o = r.object(item, p, CLASS_KEYS);
  if (!o) return undefined;
  const before = r.issues.length;
  for (const key of ['id', 'basePrice', 'target', 'share'] as const) if (o[key] === undefined) r.add(`${p}.${key}`, 'is required');
  const id = r.string(o, 'id', p, { pattern: CLASS_ID_PATTERN, patternText: 'a lower-case identifier ([a-z][a-z0-9_-]*, at most 32 characters)' });
  const name = r.string(o, 'name', p);
  const basePrice = r.number(o, 'basePrice', p, { min: 0, minExclusive: true, max: 1e9 });
  const maxPrice = r.number(o, 'maxPrice', p, { min: 0, minExclusive: true, max: 1e12 });
  const target = r.number(o, 'target', p, { min: 0, minExclusive: true, max: 1 });
  const share = r.number(o, 'share', p, { min: 0, minExclusive: true, max: 1 });
  const bestEffort = r.boolean(o, 'bestEffort', p) ?? false;
  const dscp = r.number(o, 'dscp', p, { min: 0, max: 63, integer: true });
  if (o.dscp === undefined && !bestEffort) r.add(`${p}.dscp`, 'is required (only the best-effort class defaults to 0)');
  if (basePrice !== undefined && maxPrice !== undefined && maxPrice < basePrice) r.add(`${p}.maxPrice`, 'must be at least basePrice');
  const excess = readExcess(r, o, p, bestEffort);
  if (r.issues.length !== before || id === undefined || basePrice === undefined || target === undefined || share === undefined || !excess) return undefined;
  return {
    id,
    name: name ?? id,
    basePrice,
    maxPrice: maxPrice ?? basePrice * DEFAULT_MAX_PRICE_FACTOR,
    target,
    share,
    dscp: dscp ?? 0,
    bestEffort,
    excess: excess.excess,
    policing: excess.policing,
  };
}

/** The colour policy an excess policy stands for. */
export function policingOf(excess: ExcessPolicy): PolicingConfig {
  return excess === 'degrade' ? { green: 'forward', yellow: 'downgrade', red: 'downgrade' } : { green: 'forward', yellow: 'drop', red: 'drop' };
}

/** The excess policy a colour policy amounts to: out-of-profile traffic is degraded when either colour is. */
export function excessOf(policing: PolicingConfig): ExcessPolicy {
  return policing.yellow === 'downgrade' || policing.red === 'downgrade' ? 'degrade' : 'drop';
}

/**
 * `excess` is the knob; `policing` (the colours it maps onto) is still read, so configs
 * written before `excess` load as they did. Given both, they must agree.
 */
function readExcess(r: Reader, o: Obj, p: string, bestEffort: boolean): { excess: ExcessPolicy; policing: PolicingConfig } | undefined {
  const before = r.issues.length;
  const excess = r.oneOf(o, 'excess', p, EXCESS_POLICIES);
  if (bestEffort && excess === 'degrade') r.add(`${p}.excess`, 'the best-effort class has no lower class to degrade to');
  const defaults = policingOf(excess ?? 'drop');
  const pol = r.section(o, 'policing', p, ['green', 'yellow', 'red']);
  if (!pol) return undefined;
  const pp = `${p}.policing`;
  const green = r.oneOf(pol, 'green', pp, ['forward'] as const) ?? defaults.green;
  const yellow = r.oneOf(pol, 'yellow', pp, POLICING_ACTIONS) ?? defaults.yellow;
  const red = r.oneOf(pol, 'red', pp, ['downgrade', 'drop'] as const) ?? defaults.red;
  if (bestEffort) {
    if (yellow === 'downgrade') r.add(`${pp}.yellow`, 'the best-effort class has no lower class to downgrade to');
    if (red === 'downgrade') r.add(`${pp}.red`, 'the best-effort class has no lower class to downgrade to');
  }
  const policing: PolicingConfig = { green, yellow, red };
  const implied = excessOf(policing);
  if (excess !== undefined && excess !== implied) {
    r.add(`${p}.excess`, `is ${excess} but ${pp} ${implied === 'degrade' ? 'downgrades' : 'drops'} out-of-profile traffic; give one of them`);
  }
  if (r.issues.length !== before) return undefined;
  return { excess: excess ?? implied, policing };
}

/** "path: message" lines, as the CLI prints them. */
export function formatIssues(issues: readonly ConfigIssue[]): string {
  return issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('\n');
}
