// The few Linux system calls the software switch needs, reached through koffi (a foreign
// function interface that ships its native part in the npm package, so the project carries
// no C of its own): socket(2), bind(2), setsockopt(2), getsockopt(2), recvmmsg(2), sendmmsg(2),
// send(2), mmap(2), munmap(2), poll(2), close(2), eventfd(2) and if_nametoindex(3), with the
// constants and struct layouts of packet(7) and of the kernel's packet_mmap.rst (TPACKET_V2
// rings) on x86-64 and aarch64 Linux (LP64: pointers and size_t are 8 bytes).
import koffi from 'koffi';

export const AF_PACKET = 17;
export const SOCK_RAW = 3;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
/** ETH_P_ALL in network byte order, as socket(2) and sockaddr_ll want it. */
export const ETH_P_ALL_BE = 0x0300;
export const SOL_SOCKET = 1;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SOL_PACKET = 263;
export const PACKET_ADD_MEMBERSHIP = 1;
export const PACKET_MR_PROMISC = 1;
/** packet(7): do not deliver frames this host transmits back to packet sockets (Linux 4.20+). */
export const PACKET_IGNORE_OUTGOING = 23;
export const PACKET_RX_RING = 5;
export const PACKET_STATISTICS = 6;
export const PACKET_VERSION = 10;
export const PACKET_TX_RING = 13;
/** packet(7): a malformed frame in the TX ring is skipped instead of stopping the ring */
export const PACKET_LOSS = 14;
/**
 * packet(7): every frame carries a struct virtio_net_hdr (10 bytes: flags u8, gso_type u8,
 * hdr_len u16, gso_size u16, csum_start u16, csum_offset u16) in front of it
 */
export const PACKET_VNET_HDR = 15;
export const VIRTIO_NET_HDR_LEN = 10;
/** packet(7): frames sent through the socket skip the kernel's qdisc layer */
export const PACKET_QDISC_BYPASS = 20;
export const TPACKET_V2 = 1;
/** struct tpacket_req: block_size, block_nr, frame_size, frame_nr (unsigned int each) */
export const TPACKET_REQ_LEN = 16;
/** struct tpacket_stats: packets, drops (unsigned int each; reading resets them) */
export const TPACKET_STATS_LEN = 8;
/**
 * struct tpacket2_hdr: status u32 @0, len u32 @4, snaplen u32 @8, mac u16 @12, net u16 @14,
 * sec u32 @16, nsec u32 @20, vlan_tci u16 @24, vlan_tpid u16 @26, padding[4] @28.
 */
export const TPACKET2_HDR_LEN = 32;
export const TP2_STATUS = 0;
export const TP2_LEN = 4;
export const TP2_SNAPLEN = 8;
export const TP2_MAC = 12;
export const TP2_SEC = 16;
export const TP2_NSEC = 20;
export const TP2_VLAN_TCI = 24;
export const TP2_VLAN_TPID = 26;
/** where a TX ring frame's data starts: TPACKET2_HDRLEN (header + sockaddr_ll) minus sockaddr_ll */
export const TPACKET2_TX_DATA = 32;
/** RX frame owned by the kernel / by the program; the kernel dropped frames since the last stats read */
export const TP_STATUS_KERNEL = 0;
export const TP_STATUS_USER = 1;
export const TP_STATUS_LOSING = 4;
export const TP_STATUS_VLAN_VALID = 0x10;
export const TP_STATUS_VLAN_TPID_VALID = 0x40;
/** TX frame free / to send */
export const TP_STATUS_AVAILABLE = 0;
export const TP_STATUS_SEND_REQUEST = 1;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_SHARED = 1;
export const MAP_POPULATE = 0x8000;
export const MSG_DONTWAIT = 0x40;
export const POLLIN = 1;
/** eventfd(2) flags (the same values as O_NONBLOCK and O_CLOEXEC) */
export const EFD_NONBLOCK = 0o4000;
export const EFD_CLOEXEC = 0o2000000;
export const EAGAIN = 11;
export const EINTR = 4;
export const ENOBUFS = 105;
export const EPERM = 1;

/** struct sockaddr_ll: family u16, protocol u16, ifindex i32, hatype u16, pkttype u8, halen u8, addr[8]. */
export const SOCKADDR_LL_LEN = 20;
/** struct packet_mreq: ifindex i32, type u16, alen u16, address[8]. */
export const PACKET_MREQ_LEN = 16;
/** struct iovec: base pointer, len size_t. */
export const IOVEC_LEN = 16;
/** struct mmsghdr: struct msghdr (56 bytes) followed by msg_len u32 and padding. */
export const MMSGHDR_LEN = 64;
export const MSGHDR_IOV_OFFSET = 16;
export const MSGHDR_IOVLEN_OFFSET = 24;
export const MMSGHDR_LEN_OFFSET = 56;
export const MSGHDR_CONTROL_OFFSET = 32;
export const MSGHDR_CONTROLLEN_OFFSET = 40;
export const MSGHDR_FLAGS_OFFSET = 48;
/** msg_flags: the frame was longer than the buffer */
export const MSG_TRUNC = 0x20;
/** struct cmsghdr: cmsg_len (size_t), cmsg_level, cmsg_type; the data follows, 8-byte aligned */
export const CMSG_HDR_LEN = 16;
export const CMSG_LEVEL_OFFSET = 8;
export const CMSG_TYPE_OFFSET = 12;
/** SOL_SOCKET option and control message: each datagram's receive time as a struct timespec */
export const SO_TIMESTAMPNS = 35;
export const SCM_TIMESTAMPNS = 35;
/** SOL_PACKET option and control message: struct tpacket_auxdata (the VLAN tag the kernel took off, among others) */
export const PACKET_AUXDATA = 8;
export const AUX_STATUS = 0;
export const AUX_VLAN_TCI = 16;
export const AUX_VLAN_TPID = 18;

