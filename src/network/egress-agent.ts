// The egress agent: DSCP-to-queue classification run by the host a switch runs on, for
// switches that are not on the controller's machine. Open vSwitch's own queues (an OVSDB
// `linux-htb` QoS row with Queue rows) do not carry traffic on the userspace datapath:
// `set_queue` leaves every packet in queue 0 and nothing classifies on DSCP
// (docs/security.md, "Egress queues where the switch is"). So the switch's host runs
// `payflow egress-agent`, and the controller asks it for the same htb classes and u32
// filters that egress.ts applies locally.
//
// The protocol: newline-delimited JSON over TCP, or over mutual TLS with the controller's
// OpenFlow certificates (the controller presents `openflow.tls.cert`, the agent its own;
// each checks the other against its CA, as OpenFlow 1.3.5 §6.3.3 does for switches).
// One request per line, answered in order by one line with the same `id`:
//
//   { "id": 1, "op": "inspect", "port": { "name": "s1-eth1", "dpid": "0000000000000001", "portNo": 1 } }
//     → { "id": 1, "ok": true, "root": { "owner": "default" | "controller" | "other", ... } }
//   { "id": 2, "op": "apply", "ports": [ { "name", "dpid", "portNo", "capacityBps" } ],
//     "classes": [ { "id", "dscp", "share", "bestEffort" } ] }
//     → { "id": 2, "ok": true, "applied": ["s1-eth1"], "refused": [ { "name", "reason" } ] }
//   any failure → { "id": …, "ok": false, "error": "…" }
//
// The agent never trusts a name it is sent: a port is shaped only when it is a
// well-formed interface name that `ip link` on the agent's host lists, is not a loopback,
// and (unless the agent was started without the check) Open vSwitch there reports it as
// that OpenFlow port of the bridge with that datapath id. A line longer than 64 KiB or
// not JSON closes the connection.
import { execFile } from 'node:child_process';
import { createServer as createTcpServer, connect as tcpConnect, type AddressInfo, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import { promisify } from 'node:util';
import { applyEgressScheduling, inspectRoot, isInterfaceName, isLocalPortOf, type EgressClass, type EgressPort, type RootQdisc } from './egress.js';

const execFileAsync = promisify(execFile);

/** The agent's default TCP port. */
export const EGRESS_AGENT_PORT = 6660;
const MAX_LINE = 64 * 1024;
const REQUEST_TIMEOUT_MS = 20_000;

/** PEM contents (not paths) for mutual TLS. */
export interface TlsMaterial {
  cert: Buffer | string;
  key: Buffer | string;
  ca: Buffer | string;
}

/** A switch port as the controller knows it: the name the switch advertised, its datapath and number. */
export interface AgentPortRef {
  name: string;
  /** 16 hex digits */
  dpid: string;
  portNo: number;
}

export type AgentClass = EgressClass;

type Request =
  | { id: number; op: 'inspect'; port: AgentPortRef }
  | { id: number; op: 'apply'; ports: (AgentPortRef & { capacityBps: number })[]; classes: AgentClass[] };

/** A request before it is numbered (Omit applied to each member of the union). */
type Unnumbered<R> = R extends unknown ? Omit<R, 'id'> : never;
type RequestBody = Unnumbered<Request>;

type Answer =
  | { id: number; ok: true; root?: RootQdisc; applied?: string[]; refused?: { name: string; reason: string }[] }
  | { id: number; ok: false; error: string };

/** Calls `onLine` for each newline-terminated line; a line longer than MAX_LINE closes the socket. */
function onLines(socket: Socket, onLine: (line: string) => void): void {
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while (!socket.destroyed && (nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      onLine(line);
    }
    if (buffered.length > MAX_LINE) socket.destroy();
  });
}

// ---- the agent ----------------------------------------------------------------------------

export interface EgressAgentOptions {
  host?: string;
  port?: number;
  /** mutual TLS: the agent's certificate and key, and the CA that signed the controller's */
  tls?: TlsMaterial;
  /** ask Open vSwitch whether a name is that datapath's port (default true) */
  checkOvs?: boolean;
  /** run nothing, only say what would run (tests without root) */
  dryRun?: boolean;
  tc?: string;
  /** called with one line per decision (shaped, refused) */
  log?: (line: string) => void;
}

