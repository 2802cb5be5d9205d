"""Scenario `spoof` (trust at the network edge): h2 forges h1's address while h1's paid
reservation is active, first h1's IP alone (with h2's own MAC), then h1's IP and MAC.

h1 buys a gold reservation h1 -> h3 and sends at the paid rate; h2, on another port of the
same switch, sends a flood to h3 through the same 10 Mbit/s bottleneck with h1's source
address written into its frames (mininet/spoofflow.py, raw frames). The reservation's
ingress flow matches h1's port and MAC, so the forged frames must get best effort: re-marked
to DSCP 0 at h2's port (the forger marks its frames DSCP 46 itself) and metered with the rest of best effort. The bounds: h1 keeps
>= 90 % of its paid rate and arrives marked with the class DSCP; every spoofed datagram
arrives with DSCP 0, and the spoofer gets no more than the capacity the reservation leaves.
"""

import os
import time

from . import Scenario
from ..infra import HERE, log
from ..report import plot_timeline
from ..traffic import PYTHON, UDPFLOW, UdpFlow, frame_factor, median_between, progress_until, reserve

PAID = 4.0
SPOOF = 12.0
GOLD_DSCP = 46
SPOOFFLOW = os.path.join(HERE, 'spoofflow.py')


class SpoofFlow(UdpFlow):
    """udpflow's receiver at dst; the sender is spoofflow.py at src with a forged source."""

    def __init__(self, name, src, dst, port, workdir, src_ip, src_mac=None):
        UdpFlow.__init__(self, name, src, dst, port, workdir)
        self.src_ip, self.src_mac = src_ip, src_mac

    def start(self, seconds, udp_mbit=None, length=1200, schedule=None, step=1.0, idle=15):
        self.wire_factor = frame_factor(length, False)
        self.server = self.dst.popen([PYTHON, UDPFLOW, 'recv', '--port', str(self.port), '--seconds', str(seconds + 1),
                                      '--idle', str(idle), '--json', self.server_json])
        time.sleep(0.5)
        cmd = [PYTHON, SPOOFFLOW, '--iface', self.src.defaultIntf().name, '--src-ip', self.src_ip,
               '--dst-ip', self.dst_ip, '--dst-mac', self.dst.MAC(), '--port', str(self.port),
               '--rate', '%g' % udp_mbit, '--seconds', str(seconds), '--length', str(length),
               '--tos', str(GOLD_DSCP << 2)]   # and it marks itself gold
        if self.src_mac:
            cmd += ['--src-mac', self.src_mac]
        self.started = time.time()
        self.client = self.src.popen(cmd, stdout=open(self.sender_out, 'w'))


def phase(ctx, name, seconds, forge_mac):
    h1, h2, h3 = ctx.tb.host('h1'), ctx.tb.host('h2'), ctx.tb.host('h3')
    paid = UdpFlow('%s-paid' % name, h1, h3, 5201, ctx.workdir)
    spoof = SpoofFlow('%s-spoof' % name, h2, h3, 5202, ctx.workdir, h1.IP(), h1.MAC() if forge_mac else None)
    log('%s: h1 -> h3 at %g Mbit/s (paid); h2 -> h3 at %g Mbit/s from %s%s for %d s' % (
        name, PAID, SPOOF, h1.IP(), ' with MAC %s' % h1.MAC() if forge_mac else ' (h2\'s own MAC)', seconds))
    paid.start(seconds, PAID)
    spoof.start(seconds, SPOOF)
    progress_until(ctx.ctl, paid.started, seconds, lambda t: '%s ' % name)
    paid.wait(30)
    spoof.wait(30)
    sp, lost_p = paid.received()
    ss, lost_s = spoof.received()
    pp, ps = paid.ports_report()[0], spoof.ports_report()[0]
    out = {'paidMedian': median_between(sp, 2, seconds), 'spoofMedian': median_between(ss, 2, seconds),
           'paidLostPercent': lost_p, 'spoofLostPercent': lost_s,
           'paidDscp': [pp.get('firstDscp'), pp.get('markedDscp')], 'spoofDscp': [ps.get('firstDscp'), ps.get('markedDscp')],
           'series': {'paid': sp, 'spoof': ss}}
    log('%s: h1 received %.2f Mbit/s (DSCP %s), spoofer %.2f Mbit/s (DSCP %s)' % (
        name, out['paidMedian'], out['paidDscp'], out['spoofMedian'], out['spoofDscp']))
    return out


def run(ctx):
    bounds, capacity = ctx.bounds, ctx.scenario.capacity
    seconds = 10 if ctx.quick else 25
    h1, h3 = ctx.tb.host('h1'), ctx.tb.host('h3')
    results = {'paidMbit': PAID, 'spoofMbit': SPOOF, 'capacityMbit': capacity, 'phases': {}}
    log('h1 buys %g Mbit/s gold h1 -> h3 for %d s (payflow reserve in h1)' % (PAID, 2 * seconds + 30))
    res, elapsed = reserve(ctx.ctl, h1, h1.IP(), h3.IP(), '%gmbit' % PAID, '%ds' % (2 * seconds + 30), ctx.workdir)
    results['reservation'] = {'id': res.get('id'), 'requestSeconds': elapsed}
    for name, forge_mac in (('ip', False), ('ip+mac', True)):
        r = phase(ctx, name, seconds, forge_mac)
        results['phases'][name] = r
        bounds.check('%s: h1 keeps >= 90 %% of its paid rate' % name, r['paidMedian'], '>=', 0.9 * PAID)
        bounds.check('%s: h1 arrives in its class (DSCP 46 on its first datagram)' % name,
                     1.0 if r['paidDscp'][0] == GOLD_DSCP and r['paidDscp'][1] in (None, GOLD_DSCP) else 0.0, '>=', 1.0)
        bounds.check('%s: the spoofed datagrams arrive as best effort (DSCP 0 throughout)' % name,
                     1.0 if r['spoofDscp'][0] in (0, None) and r['spoofDscp'][1] in (None, 0) else 0.0, '>=', 1.0)
        bounds.check('%s: the spoofer gets at most the capacity the reservation leaves (+10 %%)' % name,
                     r['spoofMedian'], '<=', 1.1 * (capacity - PAID))
    plot(results, ctx.out_dir)
    return results


def plot(results, out_dir):
    """spoof.png: h1's paid flow and the spoofer, in both phases, one after the other."""
    series, offset = {}, 0.0
    for name, r in results['phases'].items():
        series['h1 (paid) during %s spoof' % name] = [(t + offset, v) for t, v in r['series']['paid']]
        series['h2 forging %s' % name] = [(t + offset, v) for t, v in r['series']['spoof']]
        offset += max([t for t, _ in r['series']['paid']] + [0]) + 2
    plot_timeline(os.path.join(out_dir, 'spoof.png'), 'spoof: h2 forges h1\'s address while h1 holds %g Mbit/s' % results['paidMbit'],
                  series, results['paidMbit'], None, levels={'h2 offers': results['spoofMbit']})


SPOOF_SCENARIO = Scenario('spoof', run, 'h2 forges h1\'s IP, then IP+MAC, during h1\'s reservation (~40 s)')
