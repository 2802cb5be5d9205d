import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig, validateConfig, parseConfigText, loadConfigFile, loadConfig, ConfigError, type ConfigIssue } from '../../src/config/index.js';

function issuesOf(raw: unknown): ConfigIssue[] {
  const r = validateConfig(raw);
  if (r.ok) throw new Error('expected the config to be refused');
  return r.issues;
}
function issuesOfYaml(text: string): ConfigIssue[] {
  const r = parseConfigText(text);
  if (r.ok) throw new Error('expected the config to be refused');
  return r.issues;
}
function ok(raw: unknown) {
  const r = validateConfig(raw);
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r.issues)}`);
  return r.config;
}
function okYaml(text: string) {
  const r = parseConfigText(text);
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r.issues)}`);
  return r.config;
}
/** An issue at exactly this path whose message matches. */
function expectIssue(issues: ConfigIssue[], path: string, message: RegExp | string): void {
  const hit = issues.find((i) => i.path === path && (typeof message === 'string' ? i.message === message : message.test(i.message)));
  if (!hit) throw new Error(`no issue at ${path} matching ${String(message)}; got ${JSON.stringify(issues)}`);
}

const goodClasses = () => [
  { id: 'gold', basePrice: 0.16, target: 0.5, share: 0.4, dscp: 46 },
  { id: 'silver', basePrice: 0.09, target: 0.7, share: 0.3, dscp: 26 },
  { id: 'be', basePrice: 0.04, target: 1, share: 0.3, bestEffort: true },
];

describe('defaults', () => {
  it('no config gives the three seed classes and the documented defaults', () => {
    const c = loadConfig();
    expect(c.classes.map((k) => [k.id, k.basePrice, k.target, k.bestEffort])).toEqual([
      ['gold', 0.16, 0.5, false],
      ['silver', 0.09, 0.7, false],
      ['best-effort', 0.04, 1, true],
    ]);
    for (const k of c.classes) expect(k.maxPrice).toBeCloseTo(k.basePrice * 10, 12);
    expect(c.classes.reduce((s, k) => s + k.share, 0)).toBeLessThanOrEqual(1);
    expect(c.classes.map((k) => k.dscp)).toEqual([46, 26, 0]);
    expect(c.ledger).toEqual({ kind: 'local', testbed: false, baseUnitsPerCurrencyUnit: 1_000_000 });
    expect(c.dataDir).toBe('./payflow-data');
    expect(c.openflow.listen).toEqual({ host: '127.0.0.1', port: 6653 });
    expect(c.http.listen).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(c.pricing).toEqual({ mode: 'exponential', demand: 'max', demandWindowMs: 10_000 });
    expect(c.stats.pollIntervalMs).toBe(1000);
    expect(c.links).toEqual({ defaultCapacityBps: 1e9, usePortSpeed: true, overrides: [] });
    // what the switches have always done with excess: every class drops it unless configured
    expect(c.classes.map((x) => x.excess)).toEqual(['drop', 'drop', 'drop']);
    expect(c.classes[0]!.policing).toEqual({ green: 'forward', yellow: 'drop', red: 'drop' });
    expect(c.classes[2]!.policing).toEqual({ green: 'forward', yellow: 'drop', red: 'drop' });
  });

  it('an empty file, a null document and an empty mapping all give the defaults', () => {
    expect(okYaml('')).toEqual(defaultConfig());
    expect(okYaml('# only a comment\n')).toEqual(defaultConfig());
    expect(okYaml('{}')).toEqual(defaultConfig());
    expect(validateConfig(null)).toEqual({ ok: true, config: defaultConfig() });
  });

  it('defaultConfig returns an independent copy', () => {
    const a = defaultConfig();
    a.classes[0]!.basePrice = 99;
    a.classes[0]!.policing.yellow = 'downgrade';
    expect(defaultConfig().classes[0]!.basePrice).toBe(0.16);
    expect(defaultConfig().classes[0]!.policing.yellow).toBe('drop');
  });

  it('the committed example file is valid and matches the documented values', () => {
    const c = loadConfigFile(join(import.meta.dirname, '../../examples/payflow.yaml'));
    expect(c.classes.map((k) => k.id)).toEqual(['gold', 'silver', 'best-effort']);
    expect(c.classes.map((k) => k.excess)).toEqual(['drop', 'degrade', 'drop']);
    expect(c.links.overrides.length).toBeGreaterThan(0);
  });
});

