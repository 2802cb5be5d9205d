// The shape of `payflow.yaml` after validation: every field present, units resolved
// (rates in bits/s, durations in ms, prices in currency units per Mbit/s per second).
// The service-class fields follow the pricing seed (004, section 5): base price Pbase_i,
// price limit Pmax_i, fill factor f_i = T_i / Cmax_i ("target"), and Cmax_i given as a
// share of each link's capacity (section 4's per-class capacity; PayFlow's preorder).

/** What the ingress meter does with traffic of one colour (RFC 2697/2698 colours). */
export type PolicingAction = 'forward' | 'downgrade' | 'drop';

/**
 * What happens to a reserved flow's traffic beyond its paid rate (the pricing paper: a flow
 * over its specification "is degraded or its packets dropped"): `drop`, or `degrade`, which
 * re-marks it to the next lower class, down to best effort. It sets the colour policy
 * (`degrade`: yellow and red downgraded; `drop`: both dropped).
 */
export type ExcessPolicy = 'drop' | 'degrade';

export interface PolicingConfig {
  /** conforming traffic: always forwarded in the reserved class */
  green: 'forward';
  /** exceeds the committed rate: forward, downgrade to best effort, or drop */
  yellow: PolicingAction;
  /** exceeds the peak / excess burst: downgrade or drop */
  red: Exclude<PolicingAction, 'forward'>;
}

export interface ServiceClassConfig {
  /** short identifier used in the API and the store, e.g. "gold" */
  id: string;
  /** display name on the menu */
  name: string;
  /** Pbase_i: currency units per Mbit/s per second while demand is at or below target */
  basePrice: number;
  /** Pmax_i: the price when demand reaches Cmax_i */
  maxPrice: number;
  /** f_i = T_i / Cmax_i, in (0, 1]; 1 means the price never rises (best effort) */
  target: number;
  /** Cmax_i as a fraction of each link's capacity, in (0, 1]; shares sum to at most 1 */
  share: number;
  /** DSCP (0..63) that marks this class's packets (IPv4 DSCP / IPv6 traffic class) */
  dscp: number;
  /** the class unreserved traffic falls in; exactly one class has it */
  bestEffort: boolean;
  /** traffic beyond the paid rate: dropped, or degraded to the next lower class */
  excess: ExcessPolicy;
  /** the colour policy `excess` maps onto (RFC 2697/2698 colours of the wasm engine's markers) */
  policing: PolicingConfig;
}

export type PricingMode = 'exponential' | 'tatonnement';
/** Where class demand D_i comes from: reserved rates, measured traffic, or the larger of both. */
export type DemandSource = 'reserved' | 'measured' | 'max';

export interface PricingConfig {
  mode: PricingMode;
  demand: DemandSource;
  /** time constant of the demand EWMA, ms */
  demandWindowMs: number;
}

export interface ListenConfig {
  host: string;
  port: number;
}

export interface OpenFlowConfig {
  /**
   * false runs the controller without switches (reservation side only): the
   * topology comes from topology.static and reservations are admitted and recorded but not
   * enforced in any switch. Absent = true.
   */
  enabled?: boolean;
  listen: ListenConfig;
  /**
   * Switches the controller dials instead of waiting for them (OpenFlow 1.3.5 §6.3: a
   * switch may listen for its controller; Open vSwitch's `ptcp:PORT` target). Default none.
   */
  connect: ListenConfig[];
  /** echo request interval, ms */
  echoIntervalMs: number;
  /** Mutual TLS towards switches (OpenFlow 1.3.5 §6.3.3): PEM file paths. Absent = plain TCP. */
  tls?: OpenFlowTlsConfig;
  /** Datapath ids (16 hex digits) allowed to connect; absent = any switch. */
  switches?: string[];
  /**
   * Why the listen address is what it is when the config did not name one: the default is
   * all interfaces only with TLS or an allow-list, loopback otherwise. Logged at start.
   */
  listenReason?: string;
}

export interface OpenFlowTlsConfig {
  /** the controller's certificate */
  cert: string;
  /** the controller's private key */
  key: string;
  /** the CA that signed the switches' certificates */
  ca: string;
}

/** A token bucket of the HTTP API: at most `max` requests per `windowMs`. */
export interface RateLimitConfig {
  max: number;
  windowMs: number;
}

export interface HttpConfig {
  listen: ListenConfig;
  /** the whole request (headers and body) must arrive within this, ms (slow bodies are cut off) */
  requestTimeoutMs: number;
  /** an idle socket is closed after this, ms */
  connectionTimeoutMs: number;
  /** an idle keep-alive connection is closed after this, ms */
  keepAliveTimeoutMs: number;
  /** the largest request body, bytes */
  bodyLimitBytes: number;
  /** per client address (every route), and per signing key (signed routes, after the signature is checked) */
  rateLimit: { perAddress: RateLimitConfig; perKey: RateLimitConfig };
  /** a signed request's timestamp may differ from the controller's clock by at most this, ms */
  signatureWindowMs: number;
  /** how long an Idempotency-Key's answer is kept, ms */
  idempotencyRetentionMs: number;
  /** operator tokens from the config: their SHA-256 (hex) and scope */
  tokens: ApiTokenConfig[];
}

