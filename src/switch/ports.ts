// Switch ports: one Linux interface each, opened as an AF_PACKET raw socket bound to its
// ifindex for every protocol (packet(7), ETH_P_ALL), in promiscuous mode
// (PACKET_ADD_MEMBERSHIP with PACKET_MR_PROMISC) and with PACKET_IGNORE_OUTGOING so the
// switch never reads back what it sent. Frames move in batches, one of two ways:
//
// - RingPort (the default): TPACKET_V2 receive and transmit rings shared with the kernel
//   through mmap(2) (the kernel's Documentation/networking/packet_mmap.rst). The kernel writes
//   each arriving frame into the next slot of the receive ring; the switch reads frames where
//   they lie, with no system call while frames are waiting, and hands the slots back once the
//   batch is switched. Outgoing frames are copied into the next slots of the transmit ring,
//   and one send(2) per batch tells the kernel to send them all. The receive ring is also the
//   only receive queue: its size bounds how long a frame can wait in the switch.
// - PacketPort (the fallback when rings cannot be set up): recvmmsg(2) fills up to `batch`
//   fixed slots of native memory in one call, and sendmmsg(2) sends a port's queued frames in
//   one call, each iovec pointing straight at the slot the frame arrived in. Control messages
//   carry what the ring's slot header carries: the receive time (SO_TIMESTAMPNS) and the VLAN
//   tag the kernel took off (PACKET_AUXDATA).
//
// All calls are non-blocking (MSG_DONTWAIT).
import { readFileSync } from 'node:fs';
import {
  AF_PACKET, AUX_STATUS, AUX_VLAN_TCI, AUX_VLAN_TPID, CMSG_HDR_LEN, CMSG_LEVEL_OFFSET, CMSG_TYPE_OFFSET, EAGAIN, EINTR, ENOBUFS, ETH_P_ALL_BE,
  IOVEC_LEN, MAP_SHARED, MMSGHDR_LEN, MMSGHDR_LEN_OFFSET, MSGHDR_CONTROLLEN_OFFSET, MSGHDR_CONTROL_OFFSET, MSGHDR_FLAGS_OFFSET, MSGHDR_IOVLEN_OFFSET,
  MSGHDR_IOV_OFFSET, MSG_DONTWAIT, MSG_TRUNC, PACKET_AUXDATA, SCM_TIMESTAMPNS, SO_TIMESTAMPNS, PACKET_ADD_MEMBERSHIP, PACKET_IGNORE_OUTGOING, PACKET_LOSS, PACKET_MREQ_LEN, PACKET_MR_PROMISC,
  PACKET_RX_RING, PACKET_STATISTICS, PACKET_TX_RING, PACKET_VERSION, PACKET_VNET_HDR, VIRTIO_NET_HDR_LEN, PROT_READ, PROT_WRITE,
  SOCKADDR_LL_LEN, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_RAW, SOL_PACKET, SOL_SOCKET, SO_RCVBUF, SO_SNDBUF,
  TP2_LEN, TP2_MAC, TP2_NSEC, TP2_SEC, TP2_SNAPLEN, TP2_VLAN_TCI, TP2_VLAN_TPID, TPACKET2_HDR_LEN, TPACKET2_TX_DATA, TPACKET_REQ_LEN, TPACKET_STATS_LEN, TPACKET_V2,
  TP_STATUS_AVAILABLE, TP_STATUS_KERNEL, TP_STATUS_LOSING, TP_STATUS_SEND_REQUEST, TP_STATUS_USER, TP_STATUS_VLAN_TPID_VALID, TP_STATUS_VLAN_VALID,
  lastError, libc, type Libc, type NativeBlock,
} from './libc.js';

/** Room for a 1500-byte MTU frame with two VLAN tags; a longer frame is dropped and counted in rx_errors. */
export const SLOT_SIZE = 2048;
export const DEFAULT_BATCH = 64;
/**
 * Receive-queue bound of the recvmmsg port: SO_RCVBUF counts each small frame at a few hundred
 * bytes of kernel memory, so 256 KiB holds some hundreds of frames, a millisecond or so of
 * overload, instead of the many milliseconds 4 MiB held.
 */
const SOCKET_BUFFER_BYTES = 256 << 10;
/**
 * Control messages of one received frame on a recvmmsg port: its receive time (a struct
 * timespec) and its tpacket_auxdata (20 bytes), each behind a 16-byte header, 8-byte aligned.
 */
const CONTROL_LEN = CMSG_HDR_LEN + 16 + CMSG_HDR_LEN + 24;
/** a VLAN tag put back into a frame */
const VLAN_TAG_LEN = 4;
/**
 * Receive ring slots per ring port (8 MiB with 2 KiB slots): room for several milliseconds of
 * traffic while the switch's thread is not scheduled, which on a busy machine decides the
 * throughput more than anything else (1024 slots forwarded a third as much on a loaded 2-core
 * machine). How long a frame may wait there is bounded by DEFAULT_RX_MAX_WAIT_MS.
 */
