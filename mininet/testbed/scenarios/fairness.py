"""Scenario `fairness` (the pricing paper's edge router schedules every reserved flow in a
WFQ queue of its own): eight reserved UDP flows h1 -> h3 with different paid rates, and
one greedy best-effort flow h2 -> h3 at twice the link, share the 10 Mbit/s link to h3.
Each reserved flow offers 110 % of what it paid for; it must receive its paid rate within
5 %. The weighted shares (received / paid) are summarised by Jain's fairness index
(Jain, Chiu & Hawe, DEC-TR-301, 1984): (sum x)^2 / (n sum x^2), 1 when every flow gets
the same multiple of what it paid. On `payflow switch` each reservation holds its own
egress queue (set_queue, weight = paid rate), which the reservation API shows."""

import json
import os

from . import Scenario
from ..infra import log
from ..report import figure, legend_outside, pyplot, save_figure
from ..traffic import UdpFlow, frame_factor, median_between, progress_until, reserve

# Mbit/s, 6.9 in all. At least 0.4: a flow's meter holds 50 ms of its rate, and below
# two frames of burst a sender's jitter on a loaded machine costs it frames at the meter.
PAID = [0.4, 0.5, 0.6, 0.75, 0.9, 1.0, 1.25, 1.5]
OFFER = 1.1  # each reserved flow offers this multiple of its paid rate
GREEDY = 20.0  # Mbit/s offered best effort
LENGTH = 1000  # UDP payload bytes
FIRST_PORT = 5301
CLASSES = [
    dict(id='gold', name='Gold (per-flow queues)', basePrice=0.16, maxPrice=1.6, target=0.6, share=0.8, dscp=46),
    dict(id='best-effort', name='Best effort', basePrice=0.04, maxPrice=0.04, target=1, share=0.2, dscp=0, bestEffort=True),
]


def jain(values):
    """Jain's fairness index of the values (nan when empty or all zero)."""
    total, squares = sum(values), sum(v * v for v in values)
    return (total * total) / (len(values) * squares) if values and squares > 0 else float('nan')


def run(ctx):
    bounds = ctx.bounds
    seconds = 15 if ctx.quick else 40
    h1, h2, h3 = ctx.tb.host('h1'), ctx.tb.host('h2'), ctx.tb.host('h3')
    factor = frame_factor(LENGTH, False)
    reservations = []
    for i, paid in enumerate(PAID):
        port = FIRST_PORT + i
        res, elapsed = reserve(ctx.ctl, h1, h1.IP(), h3.IP(), '%gmbit' % paid, '%ds' % (seconds + 60), ctx.workdir,
                               extra='--proto 17 --dst-port %d' % port)
        log('flow %d (port %d): %g Mbit/s reserved as %s in %.2f s' % (i + 1, port, paid, res.get('id', '?')[:8], elapsed))
        reservations.append(res)
    queues = [res.get('queues', []) for res in reservations]  # as the purchase answered
    log('egress queues held: %s' % json.dumps([[q['queueId'] for q in qs] for qs in queues]))
    flows = [UdpFlow('reserved%d' % (i + 1), h1, h3, FIRST_PORT + i, ctx.workdir) for i in range(len(PAID))]
    greedy = UdpFlow('greedy', h2, h3, FIRST_PORT + 50, ctx.workdir)
    log('8 reserved flows at 110 %% of their paid rates (%s Mbit/s) and best effort at %g Mbit/s for %d s' %
        (', '.join('%g' % p for p in PAID), GREEDY, seconds))
    for flow, paid in zip(flows, PAID):
        flow.start(seconds, OFFER * paid / factor, length=LENGTH)
    greedy.start(seconds, GREEDY / factor, length=LENGTH)
    progress_until(ctx.ctl, flows[0].started, seconds)
    for f in flows + [greedy]:
        f.wait(60)
    series, got = {}, []
    for i, (flow, paid) in enumerate(zip(flows, PAID)):
        s, _ = flow.received()
        series['flow%d' % (i + 1)] = s
        got.append(median_between(s, 3, seconds))
    sg, _ = greedy.received()
    series['greedy'] = sg
    best_effort = median_between(sg, 3, seconds)
    shares = [g / p for g, p in zip(got, PAID)]
    index = jain(shares)
    for i, (paid, g) in enumerate(zip(PAID, got)):
        log('flow %d: paid %.2f, received %.3f Mbit/s (%.1f %%)' % (i + 1, paid, g, 100 * g / paid))
    log('best effort: %.2f Mbit/s; Jain\'s index of received/paid: %.4f' % (best_effort, index))
    results = {'capacityMbit': ctx.scenario.capacity, 'paidMbit': PAID, 'offerFactor': OFFER, 'greedyMbit': GREEDY,
               'seconds': seconds, 'receivedMbit': got, 'weightedShares': shares, 'jainIndex': index,
               'bestEffortMbit': best_effort, 'queues': queues, 'reservations': [r.get('id') for r in reservations],
               'switch': ctx.tb.switch, 'series': series}
    for i, (paid, g) in enumerate(zip(PAID, got)):
        bounds.check('flow %d (%g Mbit/s paid) receives >= 95 %% of it' % (i + 1, paid), g, '>=', 0.95 * paid)
        bounds.check('flow %d (%g Mbit/s paid) receives <= 105 %% of it' % (i + 1, paid), g, '<=', 1.05 * paid)
    bounds.check('Jain\'s fairness index of received/paid', index, '>=', 0.99)
    bounds.check('best effort gets the rest of the link (>= 20 % of what is left)', best_effort, '>=',
                 0.2 * (ctx.scenario.capacity - sum(PAID)))
    if ctx.tb.switch == 'payflow':
        held = sum(1 for qs in queues if qs and all(q['queueId'] >= 1024 for q in qs))
        bounds.check('reservations holding a queue of their own on every hop', held, '>=', len(PAID))
    plot(results, ctx.out_dir)
    return results


