// Switch ports: one Linux interface each, opened as an AF_PACKET raw socket bound to its
// ifindex for every protocol (packet(7), ETH_P_ALL), in promiscuous mode
// (PACKET_ADD_MEMBERSHIP with PACKET_MR_PROMISC) and with PACKET_IGNORE_OUTGOING so the
// switch never reads back what it sent. Frames move in batches: recvmmsg(2) fills up to
// `batch` fixed slots of native memory in one call (the kernel's copy is the only one), and
// sendmmsg(2) sends a port's queued frames in one call, each iovec pointing straight at
// the slot the frame arrived in. All calls are non-blocking (MSG_DONTWAIT).
import { readFileSync } from 'node:fs';
import {
  AF_PACKET, EAGAIN, EINTR, ENOBUFS, ETH_P_ALL_BE, IOVEC_LEN, MMSGHDR_LEN, MMSGHDR_LEN_OFFSET, MSGHDR_IOVLEN_OFFSET,
  MSGHDR_IOV_OFFSET, MSG_DONTWAIT, PACKET_ADD_MEMBERSHIP, PACKET_IGNORE_OUTGOING, PACKET_MREQ_LEN, PACKET_MR_PROMISC,
  SOCKADDR_LL_LEN, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_RAW, SOL_PACKET, SOL_SOCKET, SO_RCVBUF, SO_SNDBUF,
  lastError, libc, type Libc, type NativeBlock,
} from './libc.js';

/** Room for a 1500-byte MTU frame with two VLAN tags; longer frames are cut to this. */
export const SLOT_SIZE = 2048;
export const DEFAULT_BATCH = 64;

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
  return {
    name,
    ifindex,
    mac: read('address') ?? '00:00:00:00:00:00',
    up: read('operstate') === 'up' || read('carrier') === '1',
    ...(Number.isFinite(speed) && speed > 0 ? { speedMbps: speed } : {}),
  };
}

export class PacketPort {
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
    const fd = c.socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, ETH_P_ALL_BE);
    if (fd < 0) {
      const { message, errno } = lastError(c, `opening a packet socket on ${name}`);
      throw new PortOpenError(errno === 1 ? `${message}: the switch needs root (CAP_NET_RAW)` : message);
    }
    this.fd = fd;
    try {
      this.setOption(SOL_PACKET, PACKET_IGNORE_OUTGOING, int32(1), 'PACKET_IGNORE_OUTGOING (Linux 4.20 or later)');
      const addr = new Uint8Array(SOCKADDR_LL_LEN);
      const a = new DataView(addr.buffer);
      a.setUint16(0, AF_PACKET, true);
      a.setUint16(2, ETH_P_ALL_BE, true);
      a.setInt32(4, this.ifindex, true);
      if (c.bind(fd, addr, SOCKADDR_LL_LEN) < 0) throw new PortOpenError(lastError(c, `binding to ${name}`).message);
      const mreq = new Uint8Array(PACKET_MREQ_LEN);
      const m = new DataView(mreq.buffer);
      m.setInt32(0, this.ifindex, true);
      m.setUint16(4, PACKET_MR_PROMISC, true);
      this.setOption(SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq, 'promiscuous mode');
      this.setOption(SOL_SOCKET, SO_RCVBUF, int32(4 << 20), 'SO_RCVBUF');
      this.setOption(SOL_SOCKET, SO_SNDBUF, int32(4 << 20), 'SO_SNDBUF');
    } catch (err) {
      c.close(fd);
      throw err;
    }

    this.rxData = c.alloc(batch * SLOT_SIZE);
    this.rx = this.rxData.bytes;
    this.rxLengths = new Uint32Array(batch);
    this.rxHdrs = c.alloc(batch * MMSGHDR_LEN);
    this.rxHdrView = new DataView(this.rxHdrs.bytes.buffer, this.rxHdrs.bytes.byteOffset, this.rxHdrs.bytes.byteLength);
    this.iovKeepAlive = c.alloc(batch * IOVEC_LEN);
    const rxIov = new DataView(this.iovKeepAlive.bytes.buffer, this.iovKeepAlive.bytes.byteOffset, batch * IOVEC_LEN);
    this.rxSlotLo = new Uint32Array(batch);
    this.rxSlotHi = new Uint32Array(batch);
    for (let i = 0; i < batch; i++) {
      const slot = this.rxData.address + BigInt(i * SLOT_SIZE);
      this.rxSlotLo[i] = Number(slot & 0xffffffffn);
      this.rxSlotHi[i] = Number(slot >> 32n);
      rxIov.setBigUint64(i * IOVEC_LEN, slot, true);
      rxIov.setBigUint64(i * IOVEC_LEN + 8, BigInt(SLOT_SIZE), true);
      this.rxHdrView.setBigUint64(i * MMSGHDR_LEN + MSGHDR_IOV_OFFSET, this.iovKeepAlive.address + BigInt(i * IOVEC_LEN), true);
      this.rxHdrView.setBigUint64(i * MMSGHDR_LEN + MSGHDR_IOVLEN_OFFSET, 1n, true);
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

  /** Receives up to `batch` frames into `rx`; returns how many (0 when none is waiting). */
  receive(): number {
    if (this.fd < 0) return 0;
    const n = this.c.recvmmsg(this.fd, this.rxHdrs.pointer, this.batch, MSG_DONTWAIT, null);
    if (n <= 0) {
      if (n < 0) {
        const errno = this.c.errno();
        if (errno !== EAGAIN && errno !== EINTR) this.counters[C_RX_ERRORS]! += 1;
      }
      return 0;
    }
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const len = this.rxHdrView.getUint32(i * MMSGHDR_LEN + MMSGHDR_LEN_OFFSET, true);
      this.rxLengths[i] = len > SLOT_SIZE ? SLOT_SIZE : len;
      bytes += len;
    }
    this.counters[C_RX_PACKETS]! += n;
    this.counters[C_RX_BYTES]! += bytes;
    return n;
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

  private setOption(level: number, name: number, value: Uint8Array, what: string): void {
    if (this.c.setsockopt(this.fd, level, name, value, value.length) < 0) {
      throw new PortOpenError(lastError(this.c, `setting ${what} on ${this.name}`).message);
    }
  }
}

function int32(value: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, value, true);
  return b;
}