export const DEFAULT_RING_FRAMES = 4096;
/**
 * When the receive ring is full, a frame at its head that arrived more than this (ms) before the
 * newest one is dropped and counted in rx_dropped. Under overload the ring is always full;
 * dropping what is stale keeps the queueing delay of what is forwarded at this bound instead of
 * the ring's whole length, and costs no throughput (there are always fresh frames behind).
 */
export const DEFAULT_RX_MAX_WAIT_MS = 5;
/** ring slots per ring block (a block is the kernel's unit of ring memory) */
const RING_BLOCK_FRAMES = 16;

/** Per-port counters, indexes into PortCounters (a Float64Array, shareable between threads). */
export const C_RX_PACKETS = 0;
export const C_RX_BYTES = 1;
export const C_TX_PACKETS = 2;
export const C_TX_BYTES = 3;
export const C_RX_DROPPED = 4;
export const C_TX_DROPPED = 5;
export const C_RX_ERRORS = 6;
export const C_TX_ERRORS = 7;
/** frames the parser refused (still switched on the fields it had) */
export const C_RX_MALFORMED = 8;
export const PORT_COUNTERS = 9;

export class PortOpenError extends Error {
  override name = 'PortOpenError';
}

/** What /sys/class/net says about an interface (no socket needed). */
export interface InterfaceInfo {
  name: string;
  ifindex: number;
  mac: string;
  up: boolean;
  /** link speed in Mbit/s when the driver reports one */
  speedMbps?: number;
  mtu?: number;
}

export function interfaceInfo(name: string): InterfaceInfo {
  if (!/^[A-Za-z0-9_.:@-]{1,15}$/.test(name)) throw new PortOpenError(`'${name}' is not a valid interface name`);
  const dir = `/sys/class/net/${name}`;
  let ifindex: number;
  try {
    ifindex = Number(readFileSync(`${dir}/ifindex`, 'utf8').trim());
  } catch {
    throw new PortOpenError(`no network interface named '${name}'`);
  }
  const read = (file: string): string | undefined => {
    try {
      return readFileSync(`${dir}/${file}`, 'utf8').trim();
    } catch {
      return undefined;
    }
  };
  const speed = Number(read('speed'));
  const mtu = Number(read('mtu'));
  return {
    name,
    ifindex,
    mac: read('address') ?? '00:00:00:00:00:00',
    up: read('operstate') === 'up' || read('carrier') === '1',
    ...(Number.isFinite(speed) && speed > 0 ? { speedMbps: speed } : {}),
    ...(Number.isFinite(mtu) && mtu > 0 ? { mtu } : {}),
  };
}

/** How a port moves frames: TPACKET_V2 rings, or recvmmsg/sendmmsg. */
export type PortIo = 'ring' | 'mmsg';

/** What the datapath needs of a port, whichever way it moves frames. */
export interface SwitchPort {
  readonly name: string;
  readonly portNo: number;
  readonly ifindex: number;
  readonly batch: number;
  readonly counters: Float64Array;
  readonly io: PortIo;
  /** the frames of the last receive: frame i starts at rxFirst + i × rxStride and is rxLengths[i] bytes long */
  readonly rx: Uint8Array;
  readonly rxFirst: number;
  readonly rxStride: number;
  readonly rxLengths: Uint32Array;
  readonly fileDescriptor: number;
  /** Receives up to `batch` frames; returns how many (0 when none is waiting). */
  receive(): number;
  /** Hands the last receive's frames back (after they are switched and their outputs queued). */
  release(): void;
  /**
   * When frame i of the last receive arrived, stamped by the kernel, in milliseconds of the
   * real-time clock (comparable across ports); NaN when the port does not know.
   */
  arrivalMs(i: number): number;
  /** Queues a copy of `len` bytes of `frame` from `offset` for sending. */
  queueCopy(frame: Uint8Array, offset: number, len: number): void;
  /** Sends everything queued. */
  flush(): void;
  close(): void;
}

/** Options of openPort. */
export interface PortOptions {
  /** frames per receive (default DEFAULT_BATCH) */
  batch?: number;
  /** 'ring' (default) falls back to 'mmsg' when the rings cannot be set up */
  io?: PortIo;
  /** slots of the receive ring (default DEFAULT_RING_FRAMES) */
  ringFrames?: number;
  /** longest wait in the receive ring before a frame is dropped, ms (default DEFAULT_RX_MAX_WAIT_MS; 0: no bound) */
  maxWaitMs?: number;
}

/**
 * Opens a port with TPACKET_V2 rings, or with recvmmsg/sendmmsg when `io` asks for it or the
 * kernel refuses the rings; `fallback` then says why, for the log.
 */
