// One OpenFlow 1.3 switch connection, controller side (OpenFlow Switch Specification
// 1.3.5, ONF TS-023): §6.3.1 connection setup and version negotiation by the hello
// version bitmap, §6.3.2 connection maintenance (echo keepalive, dead-peer detection),
// §6.3.5 auxiliary connections (recorded, not used), §6.3.7 multiple controllers (role
// requests), §6.4 message handling (xid-matched replies, errors, barriers), §7.3.1
// features, §7.3.5 multipart messages.
//
// The connection owns its socket. Requests that have a reply (features, multipart,
// barrier, role, echo, get-config, get-async, queue-get-config) return promises settled
// by the reply with the same xid, or rejected by an OFPT_ERROR with that xid
// (OfpErrorReply), by the connection closing, or by a timeout. Messages without a reply
// (flow-mod, meter-mod, packet-out, ...) are either fired (`send`) or confirmed with a
// barrier (`sendConfirmed`): the switch sends any error for them before the barrier reply
// (§6.4 "Message Ordering"), so the barrier reply settles them.
//
// Writes respect the socket's back-pressure: once socket.write returns false nothing more
// is handed to the socket until 'drain'; messages wait in a bounded queue of our own and
// `send` returns false so a producer can `await connection.drained()`.
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import {
  OFPCML_NO_BUFFER,
  OFPCR_ROLE,
  OFPET,
  OFPHFC,
  OFPMPF_REPLY_MORE,
  OFP_VERSION,
  decodeMessage,
  encodeMessage,
  errorCodeName,
  errorTypeName,
  readHeader,
  type EncodeOptions,
  type FeaturesReplyMessage,
  type FlowRemovedMessage,
  type MultipartBodyType,
  type MultipartReplyBody,
  type MultipartReplyBodyOf,
  type MultipartRequestBodyOf,
  type OfpDecodeError,
  type OfpMessage,
  type OfpMessageOf,
  type OfpMessageType,
  type PacketInMessage,
  type Port,
  type PortStatusMessage,
} from './codec/index.js';
import {
  ConnectionClosedError,
  HelloFailedError,
  OfpErrorReply,
  OpenFlowRuntimeError,
  OutboundQueueFullError,
  ReplyDecodeError,
  RequestTimeoutError,
} from './errors.js';
import { MessageFramer } from './framing.js';
import { appendMultipartBody } from './multipart.js';
import { formatDpid } from '../util/dpid.js';

/** Requests that the switch answers, and the reply type of each. */
export const REPLY_TYPE = {
  echo_request: 'echo_reply',
  features_request: 'features_reply',
  get_config_request: 'get_config_reply',
  multipart_request: 'multipart_reply',
  barrier_request: 'barrier_reply',
  queue_get_config_request: 'queue_get_config_reply',
  role_request: 'role_reply',
  get_async_request: 'get_async_reply',
} as const satisfies Partial<Record<OfpMessageType, OfpMessageType>>;

export type RequestType = keyof typeof REPLY_TYPE;
/** The message whose `type` is T (the codec's OfpMessageOf). */
export type MessageOf<T extends OfpMessageType> = OfpMessageOf<T>;
export type ReplyOf<T extends RequestType> = MessageOf<(typeof REPLY_TYPE)[T]>;
/** A request without its xid: the connection assigns one. */
export type Request<T extends RequestType = RequestType> = Omit<MessageOf<T>, 'xid'> & { xid?: number };
/** Any message without its xid. */
export type Outgoing = DistributiveOmit<OfpMessage, 'xid'> & { xid?: number };
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export type RoleName = 'nochange' | 'equal' | 'master' | 'slave';
const ROLE_CODES: Record<RoleName, number> = {
  nochange: OFPCR_ROLE.NOCHANGE,
  equal: OFPCR_ROLE.EQUAL,
  master: OFPCR_ROLE.MASTER,
  slave: OFPCR_ROLE.SLAVE,
};