describe('where the OpenFlow listener listens', () => {
  it('on loopback by default, on all interfaces by default only with TLS or an allow-list, and where told', () => {
    expect(defaultConfig().openflow.listen.host).toBe('127.0.0.1');
    expect(defaultConfig().openflow.listenReason).toMatch(/loopback only/);
    const tls = ok({ openflow: { tls: { cert: 'c.pem', key: 'k.pem', ca: 'ca.pem' } } });
    expect(tls.openflow.listen).toEqual({ host: '0.0.0.0', port: 6653 });
    expect(tls.openflow.tls).toEqual({ cert: 'c.pem', key: 'k.pem', ca: 'ca.pem' });
    const listed = ok({ openflow: { switches: ['1', '00:00:00:00:00:00:00:02'] } });
    expect(listed.openflow.listen.host).toBe('0.0.0.0');
    expect(listed.openflow.switches).toEqual(['0000000000000001', '0000000000000002']);
    const told = ok({ openflow: { listen: '0.0.0.0:6653' } });
    expect(told.openflow.listen.host).toBe('0.0.0.0');
    expect(told.openflow.listenReason).toBeUndefined();
  });
});

describe('a full, valid file', () => {
  it('is read with units resolved', () => {
    const c = okYaml(`
dataDir: /var/lib/payflow
log: { level: debug }
openflow: { listen: "[::]:6633", echoInterval: 10s, connect: ["10.0.0.5:6634", "[fd00::7]:6634"] }
http: { listen: "0.0.0.0:9090", requestTimeout: 5s, bodyLimit: 32768, rateLimit: { perAddress: { max: 50, window: 10s } } }
ledger: { kind: iota, rpcUrl: "https://api.testnet.iota.cafe", keyFile: ./key }
pricing: { mode: tatonnement, demand: measured, demandWindow: 30s }
stats: { pollInterval: 500ms }
topology: { lldpInterval: 2s, linkTimeout: 7s, hostTimeout: 10m }
links:
  defaultCapacity: 100mbit
  usePortSpeed: false
  overrides:
    - { dpid: "00:00:00:00:00:00:00:01", port: 2, capacity: 10mbit }
    - { dpid: 2, port: 1, capacity: 1.5 Mbps }
reservations: { minRate: 64kbit, maxRate: 1gbit, minDuration: 10s, maxDuration: 1d, burst: 20ms, quoteTtl: 1m, quoteRetention: 10m, cancelFee: 0.05, maxActivePerPayer: 3 }
classes:
  - { id: gold, name: Gold, basePrice: 0.16, maxPrice: 2, target: 0.5, share: 0.5, dscp: 46, policing: { yellow: drop } }
  - { id: be, basePrice: 0.04, target: 1, share: 0.5, bestEffort: true }
`);
    expect(c.dataDir).toBe('/var/lib/payflow');
    expect(c.log.level).toBe('debug');
    expect(c.openflow).toEqual({
      listen: { host: '::', port: 6633 },
      connect: [{ host: '10.0.0.5', port: 6634 }, { host: 'fd00::7', port: 6634 }],
      echoIntervalMs: 10_000,
    });
    expect(c.http.listen).toEqual({ host: '0.0.0.0', port: 9090 });
    expect(c.http.rateLimit).toEqual({ perAddress: { max: 50, windowMs: 10_000 }, perKey: { max: 600, windowMs: 60_000 } });
    expect(c.http).toMatchObject({ requestTimeoutMs: 5_000, bodyLimitBytes: 32_768 });
    expect(c.ledger).toEqual({ kind: 'iota', rpcUrl: 'https://api.testnet.iota.cafe', keyFile: './key', baseUnitsPerCurrencyUnit: 1_000_000_000 });
    expect(c.pricing).toEqual({ mode: 'tatonnement', demand: 'measured', demandWindowMs: 30_000 });
    expect(c.stats.pollIntervalMs).toBe(500);
    expect(c.topology).toEqual({ lldpIntervalMs: 2000, linkTimeoutMs: 7000, hostTimeoutMs: 600_000 });
    expect(c.links).toEqual({
      defaultCapacityBps: 1e8,
      usePortSpeed: false,
      overrides: [
        { dpid: '0000000000000001', port: 2, capacityBps: 1e7 },
        { dpid: '0000000000000002', port: 1, capacityBps: 1.5e6 },
      ],
    });
    expect(c.reservations).toEqual({ minRateBps: 64_000, maxRateBps: 1e9, minDurationMs: 10_000, maxDurationMs: 86_400_000, burstMs: 20, quoteTtlMs: 60_000, quoteRetentionMs: 600_000, cancelFee: 0.05, maxActivePerPayer: 3, channelSettleMarginMs: 600_000, channelMinLifetimeMs: 900_000, stranded: { policy: 'refund', graceMs: 3_600_000 } });
    expect(c.classes[0]).toEqual({ id: 'gold', name: 'Gold', basePrice: 0.16, maxPrice: 2, target: 0.5, share: 0.5, dscp: 46, bestEffort: false, excess: 'drop', policing: { green: 'forward', yellow: 'drop', red: 'drop' } });
    expect(c.classes[1]).toMatchObject({ id: 'be', name: 'be', maxPrice: 0.4, dscp: 0, bestEffort: true });
  });

  it('a partial file keeps the defaults of everything it does not mention', () => {
    const c = okYaml('stats: { pollInterval: 2s }\n');
    expect({ ...c, stats: defaultConfig().stats }).toEqual(defaultConfig());
    expect(c.stats.pollIntervalMs).toBe(2000);
  });
});