export function openPort(name: string, portNo: number, counters: Float64Array, options: PortOptions = {}): { port: SwitchPort; fallback?: string } {
  const batch = options.batch ?? DEFAULT_BATCH;
  if (options.io === 'mmsg') return { port: new PacketPort(name, portNo, counters, batch) };
  try {
    return { port: new RingPort(name, portNo, counters, batch, options.ringFrames, options.maxWaitMs) };
  } catch (err) {
    if (!(err instanceof RingUnavailableError)) throw err;
    return { port: new PacketPort(name, portNo, counters, batch), fallback: `port ${name}: ${err.message}; using recvmmsg/sendmmsg` };
  }
}

/** Opens the packet socket of an interface; `configure` sets options before bind(2). Closes it on any failure. */
function openPacketSocket(c: Libc, name: string, ifindex: number, configure: (setOption: (level: number, option: number, value: Uint8Array, what: string) => void) => void): number {
  const fd = c.socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, ETH_P_ALL_BE);
  if (fd < 0) {
    const { message, errno } = lastError(c, `opening a packet socket on ${name}`);
    throw new PortOpenError(errno === 1 ? `${message}: the switch needs root (CAP_NET_RAW)` : message);
  }
  const setOption = (level: number, option: number, value: Uint8Array, what: string): void => {
    if (c.setsockopt(fd, level, option, value, value.length) < 0) throw new PortOpenError(lastError(c, `setting ${what} on ${name}`).message);
  };
  try {
    setOption(SOL_PACKET, PACKET_IGNORE_OUTGOING, int32(1), 'PACKET_IGNORE_OUTGOING (Linux 4.20 or later)');
    configure(setOption);
    const addr = new Uint8Array(SOCKADDR_LL_LEN);
    const a = new DataView(addr.buffer);
    a.setUint16(0, AF_PACKET, true);
    a.setUint16(2, ETH_P_ALL_BE, true);
    a.setInt32(4, ifindex, true);
    if (c.bind(fd, addr, SOCKADDR_LL_LEN) < 0) throw new PortOpenError(lastError(c, `binding to ${name}`).message);
    const mreq = new Uint8Array(PACKET_MREQ_LEN);
    const m = new DataView(mreq.buffer);
    m.setInt32(0, ifindex, true);
    m.setUint16(4, PACKET_MR_PROMISC, true);
    setOption(SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq, 'promiscuous mode');
  } catch (err) {
    c.close(fd);
    throw err;
  }
  return fd;
}

/** A port on recvmmsg(2)/sendmmsg(2) and fixed slots of native memory. */
export class PacketPort implements SwitchPort {
  readonly io = 'mmsg';
  readonly rxFirst = 0;
  readonly rxStride = SLOT_SIZE;
  readonly name: string;
  readonly portNo: number;
  readonly ifindex: number;
  readonly batch: number;
  /** received frames: slot i starts at i × SLOT_SIZE */
  readonly rx: Uint8Array;
  /** lengths of the frames of the last receive */
  readonly rxLengths: Uint32Array;
  private readonly c: Libc;
  private fd: number;
  private readonly rxData: NativeBlock;
  private readonly rxHdrs: NativeBlock;
  private readonly rxHdrView: DataView;
  private readonly rxSlotLo: Uint32Array;
  private readonly rxSlotHi: Uint32Array;
  private readonly rxControl: NativeBlock;
  private readonly rxControlView: DataView;
  /** kernel receive times of the last receive's frames (ms, real-time clock) */
  private readonly rxStamps: Float64Array;
  /** how many receive headers the last receive used, whose control lengths the kernel overwrote */
  private rxUsed: number;
  private readonly txHdrs: NativeBlock;
  private readonly txHdrView: DataView;
  private readonly txIovs: NativeBlock;
  private readonly txIovView: DataView;
  private readonly txCopies: NativeBlock;
  private readonly txSlotLo: Uint32Array;
  private readonly txSlotHi: Uint32Array;
  private txCount = 0;
  private readonly iovKeepAlive: NativeBlock;