/** The interfaces `ip link` lists on this host, with whether each is a loopback. */
export async function localInterfaces(): Promise<Map<string, { loopback: boolean }>> {
  const { stdout } = await execFileAsync('ip', ['-j', 'link', 'show'], { timeout: 10_000 });
  const links = JSON.parse(stdout) as { ifname?: unknown; flags?: unknown; link_type?: unknown }[];
  const out = new Map<string, { loopback: boolean }>();
  for (const l of links) {
    if (typeof l.ifname !== 'string') continue;
    const flags = Array.isArray(l.flags) ? l.flags : [];
    out.set(l.ifname, { loopback: flags.includes('LOOPBACK') || l.link_type === 'loopback' });
  }
  return out;
}

export class EgressAgent {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly checkOvs: boolean;

  private constructor(private readonly options: EgressAgentOptions) {
    this.checkOvs = options.checkOvs ?? true;
    const onSocket = (socket: Socket): void => this.serve(socket);
    this.server = options.tls
      ? createTlsServer({ cert: options.tls.cert, key: options.tls.key, ca: options.tls.ca, requestCert: true, rejectUnauthorized: true }, onSocket)
      : createTcpServer(onSocket);
    this.server.on('tlsClientError', () => {});
  }

  static async start(options: EgressAgentOptions = {}): Promise<EgressAgent> {
    const agent = new EgressAgent(options);
    await new Promise<void>((resolve, reject) => {
      agent.server.once('error', reject);
      agent.server.listen(options.port ?? EGRESS_AGENT_PORT, options.host ?? '127.0.0.1', () => resolve());
    });
    return agent;
  }

  get address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Why this port may not be shaped here, or undefined when it may. */
  async refusal(port: AgentPortRef): Promise<string | undefined> {
    if (!isInterfaceName(port.name)) return 'not an interface name';
    const links = await localInterfaces();
    const link = links.get(port.name);
    if (!link) return 'no such interface on this host';
    if (link.loopback) return 'a loopback interface';
    if (this.checkOvs) {
      const dpid = /^[0-9a-f]{16}$/.test(port.dpid) ? BigInt(`0x${port.dpid}`) : undefined;
      if (dpid === undefined || !(await isLocalPortOf(port.name, dpid, port.portNo))) return `not port ${port.portNo} of datapath ${port.dpid} here`;
    }
    return undefined;
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let chain = Promise.resolve();
    onLines(socket, (line) => {
      chain = chain.then(async () => {
        const answer = await this.handle(line);
        if (answer === undefined) socket.destroy();
        else if (!socket.destroyed) socket.write(JSON.stringify(answer) + '\n');
      });
    });
  }