export type TokenScope = 'admin' | 'read';

export interface ApiTokenConfig {
  /** a name for the audit log */
  name: string;
  /** SHA-256 of the token, 64 hex digits (the token itself is never written down) */
  sha256: string;
  scope: TokenScope;
}

export interface StatsConfig {
  /** port, meter and flow stats poll interval, ms */
  pollIntervalMs: number;
}

export interface TopologyConfig {
  /** how often LLDP probes go out of every port, ms */
  lldpIntervalMs: number;
  /** a link not seen for this long is removed, ms */
  linkTimeoutMs: number;
  /** a host not seen for this long is forgotten, ms */
  hostTimeoutMs: number;
  /** switches, links and hosts given in the config instead of discovered (absent = none) */
  static?: StaticTopologyConfig;
}

export interface StaticPortRef {
  /** datapath id as a 16-digit lower-case hex string */
  dpid: string;
  port: number;
}

/**
 * A topology written down (for controllers run without switches and for tests):
 * every link is bidirectional; the switches and their ports are the ones the links and
 * hosts name. Capacities come from `links` (defaultCapacity, overrides) as for discovered ones.
 */
export interface StaticTopologyConfig {
  links: { a: StaticPortRef; b: StaticPortRef }[];
  hosts: { mac: string; at: StaticPortRef; ips: string[] }[];
}

export interface LinkCapacityOverride {
  /** datapath id as a 16-digit lower-case hex string */
  dpid: string;
  /** the egress port: the override applies to the link direction leaving this port */
  port: number;
  capacityBps: number;
}

/**
 * Egress queues on switch ports that are interfaces of this machine (Linux tc, for Open
 * vSwitch's userspace datapath). `auto` shapes a port only when its root qdisc is the
 * kernel's default or the controller's own, and otherwise leaves it alone and takes the
 * rate it finds there (a Mininet `--link tc` limit) as the link's capacity; `on` replaces
 * any root qdisc; `off` never runs tc.
 */
export interface EgressConfig {
  shape: 'auto' | 'on' | 'off';
  /**
   * Switches whose ports are on another host: the `payflow egress-agent` there applies the
   * queues (over mutual TLS with openflow.tls when configured). Switches not listed are
   * shaped here, and only on ports Open vSwitch on this machine confirms as theirs.
   */
  agents: EgressAgentConfig[];
}

export interface EgressAgentConfig {
  /** datapath id as a 16-digit lower-case hex string */
  dpid: string;
  /** where that switch's host runs `payflow egress-agent` */
  address: ListenConfig;
}

export interface LinksConfig {
  /** capacity used when neither an override nor the port's curr_speed gives one, bits/s */
  defaultCapacityBps: number;
  /** take capacities from OpenFlow port features (curr_speed) when no override is given */
  usePortSpeed: boolean;
  overrides: LinkCapacityOverride[];
}

export interface ReservationsConfig {
  minRateBps: number;
  maxRateBps: number;
  minDurationMs: number;
  maxDurationMs: number;
  /** meter burst, expressed as time at the reserved rate, ms */
  burstMs: number;
  /** how long a quote stays valid, ms */
  quoteTtlMs: number;
  /** unused quotes are deleted this long after they expired, ms */
  quoteRetentionMs: number;
  /** the fraction of a cancellation's pro-rata refund the operator keeps, 0 … 1 */
  cancelFee: number;
  /** at most this many installing or active reservations per payer */
  maxActivePerPayer: number;
  /** a voucher extends a reservation only up to its channel's timeout minus this, ms (time left to settle) */
  channelSettleMarginMs: number;
  /** a channel whose timeout is nearer than this is refused, ms (more than the settle margin) */
  channelMinLifetimeMs: number;
  /** what happens to a payment that cannot buy what it was sent for */
  stranded: StrandedConfig;
}

/**
 * A payment that cannot buy what it was sent for (its quote expired or was used, it paid
 * too little, the reservation it extends ended): `credit` makes it pay for a new quote at
 * the old price, `refund` pays it back; either is claimed by the payer within graceMs of
 * the quote's expiry.
 */
export interface StrandedConfig {
  policy: 'credit' | 'refund';
  graceMs: number;
}

export type LedgerConfig =
  | { kind: 'local'; testbed: boolean; baseUnitsPerCurrencyUnit: number }
  | { kind: 'iota'; rpcUrl: string; keyFile?: string; operatorAddress?: string; coinType?: string; baseUnitsPerCurrencyUnit: number };

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface PayflowConfig {
  /** SQLite store and local ledger live here */
  dataDir: string;
  log: { level: LogLevel };
  openflow: OpenFlowConfig;
  http: HttpConfig;
  ledger: LedgerConfig;
  pricing: PricingConfig;
  stats: StatsConfig;
  topology: TopologyConfig;
  links: LinksConfig;
  egress: EgressConfig;
  reservations: ReservationsConfig;
  classes: ServiceClassConfig[];
}