  constructor(name: string, portNo: number, readonly counters: Float64Array, batch = DEFAULT_BATCH) {
    this.name = name;
    this.portNo = portNo;
    this.batch = batch;
    this.ifindex = interfaceInfo(name).ifindex;
    const c = (this.c = libc());
    this.fd = openPacketSocket(c, name, this.ifindex, (setOption) => {
      setOption(SOL_SOCKET, SO_RCVBUF, int32(SOCKET_BUFFER_BYTES), 'SO_RCVBUF');
      setOption(SOL_SOCKET, SO_SNDBUF, int32(SOCKET_BUFFER_BYTES), 'SO_SNDBUF');
      setOption(SOL_SOCKET, SO_TIMESTAMPNS, int32(1), 'SO_TIMESTAMPNS');
      setOption(SOL_PACKET, PACKET_AUXDATA, int32(1), 'PACKET_AUXDATA');
    });

    this.rxData = c.alloc(batch * SLOT_SIZE);
    this.rx = this.rxData.bytes;
    this.rxLengths = new Uint32Array(batch);
    this.rxHdrs = c.alloc(batch * MMSGHDR_LEN);
    this.rxHdrView = new DataView(this.rxHdrs.bytes.buffer, this.rxHdrs.bytes.byteOffset, this.rxHdrs.bytes.byteLength);
    this.iovKeepAlive = c.alloc(batch * IOVEC_LEN);
    const rxIov = new DataView(this.iovKeepAlive.bytes.buffer, this.iovKeepAlive.bytes.byteOffset, batch * IOVEC_LEN);
    this.rxSlotLo = new Uint32Array(batch);
    this.rxSlotHi = new Uint32Array(batch);
    this.rxControl = c.alloc(batch * CONTROL_LEN);
    this.rxControlView = new DataView(this.rxControl.bytes.buffer, this.rxControl.bytes.byteOffset, this.rxControl.bytes.byteLength);
    this.rxStamps = new Float64Array(batch);
    this.rxUsed = batch;
    for (let i = 0; i < batch; i++) {
      const slot = this.rxData.address + BigInt(i * SLOT_SIZE);
      this.rxSlotLo[i] = Number(slot & 0xffffffffn);
      this.rxSlotHi[i] = Number(slot >> 32n);
      // a slot keeps room to put a VLAN tag back
      rxIov.setBigUint64(i * IOVEC_LEN, slot, true);
      rxIov.setBigUint64(i * IOVEC_LEN + 8, BigInt(SLOT_SIZE - VLAN_TAG_LEN), true);
      this.rxHdrView.setBigUint64(i * MMSGHDR_LEN + MSGHDR_IOV_OFFSET, this.iovKeepAlive.address + BigInt(i * IOVEC_LEN), true);
      this.rxHdrView.setBigUint64(i * MMSGHDR_LEN + MSGHDR_IOVLEN_OFFSET, 1n, true);
      this.rxHdrView.setBigUint64(i * MMSGHDR_LEN + MSGHDR_CONTROL_OFFSET, this.rxControl.address + BigInt(i * CONTROL_LEN), true);
      this.rxHdrView.setBigUint64(i * MMSGHDR_LEN + MSGHDR_CONTROLLEN_OFFSET, BigInt(CONTROL_LEN), true);
    }

    this.txHdrs = c.alloc(batch * MMSGHDR_LEN);
    this.txHdrView = new DataView(this.txHdrs.bytes.buffer, this.txHdrs.bytes.byteOffset, this.txHdrs.bytes.byteLength);
    this.txIovs = c.alloc(batch * IOVEC_LEN);
    this.txIovView = new DataView(this.txIovs.bytes.buffer, this.txIovs.bytes.byteOffset, this.txIovs.bytes.byteLength);
    this.txCopies = c.alloc(batch * SLOT_SIZE);
    this.txSlotLo = new Uint32Array(batch);
    this.txSlotHi = new Uint32Array(batch);
    for (let i = 0; i < batch; i++) {
      const slot = this.txCopies.address + BigInt(i * SLOT_SIZE);
      this.txSlotLo[i] = Number(slot & 0xffffffffn);
      this.txSlotHi[i] = Number(slot >> 32n);
      this.txHdrView.setBigUint64(i * MMSGHDR_LEN + MSGHDR_IOV_OFFSET, this.txIovs.address + BigInt(i * IOVEC_LEN), true);
      this.txHdrView.setBigUint64(i * MMSGHDR_LEN + MSGHDR_IOVLEN_OFFSET, 1n, true);
    }
  }

  get fileDescriptor(): number {
    return this.fd;
  }

