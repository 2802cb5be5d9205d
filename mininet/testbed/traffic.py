"""Traffic and purchases in the testbed's hosts: iperf3 flows, udpflow flows (IPv6
flow labels, rate schedules, many ports), per-second statistics, and `payflow reserve`.

Both kinds of flow report per-second received rates from the receiver's side. UDP rates are
Ethernet frame bits (the receiver's payload rate x (payload + headers) / payload), since that
is what the switches' meters and tc count; TCP rates are goodput.
"""

import json
import os
import subprocess
import time

from .infra import CLI, HERE, SetupError, log

UDPFLOW = os.path.join(HERE, 'udpflow.py')
PYTHON = '/usr/bin/python3'


def frame_factor(length, ipv6):
    """Ethernet frame bytes per UDP payload byte (14 Ethernet + 20 IPv4 or 40 IPv6 + 8 UDP)."""
    return (length + 14 + (40 if ipv6 else 20) + 8) / float(length)


class Flow:
    """One iperf3 flow: server on dst (one test, JSON to a file), client on src."""

    def __init__(self, name, src, dst, port, workdir, dst_ip=None):
        self.name, self.src, self.dst, self.port = name, src, dst, port
        self.dst_ip = dst_ip or dst.IP()
        self.server_json = os.path.join(workdir, '%s-server.json' % name)
        self.client_out = os.path.join(workdir, '%s-client.json' % name)
        self.server = self.client = None
        self.started = None
        self.wire_factor = 1.0

    def start(self, seconds, udp_mbit=None, length=1200):
        if udp_mbit is not None:
            self.wire_factor = frame_factor(length, ':' in self.dst_ip)
        self.server = self.dst.popen(['iperf3', '-s', '-1', '-p', str(self.port), '-J', '--logfile', self.server_json])
        time.sleep(0.5)
        cmd = ['iperf3', '-c', self.dst_ip, '-p', str(self.port), '-t', str(seconds), '-i', '1', '-J']
        if udp_mbit is not None:
            cmd += ['-u', '-b', '%gM' % udp_mbit, '-l', str(length)]
        self.started = time.time()
        self.client = self.src.popen(cmd, stdout=open(self.client_out, 'w'), stderr=subprocess.STDOUT)

    def wait(self, timeout):
        for p in (self.client, self.server):
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def report(self):
        try:
            return json.load(open(self.server_json))
        except (OSError, ValueError) as e:
            raise SetupError('no receiver report for %s: %s' % (self.name, e))

    def received(self):
        """Per-second received throughput [(t since the receiver's start, Mbit/s)] and the loss in %."""
        data = self.report()
        out = []
        for iv in data.get('intervals', []):
            s = iv['sum']
            out.append((round(s['end'], 3), s['bits_per_second'] * self.wire_factor / 1e6))
        lost = data.get('end', {}).get('sum', {}).get('lost_percent')
        return out, lost


class UdpFlow(Flow):
    """A flow sent and received by mininet/udpflow.py: for an IPv6 flow label on UDP (iperf3
    sets -L on TCP only), a rate schedule (`schedule`: Mbit/s per `step` seconds) or many
    destination ports (`ports`, with per-port first-arrival and first-marked times)."""

    def __init__(self, name, src, dst, port, workdir, dst_ip=None, flowlabel=None, ports=1):
        Flow.__init__(self, name, src, dst, port, workdir, dst_ip)
        self.flowlabel = flowlabel
        self.ports = ports
        self.sender_out = os.path.join(workdir, '%s-sender.json' % name)

    def start(self, seconds, udp_mbit=None, length=1200, schedule=None, step=1.0, idle=15):
        """The receiver stops `seconds` + 1 after its first datagram, or after `idle` seconds
        without one (an overload collapse can silence a flow for several seconds)."""
        ipv6 = ':' in self.dst_ip
        self.wire_factor = frame_factor(length, ipv6)
        recv = [PYTHON, UDPFLOW, 'recv', '--port', str(self.port), '--ports', str(self.ports),
                '--seconds', str(seconds + 1), '--idle', str(idle), '--json', self.server_json]
        if ipv6:
            recv.append('--ipv6')
        self.server = self.dst.popen(recv)
        time.sleep(0.5)
        send = [PYTHON, UDPFLOW, 'send', '--dst', self.dst_ip, '--port', str(self.port), '--ports', str(self.ports),
                '--seconds', str(seconds), '--length', str(length)]
        if schedule is not None:
            send += ['--schedule', ','.join('%g' % r for r in schedule), '--step', str(step)]
        else:
            send += ['--rate', '%g' % udp_mbit]
        if self.flowlabel is not None:
            send += ['--flowlabel', str(self.flowlabel)]
        self.started = time.time()
        self.client = self.src.popen(send, stdout=open(self.sender_out, 'w'), stderr=subprocess.STDOUT)

    def received(self):
        out, lost = Flow.received(self)
        start = (self.report().get('start') or {}).get('timestamp')
        # The receiver's seconds count from its first datagram; shift them onto the sender's clock.
        shift = (start - self.started) if start and self.started else 0.0
        return [(round(t + shift, 3), v) for t, v in out], lost

    def ports_report(self):
        return self.report().get('ports', [])

    def received_by_dscp(self):
        """Per arriving DSCP, [(t on the sender's clock, Mbit/s as frame bits)] per second."""
        report = self.report()
        start = (report.get('start') or {}).get('timestamp')
        shift = (start - self.started) if start and self.started else 0.0
        return {int(d) if d != 'None' else None: [(round(i + 1 + shift, 3), b * 8.0 * self.wire_factor / 1e6) for i, b in enumerate(seconds)]
                for d, seconds in report.get('perSecondByDscp', {}).items()}