describe('classes.<id>.excess', () => {
  const withSilver = (extra: Record<string, unknown>) => ({ classes: [goodClasses()[0], { ...goodClasses()[1], ...extra }, goodClasses()[2]] });
  const silver = (doc: unknown) => {
    const r = validateConfig(doc);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    return r.config.classes[1]!;
  };

  it('degrade downgrades both out-of-profile colours; drop drops both', () => {
    expect(silver(withSilver({ excess: 'degrade' }))).toMatchObject({ excess: 'degrade', policing: { green: 'forward', yellow: 'downgrade', red: 'downgrade' } });
    expect(silver(withSilver({ excess: 'drop' }))).toMatchObject({ excess: 'drop', policing: { green: 'forward', yellow: 'drop', red: 'drop' } });
    expect(silver(withSilver({}))).toMatchObject({ excess: 'drop' });
  });

  it('a config written with policing only loads as before, and its excess says what it amounts to', () => {
    expect(silver(withSilver({ policing: { yellow: 'downgrade', red: 'drop' } }))).toMatchObject({ excess: 'degrade', policing: { yellow: 'downgrade', red: 'drop' } });
    expect(silver(withSilver({ policing: { yellow: 'forward', red: 'drop' } }))).toMatchObject({ excess: 'drop', policing: { yellow: 'forward', red: 'drop' } });
    // both given and in agreement: policing refines the colours
    expect(silver(withSilver({ excess: 'degrade', policing: { red: 'drop' } }))).toMatchObject({ excess: 'degrade', policing: { yellow: 'downgrade', red: 'drop' } });
  });

  it('a bad excess leaves nothing half-read: the whole document is refused', () => {
    const r = validateConfig(withSilver({ excess: 'degrade', policing: { yellow: 'drop', red: 'drop' } }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.map((i) => i.path)).toEqual(['classes[1].excess']);
  });
});

describe('every validation error names its path', () => {
  it.each<[string, unknown, string, RegExp | string]>([
    ['target above 1', { classes: [goodClasses()[0], { ...goodClasses()[1], target: 1.5 }, goodClasses()[2]] }, 'classes[1].target', 'must be between 0 and 1'],
    ['target zero', { classes: [{ ...goodClasses()[0], target: 0 }, goodClasses()[1], goodClasses()[2]] }, 'classes[0].target', 'must be between 0 and 1'],
    ['share negative', { classes: [{ ...goodClasses()[0], share: -0.1 }, goodClasses()[1], goodClasses()[2]] }, 'classes[0].share', 'must be between 0 and 1'],
    ['basePrice zero', { classes: [{ ...goodClasses()[0], basePrice: 0 }, goodClasses()[1], goodClasses()[2]] }, 'classes[0].basePrice', /must be between 0 and/],
    ['basePrice a string', { classes: [{ ...goodClasses()[0], basePrice: 'cheap' }, goodClasses()[1], goodClasses()[2]] }, 'classes[0].basePrice', 'must be a finite number'],
    ['maxPrice below base', { classes: [{ ...goodClasses()[0], maxPrice: 0.1 }, goodClasses()[1], goodClasses()[2]] }, 'classes[0].maxPrice', 'must be at least basePrice'],
    ['dscp out of range', { classes: [{ ...goodClasses()[0], dscp: 64 }, goodClasses()[1], goodClasses()[2]] }, 'classes[0].dscp', 'must be between 0 and 63'],
    ['dscp fractional', { classes: [{ ...goodClasses()[0], dscp: 4.5 }, goodClasses()[1], goodClasses()[2]] }, 'classes[0].dscp', 'must be an integer'],
    ['dscp missing', { classes: [{ id: 'gold', basePrice: 1, target: 0.5, share: 0.4 }, goodClasses()[2]] }, 'classes[0].dscp', /is required/],
    ['duplicate dscp', { classes: [goodClasses()[0], { ...goodClasses()[1], dscp: 46 }, goodClasses()[2]] }, 'classes[1].dscp', /duplicates classes\[0\]\.dscp 46/],
    ['duplicate id', { classes: [goodClasses()[0], { ...goodClasses()[1], id: 'gold' }, goodClasses()[2]] }, 'classes[1].id', /duplicates classes\[0\]\.id/],
    ['bad id', { classes: [{ ...goodClasses()[0], id: 'Gold Class' }, goodClasses()[1], goodClasses()[2]] }, 'classes[0].id', /must match a lower-case identifier/],
    ['missing id', { classes: [{ basePrice: 1, target: 0.5, share: 0.4, dscp: 1 }, goodClasses()[2]] }, 'classes[0].id', 'is required'],
    ['missing share', { classes: [{ id: 'x', basePrice: 1, target: 0.5, dscp: 1 }, goodClasses()[2]] }, 'classes[0].share', 'is required'],
    ['unknown class key', { classes: [{ ...goodClasses()[0], colour: 'gold' }, goodClasses()[1], goodClasses()[2]] }, 'classes[0].colour', /unknown key/],
    ['class not a mapping', { classes: ['gold', goodClasses()[2]] }, 'classes[0]', /must be a mapping/],
    ['classes not a list', { classes: { gold: {} } }, 'classes', 'must be a list of service classes'],
    ['no classes', { classes: [] }, 'classes', 'must list at least one service class'],
    ['too many classes', { classes: Array.from({ length: 9 }, (_, i) => ({ id: `c${i}`, basePrice: 1, target: 1, share: 0.1, dscp: i })) }, 'classes', 'must list at most 8 service classes'],
    ['iota bad operator address', { ledger: { kind: 'iota', rpcUrl: 'https://x', operatorAddress: 'alice' } }, 'ledger.operatorAddress', /0x-prefixed hex address/],
    ['shares over 1', { classes: [{ ...goodClasses()[0], share: 0.6 }, goodClasses()[1], goodClasses()[2]] }, 'classes', /shares sum to 1.2, must be at most 1/],
    ['no best effort', { classes: [goodClasses()[0], goodClasses()[1]] }, 'classes', /exactly one class must have bestEffort: true \(found 0\)/],
    ['two best effort', { classes: [{ ...goodClasses()[0], bestEffort: true }, goodClasses()[1], goodClasses()[2]] }, 'classes', /found 2/],
    ['bestEffort not boolean', { classes: [{ ...goodClasses()[0], bestEffort: 'yes' }, goodClasses()[1], goodClasses()[2]] }, 'classes[0].bestEffort', 'must be true or false'],
    ['policing green', { classes: [{ ...goodClasses()[0], policing: { green: 'drop' } }, goodClasses()[1], goodClasses()[2]] }, 'classes[0].policing.green', 'must be one of: forward'],
    ['policing yellow', { classes: [{ ...goodClasses()[0], policing: { yellow: 'paint' } }, goodClasses()[1], goodClasses()[2]] }, 'classes[0].policing.yellow', 'must be one of: forward, downgrade, drop'],
    ['policing red forward', { classes: [{ ...goodClasses()[0], policing: { red: 'forward' } }, goodClasses()[1], goodClasses()[2]] }, 'classes[0].policing.red', 'must be one of: downgrade, drop'],
    ['best effort downgrade', { classes: [goodClasses()[0], goodClasses()[1], { ...goodClasses()[2], policing: { yellow: 'downgrade' } }] }, 'classes[2].policing.yellow', /no lower class/],
    ['excess unknown', { classes: [{ ...goodClasses()[0], excess: 'shape' }, goodClasses()[1], goodClasses()[2]] }, 'classes[0].excess', 'must be one of: drop, degrade'],
    ['best effort degrade', { classes: [goodClasses()[0], goodClasses()[1], { ...goodClasses()[2], excess: 'degrade' }] }, 'classes[2].excess', /no lower class to degrade to/],
    ['excess contradicts policing', { classes: [{ ...goodClasses()[0], excess: 'drop', policing: { yellow: 'downgrade' } }, goodClasses()[1], goodClasses()[2]] }, 'classes[0].excess', /is drop but classes\[0\]\.policing downgrades/],
    ['policing unknown key', { classes: [{ ...goodClasses()[0], policing: { blue: 'drop' } }, goodClasses()[1], goodClasses()[2]] }, 'classes[0].policing.blue', /unknown key/],
    ['unknown top key', { clases: [] }, 'clases', /unknown key \(expected one of: dataDir, log/],
    ['unknown nested key', { openflow: { lisen: '0.0.0.0:1' } }, 'openflow.lisen', /unknown key \(expected one of: enabled, listen, connect, echoInterval, tls, switches\)/],
    ['connect not a list', { openflow: { connect: '10.0.0.5:6634' } }, 'openflow.connect', /must be a list of "host:port"/],
    ['tls without ca', { openflow: { tls: { cert: 'c.pem', key: 'k.pem' } } }, 'openflow.tls', /needs cert, key and ca/],
    ['switches not a list', { openflow: { switches: '1' } }, 'openflow.switches', /must be a list of datapath ids/],
    ['switches entry bad', { openflow: { switches: ['1', 'zz'] } }, 'openflow.switches[1]', /hex/],
    ['switches twice', { openflow: { switches: ['1', '0x1'] } }, 'openflow.switches[1]', /listed twice/],
    ['connect entry bad', { openflow: { connect: ['10.0.0.5:6634', 'switch-two'] } }, 'openflow.connect[1]', /must be "host:port"/],
    ['connect entry not a string', { openflow: { connect: [6634] } }, 'openflow.connect[0]', /must be a string/],
    ['connect port zero', { openflow: { connect: ['10.0.0.5:0'] } }, 'openflow.connect[0]', 'port must be between 1 and 65535'],
    ['connect twice', { openflow: { connect: ['10.0.0.5:6634', '10.0.0.5:6634'] } }, 'openflow.connect[1]', /listed twice/],
    ['bad listen', { openflow: { listen: 'everywhere' } }, 'openflow.listen', /must be "host:port"/],
    ['listen port too big', { http: { listen: '127.0.0.1:70000' } }, 'http.listen', 'port must be between 0 and 65535'],
    ['listen not a string', { http: { listen: 8080 } }, 'http.listen', /must be a string/],
    ['rate limit zero', { http: { rateLimit: { perAddress: { max: 0 } } } }, 'http.rateLimit.perAddress.max', /must be between 1 and/],
    ['rate limit unknown key', { http: { rateLimit: { perHost: {} } } }, 'http.rateLimit.perHost', /unknown key/],
    ['request timeout too short', { http: { requestTimeout: '1ms' } }, 'http.requestTimeout', /.+/],
    ['token not hashed', { http: { tokens: [{ name: 'ops', sha256: 'secret', scope: 'admin' }] } }, 'http.tokens[0].sha256', /SHA-256/],
    ['token scope', { http: { tokens: [{ name: 'ops', sha256: 'a'.repeat(64), scope: 'root' }] } }, 'http.tokens[0].scope', 'must be one of: admin, read'],
    ['cancel fee above 1', { reservations: { cancelFee: 1.5 } }, 'reservations.cancelFee', 'must be between 0 and 1'],
    ['max active zero', { reservations: { maxActivePerPayer: 0 } }, 'reservations.maxActivePerPayer', /must be between 1/],
    ['section not a mapping', { http: 'localhost' }, 'http', /must be a mapping/],
    ['dataDir empty', { dataDir: '' }, 'dataDir', 'must not be empty'],
    ['log level', { log: { level: 'loud' } }, 'log.level', /must be one of: fatal, error/],
    ['pricing mode', { pricing: { mode: 'auction' } }, 'pricing.mode', 'must be one of: exponential, tatonnement'],
    ['pricing demand', { pricing: { demand: 'guess' } }, 'pricing.demand', 'must be one of: reserved, measured, max'],
    ['demand window zero', { pricing: { demandWindow: '0s' } }, 'pricing.demandWindow', /zero/],
    ['poll interval negative', { stats: { pollInterval: '-1s' } }, 'stats.pollInterval', /negative/],
    ['poll interval absurd', { stats: { pollInterval: '1000d' } }, 'stats.pollInterval', /above the maximum/],
    ['poll interval unit', { stats: { pollInterval: '1 parsec' } }, 'stats.pollInterval', /unknown unit/],
    ['link timeout vs lldp', { topology: { lldpInterval: '10s', linkTimeout: '5s' } }, 'topology.linkTimeout', /longer than topology.lldpInterval/],
    ['default capacity zero', { links: { defaultCapacity: '0mbit' } }, 'links.defaultCapacity', /zero/],
    ['default capacity infinite', { links: { defaultCapacity: Infinity } }, 'links.defaultCapacity', /finite/],
    ['usePortSpeed', { links: { usePortSpeed: 1 } }, 'links.usePortSpeed', 'must be true or false'],
    ['overrides not a list', { links: { overrides: {} } }, 'links.overrides', /must be a list/],
    ['override bad dpid', { links: { overrides: [{ dpid: 'zz', port: 1, capacity: '1mbit' }] } }, 'links.overrides[0].dpid', /hex digits/],
    ['override bad port', { links: { overrides: [{ dpid: 1, port: 0, capacity: '1mbit' }] } }, 'links.overrides[0].port', /must be between 1 and/],
    ['override missing capacity', { links: { overrides: [{ dpid: 1, port: 1 }] } }, 'links.overrides[0].capacity', 'is required'],
    ['override negative capacity', { links: { overrides: [{ dpid: 1, port: 1, capacity: '-1mbit' }] } }, 'links.overrides[0].capacity', /negative/],
    ['override duplicate', { links: { overrides: [{ dpid: 1, port: 1, capacity: '1mbit' }, { dpid: '0x1', port: 1, capacity: '2mbit' }] } }, 'links.overrides[1]', /duplicates links.overrides\[0\]/],
    ['override unknown key', { links: { overrides: [{ dpid: 1, port: 1, capacity: '1mbit', speed: 3 }] } }, 'links.overrides[0].speed', /unknown key/],
    ['min rate above max', { reservations: { minRate: '10mbit', maxRate: '1mbit' } }, 'reservations.minRate', /must not exceed reservations.maxRate/],
    ['min duration above max', { reservations: { minDuration: '2h', maxDuration: '1h' } }, 'reservations.minDuration', /must not exceed/],
    ['burst too long', { reservations: { burst: '1m' } }, 'reservations.burst', /above the maximum/],
    ['ledger kind', { ledger: { kind: 'paypal' } }, 'ledger.kind', 'must be one of: local, iota'],
    ['iota without rpcUrl', { ledger: { kind: 'iota' } }, 'ledger.rpcUrl', /is required when ledger.kind is "iota"/],
    ['iota bad rpcUrl', { ledger: { kind: 'iota', rpcUrl: 'ftp://x' } }, 'ledger.rpcUrl', /http\(s\) URL/],
    ['local with rpcUrl', { ledger: { kind: 'local', rpcUrl: 'https://x' } }, 'ledger.rpcUrl', /only applies to ledger.kind "iota"/],
    ['iota with testbed', { ledger: { kind: 'iota', rpcUrl: 'https://x', testbed: true } }, 'ledger.testbed', /only applies to ledger.kind "local"/],
    ['base units fractional', { ledger: { baseUnitsPerCurrencyUnit: 0.5 } }, 'ledger.baseUnitsPerCurrencyUnit', 'must be an integer'],
    ['document not a mapping', ['a', 'b'], '', /must be a mapping/],
  ])('%s', (_name, raw, path, message) => {
    expectIssue(issuesOf(raw), path, message);
  });

  it('reports several errors at once, each with its path', () => {
    const issues = issuesOfYaml(`
http: { listen: nowhere }
stats: { pollInterval: 0s }
bogus: 1
classes:
  - { id: gold, basePrice: 0.16, target: 2, share: 0.4, dscp: 46 }
  - { id: silver, basePrice: -1, target: 0.7, share: 0.3, dscp: 99 }
  - { id: be, basePrice: 0.04, target: 1, share: 0.3, bestEffort: true }
`);
    expect(issues.map((i) => i.path).sort()).toEqual(['bogus', 'classes[0].target', 'classes[1].basePrice', 'classes[1].dscp', 'http.listen', 'stats.pollInterval']);
  });
});

describe('YAML problems', () => {
  it('refuses syntax errors, duplicate keys and alias bombs', () => {
    expect(issuesOfYaml('classes: [\n')[0]!.message).toMatch(/^YAML:/);
    expect(issuesOfYaml('stats: {}\nstats: {}\n')[0]!.message).toMatch(/^YAML:.*[Mm]ap keys must be unique/);
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]', 'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]', 'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]', 'e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]'].join('\n');
    expect(issuesOfYaml(bomb)[0]!.message).toMatch(/^YAML:.*alias/i);
  });

  it('a scalar document is refused, not mistaken for defaults', () => {
    expectIssue(issuesOfYaml('hello'), '', /must be a mapping/);
  });
});