export interface ConnectionOptions {
  /** Send an echo request after this long without hearing from the switch. Default 5000 ms. */
  echoIntervalMs?: number;
  /** Close the connection after this long without any message from the switch. Default 15000 ms. */
  deadPeerTimeoutMs?: number;
  /** Hello, features and port description must complete within this. Default 15000 ms. */
  handshakeTimeoutMs?: number;
  /** Default timeout of a request's reply. Default 30000 ms; 0 waits forever. */
  requestTimeoutMs?: number;
  /** Largest incoming message accepted. Default 65535. */
  maxMessageLength?: number;
  /** Bytes that may wait for a slow socket before `send` throws OutboundQueueFullError. Default 16 MiB. */
  maxOutboundBytes?: number;
  /**
   * miss_send_len sent in a set-config during the handshake (§7.3.2): how much of a
   * packet a switch sends in packet-ins for which no max_len applies. Default
   * OFPCML_NO_BUFFER (whole packets); null sends no set-config.
   */
  missSendLen?: number | null;
}

export type ConnectionState = 'handshaking' | 'ready' | 'closed';

export interface ConnectionEvents {
  /** Hello, features and port description done. */
  ready: [];
  /** Every decoded message from the switch, before it is handled. */
  message: [OfpMessage];
  packetIn: [PacketInMessage];
  flowRemoved: [FlowRemovedMessage];
  portStatus: [PortStatusMessage];
  /** An OFPT_ERROR that answers none of our outstanding requests. */
  switchError: [OfpErrorReply];
  /** A message from the switch the codec could not decode (the switch was told so). */
  decodeError: [OfpDecodeError];
  /** The outbound queue emptied after back-pressure. */
  drain: [];
  /** The connection is gone; `reason` says why. Emitted once. */
  close: [reason: string];
}

interface PendingRequest {
  requestType: RequestType;
  replyType: OfpMessageType;
  resolve: (reply: OfpMessage) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout | undefined;
  /** multipart parts received so far */
  body?: MultipartReplyBody;
}

/** Messages sent with sendConfirmed, waiting for their barrier. */
interface WatchedMessage {
  requestType: OfpMessageType;
  error?: OfpErrorReply;
}

const DEFAULTS = {
  echoIntervalMs: 5_000,
  deadPeerTimeoutMs: 15_000,
  handshakeTimeoutMs: 15_000,
  requestTimeoutMs: 30_000,
  maxOutboundBytes: 16 * 1024 * 1024,
};

export class SwitchConnection extends EventEmitter<ConnectionEvents> {
  readonly socket: Socket;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** From the features reply; undefined until the handshake got that far. */
  datapathId: bigint | undefined;
  features: FeaturesReplyMessage | undefined;
  /** The switch's ports by number, from port-desc and kept current by port-status. */
  readonly ports = new Map<number, Port>();
  /** The switch's hello: the versions it offered. */
  peerVersions: number[] = [];
  /** The role last confirmed by a role reply (§6.3.7); switches start us as EQUAL. */
  role: RoleName = 'equal';
  private stateValue: ConnectionState = 'handshaking';
  private closeReason: string | undefined;
  private readonly options: Required<Omit<ConnectionOptions, 'missSendLen' | 'maxMessageLength'>> & {
    missSendLen: number | null;
  };
  private readonly framer: MessageFramer;
  private readonly pending = new Map<number, PendingRequest>();
  private readonly watched = new Map<number, WatchedMessage>();
  private nextXid = 1;
  private nextGenerationId = BigInt(Date.now()) << 16n;
  private lastHeard = Date.now();
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private helloReceived: ((hello: MessageOf<'hello'>) => void) | undefined;
  /** the version in the header of the switch's hello */
  private peerHelloVersion = 0;
  // back-pressure
  private socketBlocked = false;
  private readonly outbound: Uint8Array[] = [];
  private outboundBytes = 0;
  private handshake: Promise<void> | undefined;