def plot(results, out_dir):
    """fairness.png from results.json: paid and received rate per reserved flow (bars), and
    the received/paid ratio per flow against the 5 % band, with Jain's index in the title."""
    plt = pyplot()
    if plt is None:
        return
    fig, (ax, ax2) = figure(plt, 1, 2, height=5.0)
    paid, got = results['paidMbit'], results['receivedMbit']
    xs = list(range(1, len(paid) + 1))
    ax.bar([x - 0.2 for x in xs], paid, width=0.4, color='#bbbbbb', edgecolor='black', label='paid')
    ax.bar([x + 0.2 for x in xs], got, width=0.4, color='#1f77b4', edgecolor='black', hatch='//', label='received (median)')
    ax.set_xticks(xs)
    ax.set_xlabel('reserved flow')
    ax.set_ylabel('rate (Mbit/s)')
    ax.set_title('paid and received, best effort got %.2f Mbit/s' % results['bestEffortMbit'])
    ax.grid(alpha=0.3, axis='y')
    ax2.plot(xs, results['weightedShares'], marker='o', color='#1f77b4', label='received / paid')
    ax2.axhspan(0.95, 1.05, color='green', alpha=0.12, label='within 5 %')
    ax2.axhline(1.0, color='black', linestyle='--', linewidth=1)
    ax2.set_xticks(xs)
    ax2.set_ylim(0.8, 1.2)
    ax2.set_xlabel('reserved flow')
    ax2.set_ylabel('received / paid')
    ax2.set_title("weighted shares: Jain's index %.4f" % results['jainIndex'])
    ax2.grid(alpha=0.3)
    handles, labels = [], []
    for a in (ax, ax2):
        h, l = a.get_legend_handles_labels()
        handles += h
        labels += l
    legend_outside(ax2, handles, labels)
    fig.subplots_adjust(top=0.84)
    switch = 'payflow switch' if results.get('switch', 'payflow') == 'payflow' else 'Open vSwitch'
    fig.suptitle('fairness on %s: 8 reserved flows and a greedy best-effort flow on a %g Mbit/s link' %
                 (switch, results['capacityMbit']))
    save_figure(plt, fig, os.path.join(out_dir, 'fairness.png'))


FAIRNESS = Scenario('fairness', run, '8 reserved flows with different paid rates and a greedy best-effort flow on one link (~70 s)',
                    classes=CLASSES)