  /**
   * Receives up to `batch` frames into `rx`; returns how many (0 when none is waiting). A frame
   * longer than a slot is dropped and counted, never forwarded cut, and the frames after it
   * move up a slot; a VLAN tag the kernel took off is put back (PACKET_AUXDATA).
   */
  receive(): number {
    if (this.fd < 0) return 0;
    // the kernel overwrote the control lengths of the headers it filled
    // (size_t fields, written and read as their low 32 bits: the high ones stay 0)
    for (let i = 0; i < this.rxUsed; i++) this.rxHdrView.setUint32(i * MMSGHDR_LEN + MSGHDR_CONTROLLEN_OFFSET, CONTROL_LEN, true);
    const n = this.c.recvmmsg(this.fd, this.rxHdrs.pointer, this.batch, MSG_DONTWAIT, null);
    if (n <= 0) {
      this.rxUsed = 0;
      if (n < 0) {
        const errno = this.c.errno();
        if (errno !== EAGAIN && errno !== EINTR) this.counters[C_RX_ERRORS]! += 1;
      }
      return 0;
    }
    this.rxUsed = n;
    let kept = 0;
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const hdr = i * MMSGHDR_LEN;
      let len = this.rxHdrView.getUint32(hdr + MMSGHDR_LEN_OFFSET, true);
      if ((this.rxHdrView.getInt32(hdr + MSGHDR_FLAGS_OFFSET, true) & MSG_TRUNC) !== 0) {
        this.counters[C_RX_ERRORS]! += 1;
        continue;
      }
      if (kept !== i) this.rx.copyWithin(kept * SLOT_SIZE, i * SLOT_SIZE, i * SLOT_SIZE + len);
      len = this.readControl(i, kept, len);
      this.rxLengths[kept++] = len;
      bytes += len;
    }
    this.counters[C_RX_PACKETS]! += kept;
    this.counters[C_RX_BYTES]! += bytes;
    return kept;
  }

  /**
   * Reads the control messages of received frame `i`, now in slot `slot`: its receive time, and
   * a VLAN tag to put back after the MAC addresses. Returns the frame's length.
   */
  private readControl(i: number, slot: number, len: number): number {
    const view = this.rxControlView;
    const end = i * CONTROL_LEN + Math.min(CONTROL_LEN, this.rxHdrView.getUint32(i * MMSGHDR_LEN + MSGHDR_CONTROLLEN_OFFSET, true));
    this.rxStamps[slot] = NaN;
    for (let at = i * CONTROL_LEN; at + CMSG_HDR_LEN <= end;) {
      const cmsgLen = view.getUint32(at, true);
      if (cmsgLen < CMSG_HDR_LEN) break;
      const level = view.getInt32(at + CMSG_LEVEL_OFFSET, true);
      const type = view.getInt32(at + CMSG_TYPE_OFFSET, true);
      const data = at + CMSG_HDR_LEN;
      if (level === SOL_SOCKET && type === SCM_TIMESTAMPNS) {
        this.rxStamps[slot] = (view.getUint32(data, true) + view.getUint32(data + 4, true) * 2 ** 32) * 1000 + view.getUint32(data + 8, true) / 1e6;
      } else if (level === SOL_PACKET && type === PACKET_AUXDATA && len >= 12) {
        const status = view.getUint32(data + AUX_STATUS, true);
        if ((status & TP_STATUS_VLAN_VALID) !== 0) {
          const tpid = (status & TP_STATUS_VLAN_TPID_VALID) !== 0 ? view.getUint16(data + AUX_VLAN_TPID, true) : 0x8100;
          const tci = view.getUint16(data + AUX_VLAN_TCI, true);
          const base = slot * SLOT_SIZE;
          this.rx.copyWithin(base + 12 + VLAN_TAG_LEN, base + 12, base + len);
          this.rx[base + 12] = tpid >> 8;
          this.rx[base + 13] = tpid & 0xff;
          this.rx[base + 14] = tci >> 8;
          this.rx[base + 15] = tci & 0xff;
          len += VLAN_TAG_LEN;
        }
      }
      at += (cmsgLen + 7) & ~7;
    }
    return len;
  }

  /** The frames stay in their slots until the next receive. */
  release(): void {}

  arrivalMs(i: number): number {
    return this.rxStamps[i]!;
  }

  /**
   * Queues frame `slot` of `from`'s last receive for sending on this port, without a copy.
   * The frame must stay untouched until the next flush().
   */
  queueReceived(from: PacketPort, slot: number, len: number): void {
    if (this.txCount === this.batch) this.flush();
    const at = this.txCount * IOVEC_LEN;
    this.txIovView.setUint32(at, from.rxSlotLo[slot]!, true);
    this.txIovView.setUint32(at + 4, from.rxSlotHi[slot]!, true);
    this.txIovView.setUint32(at + 8, len, true);
    this.txIovView.setUint32(at + 12, 0, true);
    this.txCount++;
  }

  /** Queues a copy of `frame` (a packet-out, or a frame that later actions change). */
  queueCopy(frame: Uint8Array, offset: number, len: number): void {
    if (this.txCount === this.batch) this.flush();
    const n = Math.min(len, SLOT_SIZE);
    const slot = this.txCount;
    this.txCopies.bytes.set(frame.subarray(offset, offset + n), slot * SLOT_SIZE);
    // The iovec's address and length as 32-bit halves: BigInt arithmetic per frame cost more
    // than the copy itself.
    const at = slot * IOVEC_LEN;
    this.txIovView.setUint32(at, this.txSlotLo[slot]!, true);
    this.txIovView.setUint32(at + 4, this.txSlotHi[slot]!, true);
    this.txIovView.setUint32(at + 8, n, true);
    this.txIovView.setUint32(at + 12, 0, true);
    this.txCount++;
  }

  /** Sends everything queued, in one sendmmsg(2) call when the socket takes it all. */
  flush(): void {
    let count = this.txCount;
    if (count === 0) return;
    this.txCount = 0;
    if (this.fd < 0) {
      this.counters[C_TX_DROPPED]! += count;
      return;
    }
    let bytes = 0;
    for (let i = 0; i < count; i++) bytes += this.txIovView.getUint32(i * IOVEC_LEN + 8, true);
    for (let attempt = 0; count > 0 && attempt < 3; attempt++) {
      const sent = this.c.sendmmsg(this.fd, this.txHdrs.pointer, count, MSG_DONTWAIT);
      if (sent < 0) {
        const errno = this.c.errno();
        if (errno === EAGAIN || errno === ENOBUFS || errno === EINTR) continue;
        this.counters[C_TX_ERRORS]! += count;
        bytes = 0;
        count = 0;
        break;
      }
      this.counters[C_TX_PACKETS]! += sent;
      if (sent === count) {
        this.counters[C_TX_BYTES]! += bytes;
        count = 0;
        break;
      }
      // Move the unsent messages' iovecs to the front and try again.
      let sentBytes = 0;
      for (let i = 0; i < sent; i++) sentBytes += this.txIovView.getUint32(i * IOVEC_LEN + 8, true);
      this.counters[C_TX_BYTES]! += sentBytes;
      bytes -= sentBytes;
      this.txIovs.bytes.copyWithin(0, sent * IOVEC_LEN, count * IOVEC_LEN);
      count -= sent;
    }
    if (count > 0) this.counters[C_TX_DROPPED]! += count;
  }

  close(): void {
    if (this.fd >= 0) this.c.close(this.fd);
    this.fd = -1;
  }
}