  private async handle(line: string): Promise<Answer | undefined> {
    let req: Request;
    try {
      req = parseRequest(JSON.parse(line));
    } catch {
      return undefined;
    }
    try {
      if (req.op === 'inspect') {
        const why = await this.refusal(req.port);
        if (why) return { id: req.id, ok: false, error: `${req.port.name}: ${why}` };
        return { id: req.id, ok: true, root: await inspectRoot(req.port.name, this.options.tc) };
      }
      const allowed: EgressPort[] = [];
      const refused: { name: string; reason: string }[] = [];
      for (const p of req.ports) {
        const why = await this.refusal(p);
        if (why) refused.push({ name: p.name, reason: why });
        else allowed.push({ name: p.name, capacityBps: p.capacityBps });
      }
      for (const r of refused) this.options.log?.(`refused ${JSON.stringify(r.name)}: ${r.reason}`);
      await applyEgressScheduling(allowed, req.classes, { tc: this.options.tc, dryRun: this.options.dryRun });
      for (const p of allowed) this.options.log?.(`shaped ${p.name} at ${p.capacityBps} bit/s`);
      return { id: req.id, ok: true, applied: allowed.map((p) => p.name), refused };
    } catch (err) {
      return { id: req.id, ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  }
}

/** A request line checked field by field; throws on anything else. */
export function parseRequest(value: unknown): Request {
  const o = value as Record<string, unknown>;
  if (!o || typeof o !== 'object' || !Number.isSafeInteger(o.id)) throw new Error('bad request');
  const id = o.id as number;
  if (o.op === 'inspect') return { id, op: 'inspect', port: parsePortRef(o.port) };
  if (o.op === 'apply') {
    if (!Array.isArray(o.ports) || !Array.isArray(o.classes) || o.ports.length > 4096 || o.classes.length > 64) throw new Error('bad request');
    const ports = o.ports.map((p: unknown) => {
      const cap = (p as Record<string, unknown>)?.capacityBps;
      if (typeof cap !== 'number' || !Number.isFinite(cap) || cap < 8000 || cap > 1e13) throw new Error('bad capacity');
      return { ...parsePortRef(p), capacityBps: cap };
    });
    const classes = o.classes.map((c: unknown): AgentClass => {
      const k = c as Record<string, unknown>;
      const ok =
        k && typeof k.id === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(k.id) &&
        Number.isInteger(k.dscp) && (k.dscp as number) >= 0 && (k.dscp as number) <= 63 &&
        typeof k.share === 'number' && k.share > 0 && k.share <= 1 && typeof k.bestEffort === 'boolean';
      if (!ok) throw new Error('bad class');
      return { id: k.id as string, dscp: k.dscp as number, share: k.share as number, bestEffort: k.bestEffort as boolean };
    });
    return { id, op: 'apply', ports, classes };
  }
  throw new Error('unknown op');
}

function parsePortRef(value: unknown): AgentPortRef {
  const p = value as Record<string, unknown>;
  if (!p || typeof p !== 'object' || typeof p.name !== 'string' || typeof p.dpid !== 'string' || !Number.isInteger(p.portNo)) throw new Error('bad port');
  return { name: p.name, dpid: p.dpid, portNo: p.portNo as number };
}

// ---- the controller's side ------------------------------------------------------------------

export interface EgressAgentClientOptions {
  host: string;
  port: number;
  /** the controller's certificate and key, and the CA that signed the agent's */
  tls?: TlsMaterial;
  timeoutMs?: number;
}

/** One connection to an agent, opened on first use and again after it is lost. */
export class EgressAgentClient {
  private socket: Socket | undefined;
  private connecting: Promise<Socket> | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (a: Answer) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();

  constructor(private readonly options: EgressAgentClientOptions) {}

  async inspect(port: AgentPortRef): Promise<RootQdisc> {
    const a = await this.request({ op: 'inspect', port });
    return a.root ?? { owner: 'default' };
  }

  async apply(ports: (AgentPortRef & { capacityBps: number })[], classes: readonly EgressClass[]): Promise<{ applied: string[]; refused: { name: string; reason: string }[] }> {
    const a = await this.request({ op: 'apply', ports, classes: classes.map((c) => ({ id: c.id, dscp: c.dscp, share: c.share, bestEffort: c.bestEffort })) });
    return { applied: a.applied ?? [], refused: a.refused ?? [] };
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private async request(body: RequestBody): Promise<Extract<Answer, { ok: true }>> {
    const socket = await this.connect();
    const id = this.nextId++;
    const answer = await new Promise<Answer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`egress agent ${this.options.host}:${this.options.port}: no answer in ${this.options.timeoutMs ?? REQUEST_TIMEOUT_MS} ms`));
      }, this.options.timeoutMs ?? REQUEST_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      socket.write(JSON.stringify({ id, ...body }) + '\n');
    });
    if (!answer.ok) throw new Error(`egress agent ${this.options.host}:${this.options.port}: ${answer.error}`);
    return answer;
  }

  private connect(): Promise<Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket);
    this.connecting ??= new Promise<Socket>((resolve, reject) => {
      const { host, port, tls } = this.options;
      // The agent is authenticated by the CA alone, as switches are: its certificate names no host.
      const socket = tls
        ? tlsConnect({ host, port, cert: tls.cert, key: tls.key, ca: tls.ca, checkServerIdentity: () => undefined })
        : tcpConnect({ host, port });
      const fail = (err: Error): void => {
        this.connecting = undefined;
        reject(new Error(`egress agent ${host}:${port}: ${err.message}`));
      };
      socket.once('error', fail);
      socket.once(tls ? 'secureConnect' : 'connect', () => {
        socket.off('error', fail);
        this.connecting = undefined;
        this.socket = socket;
        this.follow(socket);
        resolve(socket);
      });
    });
    return this.connecting;
  }

  private follow(socket: Socket): void {
    onLines(socket, (line) => {
      let answer: Answer;
      try {
        answer = JSON.parse(line) as Answer;
      } catch {
        socket.destroy();
        return;
      }
      const p = this.pending.get(answer.id);
      if (!p) return;
      this.pending.delete(answer.id);
      clearTimeout(p.timer);
      p.resolve(answer);
    });
    const lost = (): void => {
      if (this.socket === socket) this.socket = undefined;
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(new Error(`egress agent ${this.options.host}:${this.options.port}: connection closed`));
        this.pending.delete(id);
      }
    };
    socket.on('close', lost);
    socket.on('error', () => socket.destroy());
  }
}
