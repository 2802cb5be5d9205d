#!/usr/bin/python3
"""udpflow: the testbed's own paced UDP sender and receiver, for what iperf3 cannot do.

    udpflow.py send --dst IP --port P [--ports N] --rate MBIT | --schedule R1,R2,... --step S
                    [--seconds S] [--length BYTES] [--flowlabel N]
    udpflow.py recv --port P [--ports N] [--ipv6] --seconds S --json FILE [--idle S]

What it adds over iperf3 (which the runner uses wherever it can):

- An IPv6 flow label on UDP. iperf3 3.12 applies ``-L`` to TCP sockets only; its UDP
  datagrams carry the kernel's automatic label (verified with tcpdump). The sender takes a
  flow-label lease (IPV6_FLOWLABEL_MGR, RFC 6437 labels; Linux ``ipv6(7)``) and sends with
  IPV6_FLOWINFO_SEND, so every datagram carries the label that was reserved.
- A rate schedule (``--schedule 0.5,1,1.5 --step 8``: each rate in Mbit/s for 8 s), for the
  pricing sweep, in one flow.
- Many destination ports at once (``--ports N``: ports P .. P+N-1, round robin), and on the
  receiver, per port, the arrival time of the first datagram and of the first one whose
  DSCP (IPv4 TOS / IPv6 traffic class, via IP_RECVTOS / IPV6_RECVTCLASS) is not the one it
  was sent with, i.e. the moment a reservation's flow entry began to mark the flow; and the
  IPv6 flow labels that arrived (IPV6_FLOWINFO), so a run can show which label was on the wire;
  and bytes per second per arriving DSCP (``perSecondByDscp``), so a run can tell a
  reservation's in-profile packets from those a meter re-marked (degraded).

Rates are UDP payload bits, like iperf3's ``-b``. Each datagram carries a sequence number
per port (loss) and the send time. The receiver writes an iperf3-shaped JSON report
(``intervals[].sum.{start,end,bytes,bits_per_second}``, ``end.sum.lost_percent``), so the
runner reads both tools the same way, plus ``ports`` with the per-port times (seconds since
the epoch, the same clock as the runner's: one machine).
"""

import argparse
import json
import selectors
import socket
import struct
import sys
import time

IPV6_FLOWLABEL_MGR = 32   # linux/in6.h
IPV6_FLOWINFO_SEND = 33
IPV6_FL_A_GET = 0
IPV6_FL_F_CREATE = 1
IPV6_FL_S_EXCL = 1
IP_RECVTOS = 13           # linux/in.h
IP_TOS = 1
IPV6_RECVTCLASS = 66      # linux/in6.h
IPV6_TCLASS = 67
IPV6_FLOWINFO = 11        # linux/in6.h: deliver each datagram's flow information (label)
HEADER = struct.Struct('!IId')  # port index, sequence, send time