function int32(value: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, value, true);
  return b;
}

/** The kernel refused the rings (an old kernel, or no memory for them): the port can still use recvmmsg. */
export class RingUnavailableError extends PortOpenError {
  override name = 'RingUnavailableError';
}

/**
 * x86-64 keeps stores in order and loads in order (TSO), so plain typed-array accesses to the
 * status words suffice there; elsewhere they go through Atomics, which V8 calls out of line.
 */
const PLAIN_ORDER = process.arch === 'x64';
const loadStatus = (words: Int32Array, at: number): number => (PLAIN_ORDER ? words[at]! : Atomics.load(words, at));
const storeStatus = (words: Int32Array, at: number, value: number): void => {
  if (PLAIN_ORDER) words[at] = value;
  else Atomics.store(words, at, value);
};

/**
 * Where the kernel puts a frame in a TPACKET_V2 receive slot: the 16-aligned header and
 * sockaddr_ll plus 16, plus the virtio_net_hdr, minus the Ethernet header.
 */
const RX_MAC_OFFSET = 76;
/** Where a frame starts in a transmit slot: after the header and its virtio_net_hdr. */
const TX_FRAME = TPACKET2_TX_DATA + VIRTIO_NET_HDR_LEN;

/**
 * A port on TPACKET_V2 receive and transmit rings (packet_mmap.rst), one mapping for both.
 * Each slot starts with a struct tpacket2_hdr whose status word says who owns it; status words
 * are read and written after the frame bytes (loadStatus/storeStatus), so that the bytes are in
 * place before the kernel or the program sees the slot change hands.
 */
export class RingPort implements SwitchPort {
  readonly io = 'ring';
  readonly name: string;
  readonly portNo: number;
  readonly ifindex: number;
  readonly batch: number;
  /** the whole mapping: the receive ring, then the transmit ring */
  readonly rx: Uint8Array;
  rxFirst = 0;
  /** bytes per ring slot */
  readonly rxStride: number;
  readonly rxLengths: Uint32Array;
  /** slots of the receive ring, and of the transmit ring */
  readonly ringFrames: number;
  readonly txFrames: number;
  /** the longest frame a slot holds on receive and on transmit */
  readonly maxFrame: number;
  private readonly c: Libc;
  private fd: number;
  private readonly map: NativeBlock;
  private readonly mapBytes: number;
  private readonly status: Int32Array;
  private readonly u32: Uint32Array;
  private readonly u16: Uint16Array;
  private readonly txBase: number;
  private rxHead = 0;
  private rxTaken = 0;
  private txHead = 0;
  private txQueued = 0;
  private txQueuedBytes = 0;
  private readonly stats = new Uint8Array(TPACKET_STATS_LEN);
  private readonly statsLen = new Uint32Array(1);

