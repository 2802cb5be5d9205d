#!/usr/bin/python3
"""spoofflow: paced IPv4/UDP frames with a forged source, for the edge-trust scenario and tests.

    spoofflow.py --iface IF --src-ip IP [--src-mac MAC] --dst-ip IP --dst-mac MAC --port P
                 --rate MBIT --seconds S [--length BYTES] [--tos N]

Writes whole Ethernet frames to IF through an AF_PACKET socket, so the source address
(and with --src-mac the source MAC; default IF's own) is whatever it is told: what a host
that spoofs a paying host's address puts on the wire. The payload is udpflow.py's header
(port index, sequence, send time), so ``udpflow.py recv`` counts, times and reads the DSCP
of these datagrams like its own. Rates are UDP payload bits, as in udpflow and iperf3.
"""

import argparse
import json
import socket
import struct
import sys
import time

HEADER = struct.Struct('!IId')  # the same as udpflow.py's


def checksum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s > 0xffff:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def mac_bytes(text):
    return bytes(int(x, 16) for x in text.split(':'))


def main():
    ap = argparse.ArgumentParser(description='paced UDP with a forged IPv4 source (and MAC)')
    ap.add_argument('--iface', required=True)
    ap.add_argument('--src-ip', required=True)
    ap.add_argument('--src-mac')
    ap.add_argument('--dst-ip', required=True)
    ap.add_argument('--dst-mac', required=True)
    ap.add_argument('--port', type=int, required=True)
    ap.add_argument('--sport', type=int, default=40000)
    ap.add_argument('--rate', type=float, required=True, help='Mbit/s of UDP payload')
    ap.add_argument('--seconds', type=float, required=True)
    ap.add_argument('--length', type=int, default=1200)
    ap.add_argument('--tos', type=int, default=0)
    args = ap.parse_args()
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sock.bind((args.iface, 0))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    src_mac = mac_bytes(args.src_mac or open('/sys/class/net/%s/address' % args.iface).read().strip())
    eth = mac_bytes(args.dst_mac) + src_mac + b'\x08\x00'
    src, dst = socket.inet_aton(args.src_ip), socket.inet_aton(args.dst_ip)
    length = max(args.length, HEADER.size)
    payload = bytearray(length)
    rate = args.rate * 1e6
    seq = 0
    start = last = time.time()
    credit = 0.0
    while True:
        now = time.time()
        if now - start >= args.seconds:
            break
        credit = max(credit - rate * (now - last), min(credit, -rate * 0.05))
        last = now
        while credit < 0:
            HEADER.pack_into(payload, 0, 0, seq, now)
            udp = struct.pack('!HHHH', args.sport, args.port, 8 + length, 0) + payload
            ip = struct.pack('!BBHHHBBH4s4s', 0x45, args.tos, 20 + len(udp), seq & 0xffff, 0x4000, 64, 17, 0, src, dst)
            ip = ip[:10] + struct.pack('!H', checksum(ip)) + ip[12:]
            try:
                sock.send(eth + ip + udp)   # UDP checksum 0: none (RFC 768)
            except OSError:
                pass
            seq += 1
            credit += length * 8
        time.sleep(min(0.002, max(0.0005, credit / rate)))
    json.dump({'sent': [seq], 'seconds': args.seconds}, sys.stdout)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
