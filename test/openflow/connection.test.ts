// SwitchConnection and OpenFlowListener over real loopback sockets against a scripted
// fake switch: version negotiation (including an OpenFlow 1.0-only switch), handshake,
// multipart reassembly, xid matching, typed errors, bad headers, echo keepalive and
// dead-peer timeout, role requests, back-pressure.
import { spawnSync } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  OFPBRC,
  OFPET,
  OFPHFC,
  OFPMMFC,
  OFPP,
  dropBand,
  encodeMessage,
  flowMod,
  meterMod,
  output,
  packetOut,
  type OfpMessage,
} from '../../src/openflow/codec/index.js';
import { SwitchConnection } from '../../src/openflow/connection.js';
import { ConnectionClosedError, HelloFailedError, OfpErrorReply, OutboundQueueFullError } from '../../src/openflow/errors.js';
import { OpenFlowListener, type ListenerEvents, type ListenerOptions } from '../../src/openflow/listener.js';
import { FakeSwitch, port, type FakeSwitchOptions } from './fake-switch.js';

let listener: OpenFlowListener;
let switches: FakeSwitch[] = [];

async function startListener(options: ListenerOptions = {}): Promise<number> {
  listener = new OpenFlowListener({ host: '127.0.0.1', port: 0, ...options });
  const address = await listener.listen();
  return address.port;
}

function fakeSwitch(options: Omit<FakeSwitchOptions, 'port'>): FakeSwitch {
  const sw = new FakeSwitch({ port: listener.address!.port, ...options });
  switches.push(sw);
  return sw;
}

function nextEvent<K extends 'switchConnected' | 'switchDisconnected' | 'handshakeFailed' | 'switchRefused'>(name: K): Promise<ListenerEvents[K]> {
  return new Promise((resolve) => (listener as EventEmitter).once(name, (...args: unknown[]) => resolve(args as ListenerEvents[K])));
}

async function connected(options: Omit<FakeSwitchOptions, 'port'> = {}): Promise<{ sw: FakeSwitch; conn: SwitchConnection }> {
  const event = nextEvent('switchConnected');
  const sw = fakeSwitch(options);
  const [conn] = await event;
  return { sw, conn };
}

beforeEach(async () => {
  switches = [];
  await startListener();
});

afterEach(async () => {
  for (const sw of switches) sw.destroy();
  await listener.close();
});

describe('handshake and version negotiation', () => {
  test('an OpenFlow 1.3 switch is announced with its datapath id and its ports, reassembled from a 3-part port-desc', async () => {
    const ports = [port(1, 'a'), port(2, 'b'), port(3, 'c'), port(4, 'd'), port(OFPP.LOCAL, 'br0')];
    const { sw, conn } = await connected({ datapathId: 0xabcdefn, ports, portDescParts: 3 });
    expect(conn.state).toBe('ready');
    expect(conn.datapathId).toBe(0xabcdefn);
    expect(conn.dpid).toBe('0000000000abcdef');
    expect(listener.switches.get(0xabcdefn)).toBe(conn);
    expect([...conn.ports.keys()].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, OFPP.LOCAL]);
    expect(conn.ports.get(3)?.name).toBe('c');
    // the controller's hello offered exactly 1.3; it then configured miss_send_len
    const hello = sw.received.find((m) => m.type === 'hello');
    expect(hello).toMatchObject({ versions: [4] });
    const config = await sw.waitFor((m) => m.type === 'set_config');
    expect(config).toMatchObject({ missSendLen: 0xffff });
  });

  test('a switch offering 1.0 and 1.3 in its bitmap with a newer header version negotiates 1.3', async () => {
    const hello = encodeMessage({ type: 'hello', xid: 1, versions: [1, 4, 5] }).slice();
    hello[0] = 5;
    const { conn } = await connected({ hello });
    expect(conn.peerVersions).toEqual([1, 4, 5]);
    expect(conn.state).toBe('ready');
  });

  test('an OpenFlow 1.0-only switch gets OFPET_HELLO_FAILED / INCOMPATIBLE in its own version and is closed', async () => {
    const failed = nextEvent('handshakeFailed');
    const sw = fakeSwitch({ hello: Uint8Array.of(0x01, 0, 0, 8, 0, 0, 0, 1) });
    const [error] = await failed;
    expect(error).toBeInstanceOf(HelloFailedError);
    expect((error as HelloFailedError).peerVersions).toEqual([1]);
    await sw.closed;
    // the controller's hello, then the error — encoded with version 0x01 so the switch can read it
    const errorFrame = sw.frames.find((f) => f[1] === 1);
    expect(errorFrame).toBeDefined();
    expect(errorFrame![0]).toBe(0x01);
    const view = new DataView(errorFrame!.buffer, errorFrame!.byteOffset);
    expect(view.getUint16(8)).toBe(OFPET.HELLO_FAILED);
    expect(view.getUint16(10)).toBe(OFPHFC.INCOMPATIBLE);
    expect(new TextDecoder().decode(errorFrame!.subarray(12))).toMatch(/OpenFlow 1\.3 \(0x04\) only.*0x01/);
    expect(listener.switches.size).toBe(0);
  });

  test('a bitmap without 1.3 fails even with a 1.3 header version', async () => {
    const failed = nextEvent('handshakeFailed');
    fakeSwitch({ hello: { type: 'hello', xid: 1, versions: [1, 2, 3] } });
    const [error] = await failed;
    expect(error).toBeInstanceOf(HelloFailedError);
  });
});