/** Native memory that does not move: its address for the kernel and a view for JavaScript. */
export interface NativeBlock {
  pointer: unknown;
  address: bigint;
  bytes: Uint8Array;
}

export interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: Uint8Array, len: number): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array, len: number): number;
  recvmmsg(fd: number, vec: unknown, vlen: number, flags: number, timeout: null): number;
  sendmmsg(fd: number, vec: unknown, vlen: number, flags: number): number;
  /** send(2) with no data: tells the kernel to send what the TX ring holds */
  sendRing(fd: number, flags: number): number;
  getsockopt(fd: number, level: number, name: number, value: Uint8Array, len: Uint32Array): number;
  /** a shared mapping of `fd`, or undefined (errno set) when mmap(2) fails */
  mmap(size: number, prot: number, flags: number, fd: number): NativeBlock | undefined;
  munmap(block: NativeBlock, size: number): number;
  poll(fds: Uint8Array, nfds: number, timeoutMs: number): number;
  close(fd: number): number;
  eventfd(initval: number, flags: number): number;
  ifNameToIndex(name: string): number;
  strerror(errno: number): string;
  errno(): number;
  alloc(size: number): NativeBlock;
}

let loaded: Libc | undefined;

/** Binds libc once per thread (koffi function objects belong to the thread that made them). */
export function libc(): Libc {
  if (loaded) return loaded;
  const lib = koffi.load('libc.so.6');
  const socket = lib.func('int socket(int domain, int type, int protocol)');
  const bind = lib.func('int bind(int fd, const void *addr, uint32_t len)');
  const setsockopt = lib.func('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)');
  const recvmmsg = lib.func('int recvmmsg(int fd, void *vec, unsigned int vlen, int flags, void *timeout)');
  const sendmmsg = lib.func('int sendmmsg(int fd, void *vec, unsigned int vlen, int flags)');
  const send = lib.func('intptr_t send(int fd, void *buf, size_t len, int flags)');
  const getsockopt = lib.func('int getsockopt(int fd, int level, int name, void *value, void *len)');
  const mmap = lib.func('void *mmap(void *addr, size_t len, int prot, int flags, int fd, intptr_t offset)');
  const munmap = lib.func('int munmap(void *addr, size_t len)');
  const poll = lib.func('int poll(void *fds, unsigned long nfds, int timeout)');
  const close = lib.func('int close(int fd)');
  const eventfd = lib.func('int eventfd(unsigned int initval, int flags)');
  const ifNameToIndex = lib.func('unsigned int if_nametoindex(const char *name)');
  const strerror = lib.func('const char *strerror(int errnum)');
  loaded = {
    socket: (d, t, p) => socket(d, t, p) as number,
    bind: (fd, addr, len) => bind(fd, addr, len) as number,
    setsockopt: (fd, level, name, value, len) => setsockopt(fd, level, name, value, len) as number,
    recvmmsg: (fd, vec, vlen, flags, timeout) => recvmmsg(fd, vec, vlen, flags, timeout) as number,
    sendmmsg: (fd, vec, vlen, flags) => sendmmsg(fd, vec, vlen, flags) as number,
    sendRing: (fd, flags) => Number(send(fd, null, 0, flags)),
    getsockopt: (fd, level, name, value, len) => getsockopt(fd, level, name, value, len) as number,
    mmap(size, prot, flags, fd) {
      const pointer: unknown = mmap(null, size, prot, flags, fd, 0);
      const address = pointer === null ? 0n : (koffi.address(pointer) as bigint);
      if (address === 0n || address === 0xffffffffffffffffn) return undefined; // MAP_FAILED
      return { pointer, address, bytes: new Uint8Array(koffi.view(pointer, size)) };
    },
    munmap: (block, size) => munmap(block.pointer, size) as number,
    poll: (fds, nfds, timeout) => poll(fds, nfds, timeout) as number,
    close: (fd) => close(fd) as number,
    eventfd: (initval, flags) => eventfd(initval, flags) as number,
    ifNameToIndex: (name) => ifNameToIndex(name) as number,
    strerror: (errno) => strerror(errno) as string,
    errno: () => koffi.errno(),
    alloc(size) {
      const pointer: unknown = koffi.alloc('uint8_t', size);
      return { pointer, address: koffi.address(pointer) as bigint, bytes: new Uint8Array(koffi.view(pointer, size)) };
    },
  };
  return loaded;
}

/** "socket: Operation not permitted (errno 1)" for the last failed call. */
export function lastError(c: Libc, what: string): { message: string; errno: number } {
  const errno = c.errno();
  return { message: `${what}: ${c.strerror(errno)} (errno ${errno})`, errno };
}