# ---------------------------------------------------------------------------------------
# Statistics

def mean_between(series, t0, t1):
    vals = [v for t, v in series if t0 < t <= t1]
    return sum(vals) / len(vals) if vals else float('nan')


def median_between(series, t0, t1):
    """The median of the per-second rates in (t0, t1]: the bounds use it, because on a busy
    2-core machine the userspace datapath is sometimes starved of CPU for a second or three
    (every flow drops together), which would drag a mean down without saying anything about
    the reservation."""
    vals = sorted(v for t, v in series if t0 < t <= t1)
    return percentile(vals, 50)


def percentile(sorted_vals, p):
    """The p-th percentile of an ascending list (linear interpolation); nan if empty."""
    if not sorted_vals:
        return float('nan')
    k = (len(sorted_vals) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(sorted_vals) - 1)
    return sorted_vals[lo] + (sorted_vals[hi] - sorted_vals[lo]) * (k - lo)


# ---------------------------------------------------------------------------------------
# Purchases

def wallet_for(host, workdir):
    """The host's payer key (payflow ledger keygen), made once, before anything is timed."""
    wallet = os.path.join(workdir, 'wallet-%s.json' % host.name)
    if not os.path.exists(wallet):
        r = subprocess.run(['node', CLI, 'ledger', 'keygen', '--out', wallet], capture_output=True, text=True)
        if r.returncode != 0:
            raise SetupError('payflow ledger keygen failed: %s' % (r.stderr or r.stdout))
    return wallet


def reserve(ctl, host, src_ip, dst_ip, rate, duration, workdir, cls='gold', extra='', faucet=True):
    """`payflow reserve --json` in the host's namespace, with --faucet (minting with the run's
    admin token) unless the host's wallet is funded already (faucet=False); (reservation,
    seconds it took)."""
    wallet = wallet_for(host, workdir)
    mint = ' --faucet --token %s' % ctl.admin_token if faucet else ''
    cmd = 'node %s reserve --api %s --src %s --dst %s --rate %s --duration %s --class %s --wallet %s%s --json %s' % (
        CLI, ctl.api, src_ip, dst_ip, rate, duration, cls, wallet, mint, extra)
    t = time.time()
    out = host.cmd(cmd + ' 2>&1; echo "EXIT=$?"')
    elapsed = time.time() - t
    body, _, code = out.rpartition('EXIT=')
    if code.strip() != '0':
        raise SetupError('payflow reserve from %s failed (exit %s):\n%s' % (host.name, code.strip(), body))
    start = body.find('{')
    res = json.loads(body[start:]) if start >= 0 else {}
    return res, elapsed


def progress_until(ctl, t_start, t_end, label=lambda t: '', every=3):
    """Sleep until t_end (seconds after t_start), printing a progress line (with the controller's link count) every few seconds."""
    while True:
        now = time.time() - t_start
        if now >= t_end:
            return
        try:
            links = len(ctl.get('/v1/topology').get('links', []))
        except OSError:
            links = '?'
        log('  t=%4.0fs  %s(controller sees %s link directions)' % (now, label(now), links))
        time.sleep(min(every, max(0.05, t_end - (time.time() - t_start))))
