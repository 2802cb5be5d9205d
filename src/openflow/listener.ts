// The OpenFlow listener switches connect to (OpenFlow Switch Specification 1.3.5, ONF
// TS-023, §6.3 "OpenFlow Channel Connections": the switch initiates the connection to
// the controller, by default on TCP port 6653, optionally over TLS — §6.3.3). Every
// accepted socket becomes a SwitchConnection; once its handshake completes the listener
// announces the switch ('switchConnected') and, when it goes, 'switchDisconnected'.
//
// Who may be a switch: a datapath id is a claim, not a proof. With an allow-list only the
// listed datapath ids are announced; with mutual TLS (§6.3.3) only peers whose certificate
// the configured CA signed get as far as the handshake. A second connection that claims a
// datapath id already connected is refused and the first stays, unless the first is dead:
// the listener then asks the first one for an echo, and only a silent first connection
// and a second one from the same peer address let the second take over (a switch that
// lost its connection and reconnected before the dead-peer timeout noticed).
//
// The other direction of §6.3 ("the controller may initiate the connection to a switch
// that listens", Open vSwitch's `ptcp:` controller target) is `dial()`: the listener keeps
// a connection to that switch, redialling with backoff whenever it is refused or lost, and
// the switch is announced through the same events as one that connected by itself.
import { EventEmitter } from 'node:events';
import { connect as tcpConnect, createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, type ConnectionOptions as TlsConnectOptions, type TlsOptions } from 'node:tls';
import { SwitchConnection, type ConnectionOptions } from './connection.js';

export const OFP_TCP_PORT = 6653;

export interface ListenerOptions extends ConnectionOptions {
  /** Default '0.0.0.0'. */
  host?: string;
  /** Default 6653 (IANA-assigned to OpenFlow); 0 picks a free port. */
  port?: number;
  /** Serve TLS with these options (key, cert, ca, requestCert, ...) instead of plain TCP. */
  tls?: TlsOptions;
  /** Only these datapath ids are announced; others are refused after the handshake. Default: any. */
  allowedDatapaths?: ReadonlySet<bigint>;
  /** How long the first connection of a duplicated datapath id has to answer an echo. Default 1000 ms. */
  takeoverProbeMs?: number;
}

export interface DialOptions {
  /** Connect over TLS with these options (ca, cert, key, servername, ...) instead of plain TCP. */
  tls?: TlsConnectOptions;
  /** First wait before redialling after a refusal or a lost connection. Default 500 ms. */
  retryMinMs?: number;
  /** The wait doubles up to this. Default 10 s. */
  retryMaxMs?: number;
}

/** A switch the listener dials (a passive `ptcp:` switch). */
export interface DialTarget {
  host: string;
  port: number;
}

export interface ListenerEvents {
  /** A switch finished the handshake and is ready for requests. */
  switchConnected: [SwitchConnection];
  /** A switch announced by switchConnected went away; `reason` says why. */
  switchDisconnected: [SwitchConnection, reason: string];
  /** A connection closed before its handshake completed (e.g. an OpenFlow 1.0-only switch). */
  handshakeFailed: [error: Error, peer: { remoteAddress: string; remotePort: number }];
  /** The server itself failed after listening. */
  serverError: [Error];
  /** Dialling a switch failed (refused, unreachable, lost before the handshake); it is retried after `retryInMs`. */
  dialFailed: [error: Error, target: DialTarget, retryInMs: number];
  /** A connection finished the handshake but was not accepted as the switch it claims to be. */
  switchRefused: [conn: SwitchConnection, reason: SwitchRefusal];
}

/** Why a handshaken connection was not announced. */
export type SwitchRefusal = 'not-allowed' | 'duplicate-datapath';

export class OpenFlowListener extends EventEmitter<ListenerEvents> {
  /** Ready main connections by datapath id. */
  readonly switches = new Map<bigint, SwitchConnection>();
  private readonly server: Server;
  private readonly connections = new Set<SwitchConnection>();
  private readonly options: ListenerOptions;
  /** Stops for every dialled switch: cancel the pending redial and close its connection. */
  private readonly dials = new Set<() => void>();

  constructor(options: ListenerOptions = {}) {
    super();
    this.options = options;
    const onSocket = (socket: Socket) => this.accept(socket);
    this.server = options.tls ? createTlsServer(options.tls, onSocket) : createTcpServer(onSocket);
    if (options.tls) {
      // A failed TLS handshake is the client's problem, not the listener's.
      this.server.on('tlsClientError', () => {});
    }
  }

