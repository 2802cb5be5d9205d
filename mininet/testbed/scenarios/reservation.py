"""Scenarios `reservation` (PayFlow's "pay for QoS" claim) and `ipv6`
(scenario 5: the same over IPv6, the reservation keyed on the flow label).

Two UDP flows share the 10 Mbit/s bottleneck of the payflow topology (h1 -> h3 at the paid
rate, h2 -> h3 flooding); h1 buys a reservation halfway through with `payflow reserve` run
inside h1's namespace. The reserved flow must hold >= 95 % of its paid rate while the other
floods; after expiry they share again. A short TCP run first checks the link and TCP
through the userspace datapath.

Over IPv6 both flows are sent by mininet/udpflow.py, which sets the flow label on UDP
(iperf3 3.12 sets `-L` on TCP sockets only, so its UDP datagrams carry the kernel's
automatic label and never match a reservation keyed on a chosen label).
"""

import os
import time

from . import Scenario
from ..infra import ip6, log
from ..report import plot_timeline
from ..traffic import Flow, UdpFlow, mean_between, median_between, percentile, progress_until, reserve, wallet_for

PAID = 5.0
FLOOD = 15.0
RESERVED_LABEL = 0x1a2b3
FLOOD_LABEL = 0x2222


def tcp_check(ctx, seconds, src='h1', dst='h3'):
    """TCP src -> dst alone through the userspace datapath and the 10 Mbit/s links."""
    sender, receiver = ctx.tb.host(src), ctx.tb.host(dst)
    f = Flow('tcp', sender, receiver, 5301, ctx.workdir)
    log('TCP %s -> %s alone for %d s' % (src, dst, seconds))
    f.start(seconds)
    f.wait(seconds + 20)
    series, _ = f.received()
    return median_between(series, 1, seconds + 1), series