describe('requests and replies', () => {
  test('concurrent requests are matched by xid even when the replies come back in another order, multipart reassembled', async () => {
    let flowRequestXid = 0;
    const { sw, conn } = await connected({
      onMessage: (m) => {
        if (m.type === 'multipart_request' && m.body.bodyType === 'flow') {
          flowRequestXid = m.xid;
          return true; // answered below, after the barrier
        }
        return false;
      },
    });
    const flows = conn.multipart({ bodyType: 'flow', tableId: 0xff, outPort: OFPP.ANY, outGroup: 0xffffffff, cookie: 0n, cookieMask: 0n, match: [] });
    await sw.waitFor((m) => m.type === 'multipart_request' && m.body.bodyType === 'flow');
    await conn.barrier(); // answered at once by the fake switch, before the flow stats
    const stat = (cookie: bigint) => ({
      tableId: 0,
      durationSec: 1,
      durationNsec: 2,
      priority: 10,
      idleTimeout: 0,
      hardTimeout: 0,
      flags: 0,
      cookie,
      packetCount: 3n,
      byteCount: 4n,
      match: [],
      instructions: [],
    });
    sw.send({ type: 'multipart_reply', xid: flowRequestXid, flags: 1, body: { bodyType: 'flow', stats: [stat(1n), stat(2n)] } });
    sw.send({ type: 'multipart_reply', xid: flowRequestXid, flags: 1, body: { bodyType: 'flow', stats: [stat(3n)] } });
    sw.send({ type: 'multipart_reply', xid: flowRequestXid, flags: 0, body: { bodyType: 'flow', stats: [stat(4n)] } });
    const body = await flows;
    expect(body.stats.map((s) => s.cookie)).toEqual([1n, 2n, 3n, 4n]);
  });

  test('an error with the request xid rejects that request with a typed error naming type and code', async () => {
    const { conn } = await connected({
      onMessage: (m, sw) => {
        if (m.type === 'meter_mod' && m.bands.some((b) => b.type === 'dscp_remark')) {
          sw.send({ type: 'error', xid: m.xid, errorType: OFPET.METER_MOD_FAILED, code: OFPMMFC.BAD_BAND, data: encodeMessage(m).subarray(0, 64) });
          return true;
        }
        return false;
      },
    });
    const refused = conn.sendConfirmed([
      flowMod({ match: [{ field: 'in_port', value: 1 }], instructions: [] }),
      meterMod({ meterId: 1, bands: [{ type: 'dscp_remark', rate: 1000, burstSize: 0, precLevel: 1 }] }),
    ]);
    const error = await refused.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OfpErrorReply);
    expect(error).toMatchObject({ typeName: 'OFPET_METER_MOD_FAILED', codeName: 'OFPMMFC_BAD_BAND', requestType: 'meter_mod', datapathId: 0x1234n });
    // messages that the switch accepted confirm normally
    await expect(conn.sendConfirmed(meterMod({ meterId: 2, bands: [dropBand(1000)] }))).resolves.toBeUndefined();
  });

  test('an error answering a request (not a sendConfirmed) rejects the request', async () => {
    const { conn } = await connected({
      onMessage: (m, sw) => {
        if (m.type === 'role_request') {
          sw.send({ type: 'error', xid: m.xid, errorType: OFPET.ROLE_REQUEST_FAILED, code: 0, data: new Uint8Array(0) });
          return true;
        }
        return false;
      },
    });
    await expect(conn.requestRole('master', 5n)).rejects.toMatchObject({ typeName: 'OFPET_ROLE_REQUEST_FAILED', codeName: 'OFPRRFC_STALE', requestType: 'role_request' });
  });

  test('a request for a message without a reply, or an invalid message, is refused before anything is sent', async () => {
    const { sw, conn } = await connected({});
    const before = sw.frames.length;
    // a JavaScript caller can pass anything; TypeScript callers cannot
    await expect(conn.request(flowMod() as never)).rejects.toThrow(/flow_mod has no reply/);
    const invalid = flowMod({ match: [{ field: 'tcp_dst', value: 80 }] });
    await expect(conn.sendConfirmed([flowMod(), invalid])).rejects.toMatchObject({ name: 'OfpEncodeError' });
    expect(() => conn.send(invalid)).toThrow(/tcp_dst/);
    await conn.barrier();
    expect(sw.frames.slice(before).map((f) => f[1])).toEqual([20]); // only the barrier request
  });

  test('role requests: the reply sets the role', async () => {
    const { sw, conn } = await connected({
      onMessage: (m, s) => {
        if (m.type === 'role_request') {
          s.send({ type: 'role_reply', xid: m.xid, role: m.role, generationId: m.generationId });
          return true;
        }
        return false;
      },
    });
    const reply = await conn.requestRole('slave', 42n);
    expect(reply).toEqual({ role: 'slave', generationId: 42n });
    expect(conn.role).toBe('slave');
    const sent = await sw.waitFor((m) => m.type === 'role_request');
    expect(sent).toMatchObject({ role: 3, generationId: 42n });
    // without a generation id one is chosen, growing
    await conn.requestRole('master');
    await conn.requestRole('master');
    const gens = sw.received.filter((m): m is Extract<OfpMessage, { type: 'role_request' | 'role_reply' }> => m.type === 'role_request').map((m) => m.generationId);
    expect(gens[2]! > gens[1]!).toBe(true);
    expect(conn.role).toBe('master');
  });

  test('asynchronous messages become events; the switch echo is answered', async () => {
    const { sw, conn } = await connected({});
    const packetIn = new Promise<OfpMessage>((resolve) => conn.once('packetIn', resolve));
    const data = Uint8Array.from({ length: 60 }, (_, i) => i);
    sw.send({ type: 'packet_in', xid: 0, bufferId: 0xffffffff, totalLen: 60, reason: 0, tableId: 0, cookie: 0n, match: [{ field: 'in_port', value: 2 }], data });
    expect(await packetIn).toMatchObject({ type: 'packet_in', data });
    sw.send({ type: 'echo_request', xid: 777, data: Uint8Array.of(1, 2, 3) });
    const reply = await sw.waitFor((m) => m.type === 'echo_reply' && m.xid === 777);
    expect(reply).toMatchObject({ data: Uint8Array.of(1, 2, 3) });
    const portStatus = new Promise<unknown>((resolve) => conn.once('portStatus', resolve));
    sw.send({ type: 'port_status', xid: 0, reason: 0, desc: port(9, 'new0') });
    await portStatus;
    expect(conn.ports.get(9)?.name).toBe('new0');
  });

  test('a second connection claiming a connected datapath id is refused while the first answers', async () => {
    const first = await connected({ datapathId: 5n });
    const refused = nextEvent('switchRefused');
    const impostor = fakeSwitch({ datapathId: 5n });
    const [which, reason] = await refused;
    expect(reason).toBe('duplicate-datapath');
    expect(which).not.toBe(first.conn);
    await impostor.closed;
    expect(listener.switches.get(5n)).toBe(first.conn);
    expect(first.conn.state).toBe('ready');
  });

  test('a reconnection from the same peer takes over once the first connection stops answering echoes', async () => {
    const first = await connected({ datapathId: 6n });
    first.sw.answerEcho = false;
    const gone = nextEvent('switchDisconnected');
    const second = await connected({ datapathId: 6n });
    const [which, reason] = await gone;
    expect(which).toBe(first.conn);
    expect(reason).toMatch(/replaced by a reconnection/);
    expect(listener.switches.get(6n)).toBe(second.conn);
  });

  test('with an allow-list, a datapath id not on it is refused after the handshake', async () => {
    await listener.close();
    await startListener({ allowedDatapaths: new Set([7n]) });
    const refused = nextEvent('switchRefused');
    const stranger = fakeSwitch({ datapathId: 8n });
    expect((await refused)[1]).toBe('not-allowed');
    await stranger.closed;
    const { conn } = await connected({ datapathId: 7n });
    expect(listener.switches.get(7n)).toBe(conn);
    expect(listener.switches.has(8n)).toBe(false);
  });

  test('closing rejects outstanding requests with ConnectionClosedError, and the listener reports the disconnect', async () => {
    const { sw, conn } = await connected({ onMessage: (m) => m.type === 'barrier_request' });
    const pending = conn.barrier();
    await sw.waitFor((m) => m.type === 'barrier_request');
    const gone = nextEvent('switchDisconnected');
    sw.destroy();
    await expect(pending).rejects.toBeInstanceOf(ConnectionClosedError);
    const [which, reason] = await gone;
    expect(which).toBe(conn);
    expect(String(reason)).toMatch(/closed by the switch|socket error/);
    expect(listener.switches.size).toBe(0);
  });
});