  /** Starts listening; resolves with the bound address (useful with port 0). */
  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen(this.options.port ?? OFP_TCP_PORT, this.options.host ?? '0.0.0.0', () => {
        this.server.off('error', onError);
        this.server.on('error', (err) => this.emit('serverError', err));
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  get address(): AddressInfo | undefined {
    const a = this.server.address();
    return a !== null && typeof a === 'object' ? a : undefined;
  }

  /** Every open connection, handshaking ones included. */
  get allConnections(): SwitchConnection[] {
    return [...this.connections];
  }

  /** Resolves with the connection of `datapathId` once it is (or already was) connected. */
  waitForSwitch(datapathId: bigint): Promise<SwitchConnection> {
    const known = this.switches.get(datapathId);
    if (known) return Promise.resolve(known);
    return new Promise((resolve) => {
      const onConnected = (conn: SwitchConnection) => {
        if (conn.datapathId !== datapathId) return;
        this.off('switchConnected', onConnected);
        resolve(conn);
      };
      this.on('switchConnected', onConnected);
    });
  }

  /**
   * Keeps a connection to a switch that listens for its controller (OVS `ptcp:PORT`):
   * connects, runs the same handshake as for an accepted socket, and redials with backoff
   * (retryMinMs doubling up to retryMaxMs; reset by every completed handshake) when the
   * connection is refused or lost. Returns a function that stops dialling and closes it.
   */
  dial(target: DialTarget, options: DialOptions = {}): () => void {
    const minMs = options.retryMinMs ?? 500;
    const maxMs = options.retryMaxMs ?? 10_000;
    let waitMs = minMs;
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    let current: SwitchConnection | undefined;
    const retry = (err: Error) => {
      current = undefined;
      if (stopped) return;
      this.emit('dialFailed', err, target, waitMs);
      timer = setTimeout(attempt, waitMs);
      waitMs = Math.min(maxMs, waitMs * 2);
    };
    const attempt = () => {
      timer = undefined;
      if (stopped) return;
      const socket = options.tls
        ? tlsConnect({ ...options.tls, host: target.host, port: target.port })
        : tcpConnect({ host: target.host, port: target.port });
      const connectEvent = options.tls ? 'secureConnect' : 'connect';
      const onEarlyError = (err: Error) => {
        socket.destroy();
        retry(err);
      };
      socket.once('error', onEarlyError);
      socket.once(connectEvent, () => {
        socket.off('error', onEarlyError);
        const conn = this.adopt(socket);
        current = conn;
        let ready = false;
        conn.once('ready', () => {
          ready = true;
          waitMs = minMs;
        });
        conn.once('close', (reason) => retry(new Error(ready ? `connection lost: ${reason}` : `closed during the handshake: ${reason}`)));
      });
    };
    const stop = () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      current?.close('stopped dialling');
      this.dials.delete(stop);
    };
    this.dials.add(stop);
    attempt();
    return stop;
  }

  private accept(socket: Socket): void {
    this.adopt(socket);
  }

  /** Runs the handshake on a connected socket (accepted or dialled) and announces the switch. */
  private adopt(socket: Socket): SwitchConnection {
    const conn = new SwitchConnection(socket, this.options);
    this.connections.add(conn);
    let announced = false;
    conn.once('close', (reason) => {
      this.connections.delete(conn);
      if (announced) {
        if (conn.datapathId !== undefined && this.switches.get(conn.datapathId) === conn) this.switches.delete(conn.datapathId);
        this.emit('switchDisconnected', conn, reason);
      }
    });
    conn.start().then(
      async () => {
        if (conn.state !== 'ready' || conn.datapathId === undefined) return;
        // Auxiliary connections (§6.3.6) share the main connection's datapath id.
        if ((conn.features?.auxiliaryId ?? 0) !== 0) return;
        const dpid = conn.datapathId;
        const allowed = this.options.allowedDatapaths;
        if (allowed && !allowed.has(dpid)) return this.refuse(conn, 'not-allowed');
        const previous = this.switches.get(dpid);
        if (previous && previous !== conn) {
          if (!(await this.mayTakeOver(previous, conn))) return this.refuse(conn, 'duplicate-datapath');
          previous.close('replaced by a reconnection from the same peer (the old connection did not answer an echo)');
        }
        if (conn.state !== 'ready') return;
        this.switches.set(dpid, conn);
        announced = true;
        this.emit('switchConnected', conn);
      },
      (err: unknown) => {
        this.emit('handshakeFailed', err instanceof Error ? err : new Error(String(err)), {
          remoteAddress: conn.remoteAddress,
          remotePort: conn.remotePort,
        });
      },
    );
    return conn;
  }

  /**
   * A second connection claiming a connected datapath id takes over only when it comes
   * from the same peer address and the first one no longer answers an echo.
   */
  private async mayTakeOver(previous: SwitchConnection, next: SwitchConnection): Promise<boolean> {
    if (previous.remoteAddress !== next.remoteAddress) return false;
    if (previous.state !== 'ready') return true;
    try {
      await previous.echo(new Uint8Array(0), { timeoutMs: this.options.takeoverProbeMs ?? 1000 });
      return false;
    } catch {
      return true;
    }
  }

  private refuse(conn: SwitchConnection, reason: SwitchRefusal): void {
    this.emit('switchRefused', conn, reason);
    conn.close(reason === 'not-allowed' ? 'datapath id not in the allow-list' : 'datapath id already connected');
  }

  /** Stops listening and dialling, and closes every connection. */
  close(): Promise<void> {
    for (const stop of [...this.dials]) stop();
    for (const conn of this.connections) conn.close('listener closed');
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