def run(ctx, ipv6=False, hosts=('h1', 'h2', 'h3')):
    """hosts: the reserved flow's source, the flood's source, the common destination."""
    capacity, bounds = ctx.scenario.capacity, ctx.bounds
    label = RESERVED_LABEL if ipv6 else None
    before, during, after = (8, 12, 10) if ctx.quick else (20, 30, 20)
    total = before + during + after + 2
    results = {'paidMbit': PAID, 'floodMbit': FLOOD, 'capacityMbit': capacity, 'ipv6': ipv6, 'flowLabel': label,
               'phases': {'before': before, 'reservedFor': during, 'after': after}}
    results['hosts'] = {'reserved': hosts[0], 'flood': hosts[1], 'destination': hosts[2]}
    tcp_median, tcp_series = tcp_check(ctx, 4 if ctx.quick else 10, hosts[0], hosts[2])
    results['tcpAloneMbit'] = tcp_median
    log('TCP alone: %.2f Mbit/s' % tcp_median)
    sender, flooder, receiver = (ctx.tb.host(h) for h in hosts)
    wallet_for(sender, ctx.workdir)
    if ipv6:
        src_ip, dst_ip = ip6(sender), ip6(receiver)
        a = UdpFlow('reserved', sender, receiver, 5201, ctx.workdir, dst_ip=dst_ip, flowlabel=label)
        b = UdpFlow('flood', flooder, receiver, 5202, ctx.workdir, dst_ip=dst_ip, flowlabel=FLOOD_LABEL)
        log('over IPv6 (%s -> %s) with udpflow; the reservation is keyed on flow label 0x%x' % (src_ip, dst_ip, label))
    else:
        src_ip, dst_ip = sender.IP(), receiver.IP()
        a = Flow('reserved', sender, receiver, 5201, ctx.workdir)
        b = Flow('flood', flooder, receiver, 5202, ctx.workdir)
    log('UDP %s -> %s at %g Mbit/s and %s -> %s at %g Mbit/s for %d s (bottleneck %g Mbit/s)' % (
        sender.name, receiver.name, PAID, flooder.name, receiver.name, FLOOD, total, capacity))
    a.start(total, PAID)
    b.start(total, FLOOD)
    t_start = a.started
    progress_until(ctx.ctl, t_start, before, lambda t: 'no reservation ')
    log('%s buys %g Mbit/s for %d s (payflow reserve in %s)' % (sender.name, PAID, during, sender.name))
    res, elapsed = reserve(ctx.ctl, sender, src_ip, dst_ip, '%gmbit' % PAID, '%ds' % during, ctx.workdir,
                           extra='--flow-label %d' % label if ipv6 else '')
    t_res = time.time() - t_start
    log('reserved %s in %.2f s' % (res.get('id', '?'), elapsed))
    t_exp = t_res + during
    progress_until(ctx.ctl, t_start, total, lambda t: 'reserved ' if t < t_exp else 'expired ')
    a.wait(30)
    b.wait(30)
    sa, lost_a = a.received()
    sb, lost_b = b.received()
    win = {'before': (2, t_res - elapsed), 'during': (t_res + 2, t_exp - 1), 'after': (t_exp + 2, total)}
    means, medians = {}, {}
    for phase, (x0, x1) in win.items():
        means[phase] = {'reserved': mean_between(sa, x0, x1), 'flood': mean_between(sb, x0, x1)}
        medians[phase] = {'reserved': median_between(sa, x0, x1), 'flood': median_between(sb, x0, x1)}
        log('%-6s reserved flow %.2f Mbit/s (median %.2f), flood %.2f Mbit/s (median %.2f)' % (
            phase, means[phase]['reserved'], medians[phase]['reserved'], means[phase]['flood'], medians[phase]['flood']))
    results.update({'reservation': {'id': res.get('id'), 'requestSeconds': elapsed, 'atSeconds': t_res, 'expiresAtSeconds': t_exp},
                    'windows': win, 'means': means, 'medians': medians, 'lostPercent': {'reserved': lost_a, 'flood': lost_b},
                    'series': {'reserved': sa, 'flood': sb, 'tcpAlone': tcp_series}})
    if ipv6:
        # The receiver's IPV6_FLOWINFO: which labels were on the wire (iperf3's UDP had the kernel's own).
        labels = a.ports_report()[0].get('flowLabels', [])
        results['receivedFlowLabels'] = labels
        log('the reserved flow arrived with flow label(s) %s' % ', '.join('0x%x' % l for l in labels))
        bounds.check('the reserved flow carried its flow label (labels seen that are not 0x%x)' % label,
                     sum(1 for l in labels if l != label) + (0 if labels else 1), '<=', 0)
    bounds.check('TCP alone >= 60 % of the link', tcp_median, '>=', 0.6 * capacity)
    m = medians
    bounds.check('before: reserved flow below its rate (the flood crowds it)', m['before']['reserved'], '<=', 0.9 * PAID)
    bounds.check('during: reserved flow >= 95 % of paid rate', m['during']['reserved'], '>=', 0.95 * PAID)
    bounds.check('during: flood held to the rest of the link (<= capacity - paid + 30 %)', m['during']['flood'], '<=', (capacity - PAID) * 1.3)
    bounds.check('after expiry: reserved flow below its rate again', m['after']['reserved'], '<=', 0.9 * PAID)
    # The best-effort meter is lifted at expiry: the flood goes above its reserved-time cap.
    # (The 80th percentile, not the median: the short CI phase has ~8 samples.)
    p80 = percentile(sorted(v for t, v in sb if win['after'][0] < t <= win['after'][1]), 80)
    results['floodAfterP80'] = p80
    bounds.check('after expiry: flood (80th percentile) above its cap while reserved', p80, '>=', m['during']['flood'] + 0.5)
    # The link stays full: before the egress queues were bounded and OVS's send buffer
    # raised (mininet/README.md, "the overload collapse"), both flows fell to almost nothing
    # for seconds while the bottleneck was overloaded. The 10th percentile of the per-second
    # sums, so that one second of CPU starvation on a busy machine does not fail a run.
    rx_a, rx_b = ({int(round(t)): v for t, v in s} for s in (sa, sb))  # per-second series of two receivers
    sums = sorted(rx_a[t] + rx_b[t] for t in rx_a if t in rx_b and 2 < t <= total - 1)
    results['linkUse'] = {'min': sums[0] if sums else float('nan'), 'p10': percentile(sums, 10)}
    log('both flows together per second: min %.2f, 10th percentile %.2f Mbit/s' % (results['linkUse']['min'], results['linkUse']['p10']))
    bounds.check('no collapse: both flows together fill >= 70 % of the link (10th percentile of seconds)',
                 results['linkUse']['p10'], '>=', 0.7 * capacity)
    plot(dict(results, scenario=ctx.scenario.name), ctx.out_dir)
    return results


def plot(results, out_dir):
    """SCENARIO.png from results.json: the reserved flow and the flood, the paid rate, the
    offered flood and the reservation's window."""
    name = results['scenario']
    hosts = results.get('hosts') or {'reserved': 'h1', 'flood': 'h2', 'destination': 'h3'}
    sender, flooder, receiver = hosts['reserved'], hosts['flood'], hosts['destination']
    paid, flood = results['paidMbit'], results['floodMbit']
    r = results['reservation']
    plot_timeline(os.path.join(out_dir, '%s.png' % name),
                  '%s: %s buys %g Mbit/s at t=%.0f s' % (name + (' (flow label)' if results.get('ipv6') else ''), sender, paid, r['atSeconds']),
                  {'%s -> %s (reserved)' % (sender, receiver): results['series']['reserved'],
                   '%s -> %s (flood, offers %g)' % (flooder, receiver, flood): results['series']['flood']},
                  paid, (r['atSeconds'], r['expiresAtSeconds']), levels={'link capacity': results['capacityMbit']})


RESERVATION = Scenario('reservation', run, 'two flows share a bottleneck; one buys a reservation halfway (~90 s)')
# The same on the k=4 fat tree (20 switches, 16 hosts, many equal-cost paths): sender and flooder
# share an edge switch in pod 0, h16 sits in pod 3, so the flows cross the core.
FATTREE = Scenario('fattree', lambda ctx: run(ctx, hosts=('h1', 'h2', 'h16')),
                   'reservation across the pods of a k=4 fat tree (~100 s)', topo='fattree')
IPV6 = Scenario('ipv6', lambda ctx: run(ctx, ipv6=True), 'reservation over IPv6, keyed on the flow label (~90 s)', ipv6=True)