def send(args):
    ipv6 = ':' in args.dst
    sock = socket.socket(socket.AF_INET6 if ipv6 else socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    if args.flowlabel is not None:
        if not ipv6:
            sys.exit('udpflow: --flowlabel needs an IPv6 destination')
        if not 0 < args.flowlabel < 1 << 20:
            sys.exit('udpflow: a flow label is 1 .. 2^20 - 1')
        # struct in6_flowlabel_req: dst, label (network order), action, share, flags, expires, linger, pad
        req = socket.inet_pton(socket.AF_INET6, args.dst) + struct.pack('!I', args.flowlabel) + \
            struct.pack('=BBHHHI', IPV6_FL_A_GET, IPV6_FL_S_EXCL, IPV6_FL_F_CREATE, 0, 0, 0)
        sock.setsockopt(socket.IPPROTO_IPV6, IPV6_FLOWLABEL_MGR, req)
        sock.setsockopt(socket.IPPROTO_IPV6, IPV6_FLOWINFO_SEND, 1)
    if args.schedule:
        rates = [float(r) for r in args.schedule.split(',')]
        step = args.step
    else:
        rates = [args.rate]
        step = args.seconds
    seconds = args.seconds if args.seconds else step * len(rates)
    dests = [(args.dst, args.port + i, args.flowlabel or 0, 0) if ipv6 else (args.dst, args.port + i) for i in range(args.ports)]
    payload = bytearray(max(args.length, HEADER.size))
    seq = [0] * args.ports
    start = time.time()
    sent_bits = 0.0   # bits the schedule has allowed so far
    last = start
    nxt = 0
    while True:
        now = time.time()
        t = now - start
        if t >= seconds:
            break
        rate = rates[min(int(t // step), len(rates) - 1)] * 1e6
        # credit for the time since the last round, at most 50 ms of it (after a stall the
        # sender catches up with a short burst, not with seconds of backlog)
        sent_bits = max(sent_bits - rate * (now - last), min(sent_bits, -rate * 0.05))
        last = now
        while sent_bits < 0:
            i = nxt
            nxt = (nxt + 1) % args.ports
            HEADER.pack_into(payload, 0, i, seq[i], now)
            seq[i] += 1
            try:
                sock.sendto(payload, dests[i])
            except OSError:  # ENOBUFS under overload: the datagram is lost, like on a wire
                pass
            sent_bits += len(payload) * 8
        time.sleep(min(0.002, max(0.0005, sent_bits / rate)) if rate > 0 else 0.01)
    json.dump({'sent': seq, 'seconds': seconds}, sys.stdout)
    sys.stdout.write('\n')


def recv(args):
    family = socket.AF_INET6 if args.ipv6 else socket.AF_INET
    sel = selectors.DefaultSelector()
    socks = []
    for i in range(args.ports):
        s = socket.socket(family, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        if args.ipv6:
            s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVTCLASS, 1)
            s.setsockopt(socket.IPPROTO_IPV6, IPV6_FLOWINFO, 1)
        else:
            s.setsockopt(socket.IPPROTO_IP, IP_RECVTOS, 1)
        s.bind(('::' if args.ipv6 else '0.0.0.0', args.port + i))
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, i)
        socks.append(s)
    ports = [{'port': args.port + i, 'received': 0, 'maxSeq': -1, 'first': None, 'firstDscp': None,
              'firstMarked': None, 'markedDscp': None, 'flowLabels': []} for i in range(args.ports)]
    per_second = []   # payload bytes per second since the first datagram
    by_dscp = {}      # DSCP -> payload bytes per second since the first datagram
    first = None
    last_rx = time.time()
    deadline = time.time() + args.wait
    while True:
        now = time.time()
        if first is None and now > deadline:
            break
        if first is not None and (now - first >= args.seconds or now - last_rx >= args.idle):
            break
        for key, _ in sel.select(timeout=0.2):
            s = key.fileobj
            while True:
                try:
                    data, anc, _, _ = s.recvmsg(65536, 64)
                except BlockingIOError:
                    break
                now = time.time()
                last_rx = now
                if first is None:
                    first = now
                p = ports[key.data]
                dscp = None
                for level, kind, value in anc:
                    if (level, kind) in ((socket.IPPROTO_IP, IP_TOS), (socket.IPPROTO_IPV6, IPV6_TCLASS)) and value:
                        dscp = value[0] >> 2 if len(value) == 1 else struct.unpack('=i', value[:4])[0] >> 2
                    elif (level, kind) == (socket.IPPROTO_IPV6, IPV6_FLOWINFO) and len(value) >= 4:
                        label = struct.unpack('!I', value[:4])[0] & 0xFFFFF
                        if label not in p['flowLabels'] and len(p['flowLabels']) < 8:
                            p['flowLabels'].append(label)
                if p['first'] is None:
                    p['first'], p['firstDscp'] = now, dscp
                elif p['firstMarked'] is None and dscp != p['firstDscp']:
                    p['firstMarked'], p['markedDscp'] = now, dscp
                p['received'] += 1
                if len(data) >= HEADER.size:
                    p['maxSeq'] = max(p['maxSeq'], HEADER.unpack_from(data)[1])
                sec = int(now - first)
                while len(per_second) <= sec:
                    per_second.append(0)
                per_second[sec] += len(data)
                seconds_of = by_dscp.setdefault(str(dscp), [])
                while len(seconds_of) <= sec:
                    seconds_of.append(0)
                seconds_of[sec] += len(data)
    received = sum(p['received'] for p in ports)
    expected = sum(p['maxSeq'] + 1 for p in ports)
    report = {
        'start': {'timestamp': first},
        'intervals': [{'sum': {'start': i, 'end': i + 1.0, 'bytes': b, 'bits_per_second': b * 8.0}}
                      for i, b in enumerate(per_second)],
        'end': {'sum': {'packets': expected, 'lost_packets': expected - received,
                        'lost_percent': 100.0 * (expected - received) / expected if expected else 0.0}},
        'ports': ports,
        'perSecondByDscp': by_dscp,
    }
    with open(args.json, 'w') as f:
        json.dump(report, f)


def main():
    ap = argparse.ArgumentParser(description='paced UDP sender/receiver for the PayFlow testbed')
    sub = ap.add_subparsers(dest='cmd', required=True)
    s = sub.add_parser('send')
    s.add_argument('--dst', required=True)
    s.add_argument('--port', type=int, required=True)
    s.add_argument('--ports', type=int, default=1)
    s.add_argument('--rate', type=float, help='Mbit/s of UDP payload')
    s.add_argument('--schedule', help='comma-separated rates (Mbit/s), each for --step seconds')
    s.add_argument('--step', type=float, default=1.0)
    s.add_argument('--seconds', type=float, default=0)
    s.add_argument('--length', type=int, default=1200, help='UDP payload bytes (>= %d)' % HEADER.size)
    s.add_argument('--flowlabel', type=int)
    r = sub.add_parser('recv')
    r.add_argument('--port', type=int, required=True)
    r.add_argument('--ports', type=int, default=1)
    r.add_argument('--ipv6', action='store_true')
    r.add_argument('--seconds', type=float, required=True, help='stop this long after the first datagram')
    r.add_argument('--idle', type=float, default=3.0, help='stop after this long without a datagram')
    r.add_argument('--wait', type=float, default=30.0, help='give up if nothing arrives in this long')
    r.add_argument('--json', required=True)
    args = ap.parse_args()
    if args.cmd == 'send':
        if (args.rate is None) == (args.schedule is None):
            ap.error('send: give --rate or --schedule')
        if args.rate is not None and not args.seconds:
            ap.error('send: --rate needs --seconds')
        send(args)
    else:
        recv(args)


if __name__ == '__main__':
    main()
