// A scriptable OpenFlow switch for the runtime tests: a real TCP (or TLS) client on
// loopback that speaks the codec's messages, answers the handshake by default and lets
// each test override what it answers, send raw bytes, or fall silent.
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { decodeMessage, encodeMessage, type OfpMessage, type Port } from '../../src/openflow/codec/index.js';
import { MessageFramer } from '../../src/openflow/framing.js';

export interface FakeSwitchOptions {
  /** the controller's port to connect to (ignored when `socket` is given) */
  port: number;
  /** an already connected socket: a passive switch whose controller dialled it */
  socket?: Socket;
  host?: string;
  tls?: boolean;
  datapathId?: bigint;
  /** hello sent on connect; default OpenFlow 1.3 with a bitmap of [4] */
  hello?: Uint8Array | OfpMessage;
  ports?: Port[];
  /** split the port-desc reply into this many multipart messages */
  portDescParts?: number;
  /** answer echo requests (default true) */
  answerEcho?: boolean;
  /** what it answers to OFPMP_DESC (default: an Open vSwitch's description) */
  desc?: { mfrDesc: string; hwDesc: string };
  /** called for every decoded message; return true when the test handled it */
  onMessage?: (msg: OfpMessage, sw: FakeSwitch) => boolean | void;
}

export function port(portNo: number, name: string): Port {
  return {
    portNo,
    hwAddr: `02:00:00:00:00:${(portNo & 0xff).toString(16).padStart(2, '0')}`,
    name,
    config: 0,
    state: 4,
    curr: 0x802,
    advertised: 0,
    supported: 0,
    peer: 0,
    currSpeed: 10_000_000,
    maxSpeed: 0,
  };
}

export class FakeSwitch {
  readonly socket: Socket;
  readonly received: OfpMessage[] = [];
  /** raw frames, including ones that did not decode */
  readonly frames: Uint8Array[] = [];
  readonly closed: Promise<void>;
  answerEcho: boolean;
  private readonly framer = new MessageFramer();
  private waiters: { match: (m: OfpMessage) => boolean; resolve: (m: OfpMessage) => void }[] = [];

  constructor(private readonly options: FakeSwitchOptions) {
    this.answerEcho = options.answerEcho ?? true;
    const host = options.host ?? '127.0.0.1';
    this.socket = options.socket ?? (options.tls ? tlsConnect({ host, port: options.port, rejectUnauthorized: false }) : netConnect(options.port, host));
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
    this.socket.on('error', () => {});
    this.socket.on('data', (chunk: Buffer) => {
      const { messages } = this.framer.push(new Uint8Array(chunk));
      for (const frame of messages) this.onFrame(frame);
    });
    const hello = options.hello ?? { type: 'hello', xid: 1, versions: [4] };
    const sendHello = () => this.socket.write(hello instanceof Uint8Array ? hello : encodeMessage(hello));
    if (options.socket) sendHello();
    else this.socket.once(options.tls ? 'secureConnect' : 'connect', sendHello);
  }

  get datapathId(): bigint {
    return this.options.datapathId ?? 0x1234n;
  }

  send(msg: OfpMessage): void {
    this.socket.write(encodeMessage(msg, { checkPrerequisites: false }));
  }

  sendRaw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** The next message (already received or future) that `match` accepts. */
  waitFor(match: (m: OfpMessage) => boolean): Promise<OfpMessage> {
    const seen = this.received.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  /** Waits for the `count`-th message of a type. */
  async waitForCount(type: OfpMessage['type'], count: number): Promise<void> {
    while (this.received.filter((m) => m.type === type).length < count) {
      await this.waitFor(() => this.received.filter((m) => m.type === type).length >= count);
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onFrame(frame: Uint8Array): void {
    this.frames.push(frame.slice());
    const result = decodeMessage(frame);
    if (!result.ok) return;
    const msg = result.message;
    this.received.push(msg);
    for (const w of this.waiters.filter((w) => w.match(msg))) {
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve(msg);
    }
    if (this.options.onMessage?.(msg, this)) return;
    this.answer(msg);
  }

  private answer(msg: OfpMessage): void {
    switch (msg.type) {
      case 'features_request':
        this.send({
          type: 'features_reply',
          xid: msg.xid,
          datapathId: this.datapathId,
          nBuffers: 0,
          nTables: 254,
          auxiliaryId: 0,
          capabilities: 0x4f,
          reserved: 0,
        });
        return;
      case 'echo_request':
        if (this.answerEcho) this.send({ type: 'echo_reply', xid: msg.xid, data: msg.data });
        return;
      case 'barrier_request':
        this.send({ type: 'barrier_reply', xid: msg.xid });
        return;
      case 'multipart_request':
        if (msg.body.bodyType === 'desc') {
          const d = this.options.desc ?? { mfrDesc: 'Nicira, Inc.', hwDesc: 'Open vSwitch' };
          this.send({ type: 'multipart_reply', xid: msg.xid, flags: 0, body: { bodyType: 'desc', ...d, swDesc: 'fake', serialNum: 'None', dpDesc: 'fake switch' } });
        }
        if (msg.body.bodyType === 'port_desc') {
          const ports = this.options.ports ?? [port(1, 'eth1'), port(2, 'eth2')];
          const parts = Math.max(1, this.options.portDescParts ?? 1);
          for (let i = 0; i < parts; i++) {
            const slice = ports.filter((_, j) => j % parts === i);
            this.send({ type: 'multipart_reply', xid: msg.xid, flags: i < parts - 1 ? 1 : 0, body: { bodyType: 'port_desc', ports: slice } });
          }
        }
        return;
      default:
        return;
    }
  }
}