describe('loadConfigFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'payflow-config-'));

  it('throws a ConfigError listing every issue with the file name', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'classes:\n  - { id: gold, basePrice: 0.16, target: 7, share: 0.4, dscp: 46 }\n  - { id: be, basePrice: 0.04, target: 1, share: 0.3, bestEffort: true }\nlinks: { defaultCapacity: fast }\n');
    let error: unknown;
    try {
      loadConfigFile(file);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const ce = error as ConfigError;
    expect(ce.source).toBe(file);
    expect(ce.issues.map((i) => i.path)).toEqual(['links.defaultCapacity', 'classes[0].target']);
    expect(ce.message).toContain('classes[0].target: must be between 0 and 1');
    expect(ce.message).toContain('2 problems');
  });

  it('a missing file is a ConfigError too', () => {
    expect(() => loadConfigFile(join(dir, 'absent.yaml'))).toThrow(ConfigError);
  });

  it('a good file loads', () => {
    const file = join(dir, 'good.yaml');
    writeFileSync(file, 'http: { listen: "127.0.0.1:0" }\n');
    expect(loadConfig(file).http.listen).toEqual({ host: '127.0.0.1', port: 0 });
    expect(readFileSync(file, 'utf8')).toContain('listen');
  });
});

describe('docs/configuration.md', () => {
  const doc = readFileSync(join(import.meta.dirname, '../../docs/configuration.md'), 'utf8');

  it('its YAML example is a valid configuration', () => {
    const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks.length).toBeGreaterThan(0);
    for (const b of blocks) {
      const c = okYaml(b);
      expect(c.classes.length).toBeGreaterThan(0);
    }
  });

  it('documents every key that the validator accepts', () => {
    const keys = ['dataDir', 'log.level', 'openflow.listen', 'openflow.echoInterval', 'http.listen', 'ledger.kind', 'ledger.testbed', 'ledger.rpcUrl', 'ledger.keyFile', 'ledger.operatorAddress', 'ledger.coinType', 'ledger.baseUnitsPerCurrencyUnit', 'pricing.mode', 'pricing.demand', 'pricing.demandWindow', 'stats.pollInterval', 'topology.lldpInterval', 'topology.linkTimeout', 'topology.hostTimeout', 'links.defaultCapacity', 'links.usePortSpeed', 'links.overrides', 'reservations.minRate', 'reservations.maxRate', 'reservations.minDuration', 'reservations.maxDuration', 'reservations.burst', 'reservations.quoteTtl', 'basePrice', 'maxPrice', 'target', 'share', 'dscp', 'bestEffort', 'excess', 'policing.green', 'policing.yellow', 'policing.red'];
    for (const k of keys) expect(doc, k).toContain(`\`${k}\``);
    // and the validator really knows each of them: an unknown key would be refused
    for (const k of keys.filter((x) => x.includes('.') && !x.startsWith('policing'))) {
      const [section, key] = k.split('.') as [string, string];
      const issues = validateConfig({ [section]: { [key]: Symbol('bad') } });
      expect(issues.ok).toBe(false);
      if (!issues.ok) expect(issues.issues.some((i) => i.message.startsWith('unknown key')), k).toBe(false);
    }
  });
});
