// The few Linux system calls the software switch needs, reached through koffi (a foreign
// function interface that ships its native part in the npm package, so the project carries
// no C of its own): socket(2), bind(2), setsockopt(2), recvmmsg(2), sendmmsg(2), poll(2),
// close(2), eventfd(2) and if_nametoindex(3), with the constants and struct layouts of
// packet(7) on x86-64 and aarch64 Linux (LP64: pointers and size_t are 8 bytes).
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