  constructor(name: string, portNo: number, readonly counters: Float64Array, batch = DEFAULT_BATCH, ringFrames = DEFAULT_RING_FRAMES, readonly maxWaitMs = DEFAULT_RX_MAX_WAIT_MS) {
    this.name = name;
    this.portNo = portNo;
    this.batch = batch;
    const info = interfaceInfo(name);
    this.ifindex = info.ifindex;
    // A slot holds the header and a frame of the interface's MTU with two VLAN tags.
    let slot = 2048;
    while (slot < RX_MAC_OFFSET + (info.mtu ?? 1500) + 14 + 8) slot *= 2;
    this.rxStride = slot;
    this.maxFrame = slot - RX_MAC_OFFSET;
    const blocks = (frames: number): number => Math.max(2, Math.ceil(frames / RING_BLOCK_FRAMES));
    const rxBlocks = blocks(Math.max(ringFrames, 2 * batch));
    const txBlocks = blocks(4 * batch);
    this.ringFrames = rxBlocks * RING_BLOCK_FRAMES;
    this.txFrames = txBlocks * RING_BLOCK_FRAMES;
    this.rxLengths = new Uint32Array(batch);
    const request = (count: number): Uint8Array => {
      const req = new Uint8Array(TPACKET_REQ_LEN);
      const r = new DataView(req.buffer);
      r.setUint32(0, slot * RING_BLOCK_FRAMES, true);
      r.setUint32(4, count, true);
      r.setUint32(8, slot, true);
      r.setUint32(12, count * RING_BLOCK_FRAMES, true);
      return req;
    };
    const c = (this.c = libc());
    this.fd = openPacketSocket(c, name, this.ifindex, (setOption) => {
      const ring = (option: number, value: Uint8Array, what: string): void => {
        try {
          setOption(SOL_PACKET, option, value, what);
        } catch (err) {
          throw new RingUnavailableError((err as Error).message);
        }
      };
      ring(PACKET_VERSION, int32(TPACKET_V2), 'TPACKET_V2');
      ring(PACKET_LOSS, int32(1), 'PACKET_LOSS'); // before the rings: the kernel refuses it after
      ring(PACKET_VNET_HDR, int32(1), 'PACKET_VNET_HDR');
      ring(PACKET_RX_RING, request(rxBlocks), `a receive ring of ${this.ringFrames} slots`);
      ring(PACKET_TX_RING, request(txBlocks), `a transmit ring of ${this.txFrames} slots`);
      setOption(SOL_SOCKET, SO_SNDBUF, int32(SOCKET_BUFFER_BYTES * 4), 'SO_SNDBUF');
    });
    this.mapBytes = (this.ringFrames + this.txFrames) * slot;
    const map = c.mmap(this.mapBytes, PROT_READ | PROT_WRITE, MAP_SHARED, this.fd);
    if (!map) {
      const { message } = lastError(c, `mapping the rings of ${name}`);
      c.close(this.fd);
      throw new RingUnavailableError(message);
    }
    this.map = map;
    this.rx = map.bytes;
    const buffer = map.bytes.buffer;
    this.status = new Int32Array(buffer, map.bytes.byteOffset, this.mapBytes >> 2);
    this.u32 = new Uint32Array(buffer, map.bytes.byteOffset, this.mapBytes >> 2);
    this.u16 = new Uint16Array(buffer, map.bytes.byteOffset, this.mapBytes >> 1);
    this.txBase = this.ringFrames * slot;
  }

  get fileDescriptor(): number {
    return this.fd;
  }

  receive(): number {
    if (this.rxTaken > 0) this.release();
    if (this.fd < 0) return 0;
    const stride = this.rxStride;
    const frames = this.ringFrames;
    let slot = this.rxHead;
    let n = 0;
    let mac0 = 0;
    let bytes = 0;
    let losing = false;
    // Stale frames are dropped only from a full ring: then the slot before the head holds the
    // newest frame, and a frame is stale when it arrived more than maxWaitMs before that one
    // (both stamped by the kernel, so whatever delayed both upstream does not count).
    const last = (slot === 0 ? frames : slot) - 1;
    const newest = this.maxWaitMs > 0 && (loadStatus(this.status, (last * stride) >> 2) & TP_STATUS_USER) !== 0 ? this.stampMs(last * stride) : -1;
    while (n < this.batch) {
      const base = slot * stride;
      const status = loadStatus(this.status, base >> 2);
      if ((status & TP_STATUS_USER) === 0) break;
      if ((status & TP_STATUS_LOSING) !== 0) losing = true;
      const len = this.u32[(base + TP2_LEN) >> 2]!;
      const vlan = (status & TP_STATUS_VLAN_VALID) !== 0;
      let mac = this.u16[(base + TP2_MAC) >> 1]!;
      if (len > this.u32[(base + TP2_SNAPLEN) >> 2]! || mac < TPACKET2_HDR_LEN + 4) {
        // Longer than a slot (the kernel cut it), or no room before it to put a VLAN tag back:
        // dropped and counted, never forwarded cut.
        if (n > 0) break;
        this.counters[C_RX_ERRORS]! += 1;
        storeStatus(this.status, base >> 2, TP_STATUS_KERNEL);
        slot = slot + 1 === frames ? 0 : slot + 1;
        this.rxHead = slot;
        continue;
      }
      if (n === 0 && newest >= 0 && newest - this.stampMs(base) > this.maxWaitMs) {
        this.counters[C_RX_DROPPED]! += 1;
        storeStatus(this.status, base >> 2, TP_STATUS_KERNEL);
        slot = slot + 1 === frames ? 0 : slot + 1;
        this.rxHead = slot;
        continue;
      }
      if (vlan) mac -= 4;
      // Frames of one batch lie at the same place in their slots, and a batch ends at the ring's end.
      if (n === 0) mac0 = mac;
      else if (mac !== mac0) break;
      if (vlan) this.restoreVlanTag(base, mac, status);
      const frameLen = vlan ? len + 4 : len;
      this.rxLengths[n++] = frameLen;
      bytes += frameLen;
      slot = slot + 1 === frames ? 0 : slot + 1;
      if (slot === 0) break;
    }
    if (losing) this.collectDrops();
    if (n === 0) return 0;
    this.rxFirst = this.rxHead * stride + mac0;
    this.rxTaken = n;
    this.counters[C_RX_PACKETS]! += n;
    this.counters[C_RX_BYTES]! += bytes;
    return n;
  }