  constructor(socket: Socket, options: ConnectionOptions = {}) {
    super();
    this.socket = socket;
    this.remoteAddress = socket.remoteAddress ?? 'unknown';
    this.remotePort = socket.remotePort ?? 0;
    this.options = {
      echoIntervalMs: options.echoIntervalMs ?? DEFAULTS.echoIntervalMs,
      deadPeerTimeoutMs: options.deadPeerTimeoutMs ?? DEFAULTS.deadPeerTimeoutMs,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? DEFAULTS.handshakeTimeoutMs,
      requestTimeoutMs: options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
      maxOutboundBytes: options.maxOutboundBytes ?? DEFAULTS.maxOutboundBytes,
      missSendLen: options.missSendLen === undefined ? OFPCML_NO_BUFFER : options.missSendLen,
    };
    this.framer = new MessageFramer({ maxMessageLength: options.maxMessageLength });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.onDrain());
    socket.on('error', (err: Error) => this.finish(`socket error: ${err.message}`));
    socket.on('close', () => this.finish(this.closeReason ?? 'closed by the switch'));
    socket.on('end', () => {
      // The peer half-closed: nothing more will come, so finish our side too.
      this.closeReason ??= 'closed by the switch';
      socket.end();
    });
  }

  private isClosed(): boolean {
    return this.stateValue === 'closed';
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  /** Why the connection closed, once it has. */
  get closedBecause(): string | undefined {
    return this.stateValue === 'closed' ? this.closeReason : undefined;
  }

  /** '0000000000000001' (src/util/dpid.ts), or '?' before the features reply. */
  get dpid(): string {
    return this.datapathId === undefined ? '?' : formatDpid(this.datapathId);
  }

  /** False while the socket pushes back; `drained()` resolves when it stops. */
  get writable(): boolean {
    return !this.socketBlocked && this.stateValue !== 'closed';
  }

  /** Bytes waiting for the socket to drain. */
  get queuedBytes(): number {
    return this.outboundBytes;
  }

  /**
   * Hello exchange and version negotiation, then features, set-config and port
   * description. Resolves when the connection is ready; rejects (and closes) otherwise.
   * Calling it again returns the same promise.
   */
  start(): Promise<void> {
    this.handshake ??= this.runHandshake();
    return this.handshake;
  }

  private async runHandshake(): Promise<void> {
    const timer = setTimeout(() => this.close(`handshake timeout after ${this.options.handshakeTimeoutMs} ms`), this.options.handshakeTimeoutMs);
    try {
      const helloArrived = new Promise<MessageOf<'hello'>>((resolve, reject) => {
        this.helloReceived = resolve;
        this.once('close', (reason) => reject(new ConnectionClosedError(reason)));
      });
      // §6.3.1: each side sends a hello with the versions it supports, right away.
      this.write(encodeMessage({ type: 'hello', xid: this.allocXid(), versions: [OFP_VERSION] }));
      const hello = await helloArrived;
      this.negotiate(hello);
      this.framer.version = OFP_VERSION;
      this.startKeepalive();
      this.features = await this.request({ type: 'features_request' });
      this.datapathId = this.features.datapathId;
      if (this.options.missSendLen !== null) {
        this.send({ type: 'set_config', flags: 0, missSendLen: this.options.missSendLen });
      }
      const portDesc = await this.multipart({ bodyType: 'port_desc' });
      for (const port of portDesc.ports) this.ports.set(port.portNo, port);
      if (this.stateValue === 'closed') throw new ConnectionClosedError(this.closeReason ?? 'closed');
      this.stateValue = 'ready';
      this.emit('ready');
    } catch (err) {
      this.close(err instanceof Error ? `handshake failed: ${err.message}` : 'handshake failed');
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** §6.3.1: with bitmaps, the highest common version; without, the smaller header version. */
  private negotiate(hello: MessageOf<'hello'>): void {
    const headerVersion = this.peerHelloVersion;
    this.peerVersions = hello.versions ?? [headerVersion];
    const agreed = hello.versions ? hello.versions.includes(OFP_VERSION) : headerVersion >= OFP_VERSION;
    if (agreed) return;
    const offered = this.peerVersions.map((v) => `0x${v.toString(16).padStart(2, '0')}`).join(', ');
    const text = `this controller speaks OpenFlow 1.3 (0x04) only; the switch offered ${offered}`;
    // Answer in the peer's own version so a switch that knows only that one can read it;
    // the error layout is the same in every version.
    const bytes = encodeMessage({
      type: 'error',
      xid: 0,
      errorType: OFPET.HELLO_FAILED,
      code: OFPHFC.INCOMPATIBLE,
      data: new TextEncoder().encode(text),
    }).slice();
    bytes[0] = Math.min(headerVersion, OFP_VERSION);
    this.write(bytes);
    this.closeReason = `version negotiation failed: ${text}`;
    this.socket.end();
    throw new HelloFailedError(text, this.peerVersions);
  }

  // ---- sending ------------------------------------------------------------------------------

  private allocXid(): number {
    const xid = this.nextXid;
    this.nextXid = this.nextXid >= 0xffffffff ? 1 : this.nextXid + 1;
    return xid;
  }

  /**
   * Sends a message that needs no reply, with a fresh xid (or the one given, if not 0 —
   * the codec's builders leave xid 0, which means "assign one" here). Returns
   * false when the socket pushes back: wait for `drained()` before sending much more.
   * Throws OfpEncodeError on an invalid message, ConnectionClosedError when closed,
   * OutboundQueueFullError when the queue limit would be passed.
   */
  send(message: Outgoing, encodeOptions?: EncodeOptions): boolean {
    const xid = message.xid || this.allocXid();
    return this.write(encodeMessage({ ...message, xid } as OfpMessage, encodeOptions));
  }

  /**
   * Sends messages that have no reply (flow-mods, meter-mods, group-mods, ...) followed by
   * a barrier, and resolves when the barrier reply arrives — every message processed. If
   * the switch refused one, rejects with its OfpErrorReply (the first one, in order).
   */
  async sendConfirmed(messages: Outgoing | Outgoing[], options: { timeoutMs?: number } = {}): Promise<void> {
    const list = Array.isArray(messages) ? messages : [messages];
    // Encode everything first: an invalid message then sends none of them.
    const encoded = list.map((message) => {
      const xid = message.xid || this.allocXid();
      return { xid, type: message.type, bytes: encodeMessage({ ...message, xid } as OfpMessage) };
    });
    const xids = encoded.map((e) => e.xid);
    try {
      for (const { xid, type, bytes } of encoded) {
        this.watched.set(xid, { requestType: type });
        this.write(bytes);
      }
      await this.barrier(options);
      for (const xid of xids) {
        const error = this.watched.get(xid)?.error;
        if (error) throw error;
      }
    } finally {
      for (const xid of xids) this.watched.delete(xid);
    }
  }

  /**
   * Sends a request and resolves with its reply (multipart replies reassembled into one
   * message). Rejects with OfpErrorReply when the switch refuses it.
   */
  request<T extends RequestType>(message: Request<T> & { type: T }, options: { timeoutMs?: number } = {}): Promise<ReplyOf<T>> {
    if (this.stateValue === 'closed') return Promise.reject(new ConnectionClosedError(this.closeReason ?? 'closed'));
    const requestType = message.type as RequestType;
    if (!Object.hasOwn(REPLY_TYPE, requestType)) {
      return Promise.reject(new OpenFlowRuntimeError(`${String(requestType)} has no reply: use send() or sendConfirmed()`));
    }
    let xid: number;
    let bytes: Uint8Array;
    try {
      xid = message.xid || this.allocXid();
      bytes = encodeMessage({ ...message, xid } as OfpMessage);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<ReplyOf<T>>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.options.requestTimeoutMs;
      const entry: PendingRequest = {
        requestType,
        replyType: REPLY_TYPE[requestType],
        resolve: resolve as (reply: OfpMessage) => void,
        reject,
        timer:
          timeoutMs > 0
            ? setTimeout(() => {
                this.pending.delete(xid);
                reject(new RequestTimeoutError(requestType, xid, timeoutMs));
              }, timeoutMs)
            : undefined,
      };
      this.pending.set(xid, entry);
      try {
        this.write(bytes);
      } catch (err) {
        this.settle(xid);
        reject(err);
      }
    });
  }

  /** A multipart request of one body type; resolves with the reassembled reply body. */
  async multipart<K extends MultipartBodyType>(
    body: MultipartRequestBodyOf<K>,
    options: { timeoutMs?: number } = {},
  ): Promise<MultipartReplyBodyOf<K>> {
    const reply = await this.request({ type: 'multipart_request', flags: 0, body }, options);
    return reply.body as MultipartReplyBodyOf<K>;
  }

  /** Resolves when the switch has processed everything sent before (§6.4). */
  async barrier(options: { timeoutMs?: number } = {}): Promise<void> {
    await this.request({ type: 'barrier_request' }, options);
  }

  /** Echo round trip (§7.5.2). */
  async echo(data: Uint8Array = new Uint8Array(0), options: { timeoutMs?: number } = {}): Promise<Uint8Array> {
    const reply = await this.request({ type: 'echo_request', data }, options);
    return reply.data;
  }

  /**
   * Role request (§6.3.7, §7.3.9). For master and slave a generation id is required by
   * the spec; unless given, one larger than any this connection used is taken (time-based,
   * so it also grows across controller restarts). Resolves with the role the switch reports.
   */
  async requestRole(role: RoleName, generationId?: bigint): Promise<{ role: RoleName; generationId: bigint }> {
    const generation = generationId ?? this.nextGenerationId++;
    const reply = await this.request({ type: 'role_request', role: ROLE_CODES[role], generationId: generation });
    const name = (Object.keys(ROLE_CODES) as RoleName[]).find((n) => ROLE_CODES[n] === reply.role);
    if (name === undefined) throw new OpenFlowRuntimeError(`role reply with unknown role ${reply.role}`);
    if (name !== 'nochange') this.role = name;
    return { role: name, generationId: reply.generationId };
  }

  /** Resolves when the outbound queue has emptied (at once if it is empty). */
  drained(): Promise<void> {
    if (!this.socketBlocked) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onDrain = () => {
        this.off('close', onClose);
        resolve();
      };
      const onClose = (reason: string) => {
        this.off('drain', onDrain);
        reject(new ConnectionClosedError(reason));
      };
      this.once('drain', onDrain);
      this.once('close', onClose);
    });
  }

  private write(bytes: Uint8Array): boolean {
    if (this.stateValue === 'closed' || this.socket.destroyed || this.socket.writableEnded) {
      throw new ConnectionClosedError(this.closeReason ?? 'closed');
    }
    if (!this.socketBlocked) {
      if (this.socket.write(bytes)) return true;
      this.socketBlocked = true;
      return false;
    }
    if (this.outboundBytes + bytes.length > this.options.maxOutboundBytes) {
      throw new OutboundQueueFullError(this.outboundBytes + bytes.length, this.options.maxOutboundBytes);
    }
    this.outbound.push(bytes);
    this.outboundBytes += bytes.length;
    return false;
  }

  private onDrain(): void {
    this.socketBlocked = false;
    while (this.outbound.length > 0 && !this.socketBlocked) {
      const bytes = this.outbound.shift()!;
      this.outboundBytes -= bytes.length;
      if (!this.socket.write(bytes)) this.socketBlocked = true;
    }
    if (!this.socketBlocked) this.emit('drain');
  }

  // ---- receiving ----------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    if (this.isClosed()) return;
    this.lastHeard = Date.now();
    const { messages, violation } = this.framer.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    for (const bytes of messages) {
      if (this.isClosed()) return;
      this.onFrame(bytes);
    }
    if (violation && !this.isClosed()) {
      // The stream cannot be resynchronised: tell the switch why, then close cleanly.
      this.sendError(OFPET.BAD_REQUEST, violation.code, violation.header.xid, violation.data);
      this.close(`bad message header: ${violation.reason}`);
    }
  }

  private onFrame(bytes: Uint8Array): void {
    if (this.helloReceived) {
      const header = readHeader(bytes)!;
      const result = decodeMessage(bytes);
      if (!result.ok || result.message.type !== 'hello') {
        const refusal =
          result.ok && result.message.type === 'error'
            ? ` (${errorTypeName(result.message.errorType)} / ${errorCodeName(result.message.errorType, result.message.code)}: ${new TextDecoder().decode(result.message.data).replace(/[^\x20-\x7e]/g, '')})`
            : '';
        const text = `expected a hello first, got message type ${header.type}${refusal}`;
        this.sendError(OFPET.HELLO_FAILED, OFPHFC.INCOMPATIBLE, header.xid, new TextEncoder().encode(text));
        this.close(`handshake failed: ${text}`);
        return;
      }
      this.peerHelloVersion = header.version;
      const deliver = this.helloReceived;
      this.helloReceived = undefined;
      deliver(result.message);
      return;
    }
    const result = decodeMessage(bytes);
    if (!result.ok) {
      const header = readHeader(bytes)!;
      const ofpError = result.error.ofpError ?? { type: OFPET.BAD_REQUEST, code: 0 };
      this.sendError(ofpError.type, ofpError.code, header.xid, bytes.subarray(0, 64));
      const pending = this.settle(header.xid);
      pending?.reject(new ReplyDecodeError(result.error));
      this.emit('decodeError', result.error);
      return;
    }
    this.onMessage(result.message);
  }

  private onMessage(message: OfpMessage): void {
    this.emit('message', message);
    switch (message.type) {
      case 'hello':
        return; // a late duplicate: nothing to do
      case 'echo_request':
        this.trySend({ type: 'echo_reply', xid: message.xid, data: message.data });
        return;
      case 'error':
        this.onError(message);
        return;
      case 'packet_in':
        this.emit('packetIn', message);
        return;
      case 'flow_removed':
        this.emit('flowRemoved', message);
        return;
      case 'port_status':
        if (message.reason === 1 /* OFPPR_DELETE */) this.ports.delete(message.desc.portNo);
        else this.ports.set(message.desc.portNo, message.desc);
        this.emit('portStatus', message);
        return;
      default:
        this.onReply(message);
    }
  }

  private onReply(message: OfpMessage): void {
    const entry = this.pending.get(message.xid);
    if (!entry) return; // an unsolicited reply (late, after a timeout): the 'message' event saw it
    if (message.type !== entry.replyType) {
      this.settle(message.xid);
      entry.reject(new OpenFlowRuntimeError(`expected ${entry.replyType} for xid ${message.xid}, got ${message.type}`));
      return;
    }
    if (message.type === 'multipart_reply') {
      try {
        entry.body = entry.body ? appendMultipartBody(entry.body, message.body) : message.body;
      } catch (err) {
        this.settle(message.xid);
        entry.reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      if (message.flags & OFPMPF_REPLY_MORE) return;
      this.settle(message.xid);
      entry.resolve({ ...message, flags: 0, body: entry.body });
      return;
    }
    this.settle(message.xid);
    entry.resolve(message);
  }

  private onError(message: MessageOf<'error'>): void {
    const entry = this.pending.get(message.xid);
    if (entry) {
      this.settle(message.xid);
      entry.reject(new OfpErrorReply(message, { requestType: entry.requestType, datapathId: this.datapathId }));
      return;
    }
    const watched = this.watched.get(message.xid);
    if (watched) {
      watched.error ??= new OfpErrorReply(message, { requestType: watched.requestType, datapathId: this.datapathId });
      return;
    }
    this.emit('switchError', new OfpErrorReply(message, { datapathId: this.datapathId }));
  }

  private settle(xid: number): PendingRequest | undefined {
    const entry = this.pending.get(xid);
    if (!entry) return undefined;
    this.pending.delete(xid);
    if (entry.timer) clearTimeout(entry.timer);
    return entry;
  }

  private sendError(errorType: number, code: number, xid: number, data: Uint8Array): void {
    this.trySend({ type: 'error', xid, errorType, code, data: data.slice(0, 64) });
  }

  /** Best effort: used for answers the switch may no longer be there to read. */
  private trySend(message: OfpMessage): void {
    try {
      this.write(encodeMessage(message));
    } catch {
      // closed or queue full: the connection is going away anyway
    }
  }

  // ---- keepalive and closing ----------------------------------------------------------------

  private startKeepalive(): void {
    const { echoIntervalMs, deadPeerTimeoutMs } = this.options;
    const tick = Math.max(10, Math.min(echoIntervalMs, deadPeerTimeoutMs) / 2);
    let lastEcho = 0;
    this.keepaliveTimer = setInterval(() => {
      const now = Date.now();
      const silent = now - this.lastHeard;
      if (silent >= deadPeerTimeoutMs) {
        this.close(`echo timeout: nothing from the switch for ${silent} ms (limit ${deadPeerTimeoutMs} ms)`);
      } else if (silent >= echoIntervalMs && now - lastEcho >= echoIntervalMs) {
        lastEcho = now;
        // The reply only refreshes lastHeard; it answers no pending request.
        this.trySend({ type: 'echo_request', xid: this.allocXid(), data: new Uint8Array(0) });
      }
    }, tick);
    this.keepaliveTimer.unref();
  }

  /** Closes the connection: flushes what was written, rejects outstanding requests. */
  close(reason = 'closed by the controller'): void {
    if (this.stateValue === 'closed') return;
    this.closeReason ??= reason;
    if (!this.socket.destroyed) {
      // What was queued behind back-pressure (an error telling the switch why, say) still goes.
      for (const bytes of this.outbound.splice(0)) this.socket.write(bytes);
      this.outboundBytes = 0;
      this.socket.end();
      // A peer that never reads would keep a half-closed socket forever.
      setTimeout(() => this.socket.destroy(), 2_000).unref();
    }
    this.finish(this.closeReason);
  }

  private finish(reason: string): void {
    if (this.stateValue === 'closed') return;
    this.closeReason ??= reason;
    this.stateValue = 'closed';
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    const error = new ConnectionClosedError(this.closeReason);
    for (const xid of [...this.pending.keys()]) this.settle(xid)?.reject(error);
    this.outbound.length = 0;
    this.outboundBytes = 0;
    this.emit('close', this.closeReason);
  }
}
