// Test helper: paced UDP senders and a counting receiver (small Python programs run inside
// network namespaces), for measuring how the switch's egress queues share a shaped port.
// Rates are counted at the receiver in Ethernet frame bytes (UDP payload + 42) per second of
// its own wall clock, over a window after the queues have filled. Not a test file itself.
import { spawn } from 'node:child_process';
import type { Host } from './netns.js';

/** Ethernet 14 + IPv4 20 + UDP 8 */
export const FRAME_OVERHEAD = 42;
export const PAYLOAD = 1000;

const RECEIVER = `
import json, selectors, socket, sys, time
ports = [int(p) for p in sys.argv[1].split(',')]
warm, window, total = float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
sel = selectors.DefaultSelector()
for p in ports:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(('0.0.0.0', p)); s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, p)
stats = {p: {'packets': 0, 'bytes': 0, 'windowBytes': 0} for p in ports}
print('ready', flush=True)
start = None
end = time.time() + 60
while time.time() < end:
    for key, _ in sel.select(0.2):
        while True:
            try:
                data = key.fileobj.recv(4096)
            except BlockingIOError:
                break
            now = time.time()
            if start is None:
                start = now
                end = now + total
            st = stats[key.data]
            st['packets'] += 1
            st['bytes'] += len(data)
            if warm <= now - start < warm + window:
                st['windowBytes'] += len(data) + ${FRAME_OVERHEAD}
print(json.dumps({'window': window, 'ports': stats}), flush=True)
`;

const SENDER = `
import socket, sys, time
dst, seconds, size = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
flows = [(int(p), float(r) / 8 / (size + ${FRAME_OVERHEAD})) for p, r in (f.split(':') for f in sys.argv[4].split(','))]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
payload = b'x' * size
sent = [0] * len(flows)
t0 = time.time()
while True:
    elapsed = time.time() - t0
    if elapsed >= seconds:
        break
    for i, (port, pps) in enumerate(flows):
        while sent[i] < elapsed * pps:
            try:
                s.sendto(payload, (dst, port))
            except BlockingIOError:
                pass
            sent[i] += 1
    time.sleep(0.0005)
`;

export interface Received {
  window: number;
  ports: Record<string, { packets: number; bytes: number; windowBytes: number }>;
}

/** One sending host and its flows: UDP destination port → offered frame bits/s. */
export interface Sender {
  host: Host;
  flows: Record<number, number>;
}

/**
 * Runs every sender at once towards `dstIp` for `seconds`; returns what `receiver` counted,
 * per UDP port, in the window [warm, warm + window) after its first datagram.
 */
export async function udpTraffic(receiver: Host, dstIp: string, senders: Sender[], seconds = 5, warm = 1.5, window = 3): Promise<Received> {
  const ports = senders.flatMap((s) => Object.keys(s.flows)).join(',');
  const rx = spawn('ip', ['netns', 'exec', receiver.ns, 'python3', '-c', RECEIVER, ports, String(warm), String(window), String(seconds + 1)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const ready = new Promise<void>((resolve) => rx.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('ready')) resolve();
  }));
  const done = new Promise<void>((resolve) => rx.once('exit', () => resolve()));
  await ready;
  await Promise.all(senders.map(({ host, flows }) => new Promise<void>((resolve, reject) => {
    const spec = Object.entries(flows).map(([p, r]) => `${p}:${r}`).join(',');
    const tx = spawn('ip', ['netns', 'exec', host.ns, 'python3', '-c', SENDER, dstIp, String(seconds), String(PAYLOAD), spec], { stdio: 'inherit' });
    tx.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`sender in ${host.ns} exited ${code}`))));
  })));
  await done;
  return JSON.parse(out.slice(out.indexOf('{'))) as Received;
}

/** The receiver's rate of UDP port `port` over its window, in frame bits/s. */
export const windowRate = (r: Received, port: number): number => (r.ports[port]!.windowBytes * 8) / r.window;