describe('dialling a switch that listens (OVS ptcp:)', () => {
  /** A passive switch: a TCP server whose accepted sockets become FakeSwitches. */
  async function passiveSwitch(datapathId: bigint): Promise<{ server: Server; port: number; accepted: FakeSwitch[] }> {
    const accepted: FakeSwitch[] = [];
    const server = createServer((socket: Socket) => {
      const sw = new FakeSwitch({ port: 0, socket, datapathId, ports: [port(1, 'p1')] });
      accepted.push(sw);
      switches.push(sw);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    return { server, port: (server.address() as AddressInfo).port, accepted };
  }

  test('the listener dials the switch, completes the handshake and announces it like one that connected', async () => {
    const sw = await passiveSwitch(0xabcn);
    const event = nextEvent('switchConnected');
    const stop = listener.dial({ host: '127.0.0.1', port: sw.port });
    const [conn] = await event;
    expect(conn.datapathId).toBe(0xabcn);
    expect(listener.switches.get(0xabcn)).toBe(conn);
    expect([...conn.ports.values()].map((p) => p.name)).toEqual(['p1']);
    stop();
    await sw.accepted[0]!.closed;
    sw.server.close();
  });

  test('a refused dial is reported and retried with backoff until the switch listens; a lost connection is redialled', async () => {
    // Find a free port, then leave it closed: the first dials are refused.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const freePort = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const failures: number[] = [];
    listener.on('dialFailed', (_err, _target, retryInMs) => failures.push(retryInMs));
    const stop = listener.dial({ host: '127.0.0.1', port: freePort }, { retryMinMs: 20, retryMaxMs: 80 });
    await new Promise((r) => setTimeout(r, 250));
    expect(failures.length).toBeGreaterThanOrEqual(3);
    expect(failures.slice(0, 3)).toEqual([20, 40, 80]);
    expect(Math.max(...failures)).toBe(80);

    // Now the switch listens on that port: the next dial gets through.
    const accepted: FakeSwitch[] = [];
    const server = createServer((socket: Socket) => {
      const sw = new FakeSwitch({ port: 0, socket, datapathId: 0xdefn });
      accepted.push(sw);
      switches.push(sw);
    });
    await new Promise<void>((r) => server.listen(freePort, '127.0.0.1', () => r()));
    const [conn] = await nextEvent('switchConnected');
    expect(conn.datapathId).toBe(0xdefn);

    // The switch drops the connection: it is reported gone, then dialled again (backoff reset).
    const gone = nextEvent('switchDisconnected');
    const again = nextEvent('switchConnected');
    accepted[0]!.destroy();
    await gone;
    const [conn2] = await again;
    expect(conn2).not.toBe(conn);
    expect(conn2.datapathId).toBe(0xdefn);
    stop();
    await accepted[1]!.closed;
    server.close();
  });

  test('closing the listener stops its dials', async () => {
    const sw = await passiveSwitch(0x77n);
    const event = nextEvent('switchConnected');
    listener.dial({ host: '127.0.0.1', port: sw.port }, { retryMinMs: 10 });
    await event;
    await listener.close();
    await sw.accepted[0]!.closed;
    await new Promise((r) => setTimeout(r, 100));
    expect(sw.accepted).toHaveLength(1);
    sw.server.close();
  });
});

describe('bad input from the switch', () => {
  test('a header with length < 8 gets OFPET_BAD_REQUEST / BAD_LEN and a clean close', async () => {
    const { sw, conn } = await connected({});
    const gone = nextEvent('switchDisconnected');
    sw.sendRaw(Uint8Array.of(4, 2, 0, 5, 0, 0, 0x12, 0x34));
    await sw.closed;
    const error = sw.received.find((m) => m.type === 'error');
    expect(error).toMatchObject({ errorType: OFPET.BAD_REQUEST, code: OFPBRC.BAD_LEN, xid: 0x1234 });
    const [, reason] = await gone;
    expect(String(reason)).toMatch(/bad message header: header length 5 < 8/);
    expect(conn.state).toBe('closed');
  });

  test('a wrong version after negotiation gets OFPET_BAD_REQUEST / BAD_VERSION and a clean close', async () => {
    const { sw } = await connected({});
    sw.sendRaw(Uint8Array.of(1, 2, 0, 8, 0, 0, 0, 9));
    await sw.closed;
    expect(sw.received.find((m) => m.type === 'error')).toMatchObject({ errorType: OFPET.BAD_REQUEST, code: OFPBRC.BAD_VERSION, xid: 9 });
  });

  test('hundreds of mutated messages with intact headers never throw: each is answered or handled, the connection stays', async () => {
    const { sw, conn } = await connected({});
    const decodeErrors: unknown[] = [];
    conn.on('decodeError', (e) => decodeErrors.push(e));
    const templates = [
      encodeMessage({ type: 'packet_in', xid: 0, bufferId: 0xffffffff, totalLen: 20, reason: 0, tableId: 0, cookie: 1n, match: [{ field: 'in_port', value: 1 }], data: new Uint8Array(20) }),
      encodeMessage({ type: 'port_status', xid: 0, reason: 2, desc: port(1, 'x') }),
      encodeMessage({ type: 'multipart_reply', xid: 0x7fff0000, flags: 0, body: { bodyType: 'port_desc', ports: [port(1, 'x')] } }),
    ];
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let i = 0; i < 300; i++) {
      const msg = templates[i % templates.length]!.slice();
      for (let k = 0; k < 3; k++) msg[8 + Math.floor(random() * (msg.length - 8))] = Math.floor(random() * 256);
      sw.sendRaw(msg);
    }
    // The first barrier reply comes after all 300 messages were handled; the errors they
    // caused were sent before the second barrier request, so the switch has them all then.
    await conn.barrier();
    await conn.barrier();
    expect(conn.state).toBe('ready');
    expect(decodeErrors.length).toBeGreaterThan(0);
    const answered = sw.received.filter((m) => m.type === 'error').length;
    expect(answered).toBe(decodeErrors.length);
  });

  test('a message that frames well but does not decode is answered with an error; the connection stays', async () => {
    const { sw, conn } = await connected({});
    const decodeError = new Promise<unknown>((resolve) => conn.once('decodeError', resolve));
    sw.sendRaw(Uint8Array.of(4, 99, 0, 8, 0, 0, 0, 5)); // unknown message type 99
    await decodeError;
    const error = await sw.waitFor((m) => m.type === 'error');
    expect(error).toMatchObject({ errorType: OFPET.BAD_REQUEST, code: OFPBRC.BAD_TYPE, xid: 5 });
    await conn.barrier();
    expect(conn.state).toBe('ready');
  });
});

const openssl = spawnSync('openssl', ['version']).status === 0;

describe.skipIf(!openssl)(`TLS${openssl ? '' : ' (skipped: openssl not found to make a test certificate)'}`, () => {
  test('a switch connecting over TLS completes the handshake', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'payflow-tls-'));
    try {
      const key = join(dir, 'key.pem');
      const cert = join(dir, 'cert.pem');
      const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=payflow-test']);
      expect(made.status).toBe(0);
      await listener.close();
      await startListener({ tls: { key: readFileSync(key), cert: readFileSync(cert) } });
      const { sw, conn } = await connected({ tls: true, datapathId: 77n });
      expect(conn.datapathId).toBe(77n);
      expect(conn.socket.constructor.name).toBe('TLSSocket');
      await conn.barrier();
      expect(sw.received.some((m) => m.type === 'barrier_request')).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('keepalive', () => {
  test('a switch that stops answering is closed after the dead-peer timeout, having been sent echo requests', async () => {
    await listener.close();
    await startListener({ echoIntervalMs: 100, deadPeerTimeoutMs: 600 });
    const { sw, conn } = await connected({ answerEcho: false });
    const closed = new Promise<string>((resolve) => conn.once('close', resolve));
    const reason = await closed;
    expect(reason).toMatch(/echo timeout/);
    expect(sw.received.filter((m) => m.type === 'echo_request').length).toBeGreaterThanOrEqual(1);
  });

  test('a switch that answers echo requests stays connected', async () => {
    await listener.close();
    await startListener({ echoIntervalMs: 50, deadPeerTimeoutMs: 5_000 });
    const { sw, conn } = await connected({});
    await sw.waitForCount('echo_request', 4);
    expect(conn.state).toBe('ready');
  });
});

describe('back-pressure', () => {
  test('when the switch stops reading, send returns false, messages queue, and all arrive in order after it resumes', async () => {
    const { sw, conn } = await connected({});
    sw.socket.pause();
    const payload = new Uint8Array(60_000);
    let sent = 0;
    let refusedAt = -1;
    // Fill the kernel buffers and the socket's own until the connection pushes back.
    while (refusedAt < 0 && sent < 5_000) {
      const accepted = conn.send(packetOut({ actions: [output(1)], data: payload }));
      sent++;
      if (!accepted) refusedAt = sent;
    }
    expect(refusedAt).toBeGreaterThan(0);
    expect(conn.writable).toBe(false);
    for (let i = 0; i < 5; i++) expect(conn.send(packetOut({ actions: [output(2)], data: payload }))).toBe(false);
    expect(conn.queuedBytes).toBeGreaterThanOrEqual(5 * 60_000);
    const drained = conn.drained();
    sw.socket.resume();
    await drained;
    expect(conn.queuedBytes).toBe(0);
    await sw.waitForCount('packet_out', sent + 5);
    const outs = sw.received.filter((m): m is Extract<OfpMessage, { type: 'packet_out' }> => m.type === 'packet_out');
    const xids = outs.map((m) => m.xid);
    expect(xids).toEqual([...xids].sort((a, b) => a - b));
    expect(outs.slice(-5).every((m) => m.actions[0]?.type === 'output' && m.actions[0].port === 2)).toBe(true);
  });

  test('past the queue limit send throws OutboundQueueFullError instead of buffering without end', async () => {
    await listener.close();
    await startListener({ maxOutboundBytes: 200_000 });
    const { sw, conn } = await connected({});
    sw.socket.pause();
    const payload = new Uint8Array(60_000);
    let error: unknown;
    for (let i = 0; i < 5_000 && error === undefined; i++) {
      try {
        conn.send(packetOut({ actions: [output(1)], data: payload }));
      } catch (e) {
        error = e;
      }
    }
    expect(error).toBeInstanceOf(OutboundQueueFullError);
    expect(conn.queuedBytes).toBeLessThanOrEqual(200_000);
  });
});