  release(): void {
    const stride = this.rxStride;
    let slot = this.rxHead;
    for (let i = 0; i < this.rxTaken; i++) {
      storeStatus(this.status, (slot * stride) >> 2, TP_STATUS_KERNEL);
      slot = slot + 1 === this.ringFrames ? 0 : slot + 1;
    }
    this.rxHead = slot;
    this.rxTaken = 0;
  }

  queueCopy(frame: Uint8Array, offset: number, len: number): void {
    if (this.fd < 0 || len > this.maxFrame) {
      this.counters[C_TX_DROPPED]! += 1;
      return;
    }
    const base = this.txBase + this.txHead * this.rxStride;
    if (loadStatus(this.status, base >> 2) !== TP_STATUS_AVAILABLE) {
      // The kernel has not sent the oldest slot yet: push the ring, and drop if it is still full.
      this.flush();
      if (loadStatus(this.status, base >> 2) !== TP_STATUS_AVAILABLE) {
        this.counters[C_TX_DROPPED]! += 1;
        return;
      }
    }
    // The virtio_net_hdr asks for no offload; its hdr_len (the bytes the kernel copies into the
    // packet it builds) is the whole frame. Without it the kernel would attach the rest of the
    // frame as pages of the ring, which the receiving side then copies into fresh pages.
    this.u32[(base + TPACKET2_TX_DATA) >> 2] = len << 16;
    this.u32[(base + TPACKET2_TX_DATA + 4) >> 2] = 0;
    this.u16[(base + TPACKET2_TX_DATA + 8) >> 1] = 0;
    const data = base + TX_FRAME;
    if (frame.buffer === this.rx.buffer) this.rx.copyWithin(data, frame.byteOffset - this.rx.byteOffset + offset, frame.byteOffset - this.rx.byteOffset + offset + len);
    else this.rx.set(frame.subarray(offset, offset + len), data);
    this.u32[(base + TP2_LEN) >> 2] = VIRTIO_NET_HDR_LEN + len;
    storeStatus(this.status, base >> 2, TP_STATUS_SEND_REQUEST);
    this.txHead = this.txHead + 1 === this.txFrames ? 0 : this.txHead + 1;
    this.txQueued++;
    this.txQueuedBytes += len;
    if (this.txQueued >= this.batch) this.flush();
  }

  flush(): void {
    if (this.txQueued === 0 || this.fd < 0) return;
    if (this.c.sendRing(this.fd, MSG_DONTWAIT) < 0) {
      const errno = this.c.errno();
      // Full device queue or socket buffer: the frames stay in the ring for the next flush.
      if (errno === EAGAIN || errno === ENOBUFS || errno === EINTR) return;
      this.counters[C_TX_ERRORS]! += this.txQueued;
    } else {
      this.counters[C_TX_PACKETS]! += this.txQueued;
      this.counters[C_TX_BYTES]! += this.txQueuedBytes;
    }
    this.txQueued = 0;
    this.txQueuedBytes = 0;
  }

  close(): void {
    if (this.fd < 0) return;
    this.c.munmap(this.map, this.mapBytes);
    this.c.close(this.fd);
    this.fd = -1;
  }

  /** When the kernel took in the frame of the receive slot at `base` (its wall clock, ms). */
  arrivalMs(i: number): number {
    // a batch never wraps round the ring's end
    return this.stampMs((this.rxHead + i) * this.rxStride);
  }

  private stampMs(base: number): number {
    return this.u32[(base + TP2_SEC) >> 2]! * 1000 + this.u32[(base + TP2_NSEC) >> 2]! / 1e6;
  }

  /** Adds the frames the kernel dropped on a full receive ring (reading the statistics resets them). */
  private collectDrops(): void {
    this.statsLen[0] = TPACKET_STATS_LEN;
    if (this.c.getsockopt(this.fd, SOL_PACKET, PACKET_STATISTICS, this.stats, this.statsLen) === 0) {
      this.counters[C_RX_DROPPED]! += new DataView(this.stats.buffer).getUint32(4, true);
    }
  }

  /**
   * Puts back the 802.1Q/802.1ad tag the kernel took off into the slot's header: the MAC
   * addresses move 4 bytes towards the header and the tag goes after them.
   */
  private restoreVlanTag(base: number, mac: number, status: number): void {
    const at = base + mac;
    this.rx.copyWithin(at, at + 4, at + 16);
    const tpid = (status & TP_STATUS_VLAN_TPID_VALID) !== 0 ? this.u16[(base + TP2_VLAN_TPID) >> 1]! : 0x8100;
    const tci = this.u16[(base + TP2_VLAN_TCI) >> 1]!;
    this.rx[at + 12] = tpid >> 8;
    this.rx[at + 13] = tpid & 0xff;
    this.rx[at + 14] = tci >> 8;
    this.rx[at + 15] = tci & 0xff;
  }
}
