"""Scenarios `degrade` and `policing --excess degrade` (the pricing seed 004, sections 4-6:
a flow over its specification "is degraded or its packets dropped"; Figure 4's discussion:
"during congestion packets belonging to FID-12 are degraded to best effort").

`degrade`: the seed's three flows, FID 15 (gold, EF), FID 12 (silver, AF31, `excess:
degrade`) and FID 8 (best effort), from one edge switch to one sink through the `diffserv`
topology, links scaled to 10 Mbit/s. Gold holds a 4 Mbit/s reservation and sends 3.6 Mbit/s
throughout; silver holds 2 Mbit/s; silver and best effort share the rest of the offered
load 70/30, which rises from 50 % to 150 % of the link (Ethernet frame bits). Silver's
packets beyond 2 Mbit/s leave the ingress meter re-marked AF32 (a dscp_remark band) and
share the best-effort meter (capacity - reserved = 4 Mbit/s) with FID 8. The sink counts
bytes per arriving DSCP: 26 in profile, 28 degraded.

Expected, with `payflow switch`: silver's excess arrives as best effort while there is room
(offered load 70 % and 90 %), and is dropped, with best effort, once there is none, before
gold loses a packet. With Open vSwitch (no dscp_remark bands) the controller falls back to
drop: no degraded packet arrives, and /v1/topology says so for every switch.

`policing --excess degrade`: `policing` (a reserved flow offering 150 % of its paid 4
Mbit/s) with the reservation in a degrading class, and the other flow at 3 Mbit/s instead of
4 so that 4 + 2 + 3 leaves the 10 Mbit/s link room for the excess: the flow keeps 100 % of its paid rate in profile, and its excess arrives as
best effort because the link has room for it.
"""

import os
import time

from . import Scenario
from ..infra import log
from ..report import SERIES_STYLES, figure, legend_outside, pyplot, save_figure
from ..traffic import UdpFlow, frame_factor, median_between, reserve

LENGTH = 1000                                     # UDP payload bytes
CLASS_DSCP, RAISED_DSCP = 26, 28                  # AF31, AF32 (RFC 2597)

# ---- degrade -------------------------------------------------------------------------------

LOADS = [0.5, 0.7, 0.9, 1.1, 1.3, 1.5]            # offered load, fraction of the link
GOLD_PAID, GOLD_SENDS, SILVER_PAID = 4.0, 3.6, 2.0  # Mbit/s (frame bits)
GOLD_KEEPS = 0.97                                 # gold's delivered fraction at every step, at least
SILVER_SPLIT = 0.7                                # silver's part of what gold does not send
# /v1/prices: a class's price is in currency units per Mbit/s per second of the reservation.
PRICE_UNIT = 'currency units per Mbit/s per s'
# Prices follow the measured in-profile rate (the switch's own per-class counters on payflow
# switch) over a 2 s average, as in `pricing`: the reservations are bought once for the whole
# sweep, so priced on reserved rates every price would stay flat while the load rises.
DEGRADE_PRICING = {'mode': 'exponential', 'demand': 'measured', 'demandWindow': '2s'}
DEGRADE_CLASSES = [
    dict(id='gold', name='Gold (FID 15)', basePrice=0.16, maxPrice=1.6, target=0.5, share=0.5, dscp=46),
    dict(id='silver', name='Silver (FID 12)', basePrice=0.09, maxPrice=0.18, target=0.7, share=0.25, dscp=CLASS_DSCP, excess='degrade'),
    dict(id='best-effort', name='Best effort (FID 8)', basePrice=0.04, maxPrice=0.04, target=1, share=0.25, dscp=0, bestEffort=True),
]


def offered(load, cap):
    """Mbit/s (frame bits) each flow offers at one step."""
    rest = max(0.0, load * cap - GOLD_SENDS)
    return {'gold': GOLD_SENDS, 'silver': SILVER_SPLIT * rest, 'best-effort': (1 - SILVER_SPLIT) * rest}


def sample_prices(ctx, t_start, seconds):
    """GET /v1/prices about once a second while the sweep runs: [{t, prices: {class: entry}}]."""
    samples = []
    while time.time() - t_start < seconds + 1:
        t = time.time() - t_start
        try:
            samples.append({'t': round(t, 2), 'prices': {p['classId']: p for p in ctx.ctl.get('/v1/prices')['prices']}})
        except (OSError, KeyError) as e:
            log('  /v1/prices: %s' % e)
        time.sleep(max(0.0, 1.0 - (time.time() - t_start - t) % 1.0))
    return samples


def step_prices(samples, t0, t1):
    """Per class, the median price and demand among the samples in (t0, t1] (seconds from the
    start): the second half of a step, once the demand average has followed the step."""
    classes = sorted({c for s in samples for c in s['prices']})

    def median(cls, key, scale=1.0):
        return median_between([(s['t'], (s['prices'][cls].get(key) or 0.0) / scale) for s in samples if cls in s['prices']], t0, t1)
    return {cls: {'price': median(cls, 'price'), 'demandMbit': median(cls, 'demandBps', 1e6), 'measuredMbit': median(cls, 'measuredBps', 1e6),
                  'degradedMbit': median(cls, 'degradedBps', 1e6), 'reservedMbit': median(cls, 'reservedBps', 1e6)} for cls in classes}


def switch_kind(ctx):
    """'payflow' or 'ovs', from what the controller read of the switches (OFPMP_DESC)."""
    switches = ctx.ctl.get('/v1/topology')['switches']
    kinds = {bool(s.get('payflowSwitch')) for s in switches}
    return ('payflow' if kinds == {True} else 'ovs'), switches


def check_excess_view(ctx, switches, kind, cls):
    """/v1/topology: on every switch, the class's excess degraded (payflow switch) or dropped (OVS)."""
    want = 'degraded' if kind == 'payflow' else 'dropped'
    views = [next((e for e in s.get('excess', []) if e['classId'] == cls), {}) for s in switches]
    same = sum(1 for v in views if v.get('excess') == want)
    ctx.bounds.check('/v1/topology: %s excess %s on every switch (%s)' % (cls, want, 'dscp_remark bands' if kind == 'payflow' else 'no dscp_remark band: falls back to drop'),
                     same, '>=', len(switches))
    if kind == 'ovs':
        fallback = ctx.ctl.tail(200000).count('switch cannot re-mark')
        log('controller log: %d "switch cannot re-mark" line(s) for %d switches' % (fallback, len(switches)))
        ctx.bounds.check('controller log says so, one line per switch', fallback, '>=', len(switches))
    return [{'dpid': s['dpid'], 'meterBands': s.get('meterBands'), 'excess': v} for s, v in zip(switches, views)]


def run_degrade(ctx):
    cap, bounds = ctx.scenario.capacity, ctx.bounds
    step = 4 if ctx.quick else 8
    seconds = step * len(LOADS)
    tb = ctx.tb
    kind, switches = switch_kind(ctx)
    log('switches: %s (meter bands %s)' % (kind, sorted({b for s in switches for b in s.get('meterBands', [])})))
    views = check_excess_view(ctx, switches, kind, 'silver')
    sink = tb.host('sink')
    factor = frame_factor(LENGTH, False)
    flows = {}
    for fid, src_name, cls, paid in ((15, 'src15', 'gold', GOLD_PAID), (12, 'src12', 'silver', SILVER_PAID), (8, 'src8', 'best-effort', None)):
        src = tb.host(src_name)
        if paid:
            log('%s buys %g Mbit/s of %s for the whole sweep (FID %d)' % (src_name, paid, cls, fid))
            reserve(ctx.ctl, src, src.IP(), sink.IP(), '%gmbit' % paid, '%ds' % (seconds + 30), ctx.workdir, cls=cls)
        f = UdpFlow('fid%d' % fid, src, sink, 5400 + fid, ctx.workdir)
        flows[cls] = (fid, f, [offered(l, cap)[cls] / factor for l in LOADS])
    log('offered load %s %% of %g Mbit/s, %d s per step' % (' '.join('%d' % round(100 * l) for l in LOADS), cap, step))
    for _, f, schedule in flows.values():
        f.start(seconds, length=LENGTH, schedule=schedule, step=step, idle=step + 5)
    price_samples = sample_prices(ctx, min(f.started for _, f, _ in flows.values()), seconds)
    for _, f, _ in flows.values():
        f.wait(seconds + 40)

    def step_rate(series, k):
        return median_between(series, k * step + 1, (k + 1) * step) if series else 0.0

    rx = {cls: f.received_by_dscp() for cls, (_, f, _) in flows.items()}
    lost = {cls: f.received()[1] for cls, (_, f, _) in flows.items()}
    series = {
        'gold_mbit': rx['gold'].get(46, []),
        'silver_in_profile_mbit': rx['silver'].get(CLASS_DSCP, []),
        'silver_degraded_mbit': rx['silver'].get(RAISED_DSCP, []),
        'best_effort_mbit': rx['best-effort'].get(0, []),
    }
    steps = []
    for k, load in enumerate(LOADS):
        o = offered(load, cap)
        row = {'load': load, 'offered': o, 'excessOffered': max(0.0, o['silver'] - SILVER_PAID),
               'gold': step_rate(series['gold_mbit'], k), 'silverInProfile': step_rate(series['silver_in_profile_mbit'], k),
               'silverDegraded': step_rate(series['silver_degraded_mbit'], k), 'bestEffort': step_rate(series['best_effort_mbit'], k),
               'prices': step_prices(price_samples, k * step + step / 2.0, (k + 1) * step)}
        steps.append(row)
        log('load %3.0f %%: gold %.2f/%.2f  silver in profile %.2f, degraded %.2f of excess %.2f  best effort %.2f/%.2f (Mbit/s delivered/offered)' % (
            100 * load, row['gold'], o['gold'], row['silverInProfile'], row['silverDegraded'], row['excessOffered'], row['bestEffort'], o['best-effort']))
        log('           prices %s (%s)' % ('  '.join('%s %.4f' % (c, p['price']) for c, p in row['prices'].items()), PRICE_UNIT))
    log('loss: gold %.3f %%, silver %.3f %%, best effort %.3f %%' % (lost['gold'] or 0, lost['silver'] or 0, lost['best-effort'] or 0))
    # Gold holds its own egress queue at the bottleneck (set_queue, weight = its paid rate),
    # apart from queue 0 where silver's degraded excess and best effort meet; on a busy
    # machine a CPU-starved switch can still cost it a packet now and then, so the bound
    # leaves it 3 %, and what must hold above all is the order: silver's excess goes first,
    # and by far.
    gold_share = [r['gold'] / r['offered']['gold'] for r in steps]
    bounds.check('gold (FID 15) delivered >= %d %% of what it sends at every load' % round(100 * GOLD_KEEPS), min(gold_share), '>=', GOLD_KEEPS)
    if kind == 'payflow':
        first_gold_loss = next((k for k, g in enumerate(gold_share) if g < 0.99), len(steps))
        first_excess_loss = next((k for k, r in enumerate(steps) if r['excessOffered'] > 0.2 and r['silverDegraded'] / r['excessOffered'] < 0.9), len(steps))
        bounds.check('silver excess dropped before gold loses: first load step where excess < 90 % (<=) first where gold < 99 %',
                     first_excess_loss, '<=', first_gold_loss)
        excess_loss = 1 - sum(r['silverDegraded'] for r in steps) / max(1e-9, sum(r['excessOffered'] for r in steps))
        bounds.check('gold loses < 1/10 of the fraction of silver excess dropped: gold loss / excess dropped', (lost['gold'] or 0.0) / 100.0 / max(1e-9, excess_loss), '<', 0.1)
    bounds.check('silver (FID 12) in profile >= 90 % of min(offered, paid) at every load',
                 min(r['silverInProfile'] / min(r['offered']['silver'], SILVER_PAID) for r in steps), '>=', 0.9)
    roomy = [r for r in steps if r['excessOffered'] > 0.2 and r['load'] <= 0.9]
    full = steps[-1]
    if kind == 'payflow':
        bounds.check('silver excess delivered as best effort while there is room (70 %, 90 %): >= 80 % of it',
                     min(r['silverDegraded'] / r['excessOffered'] for r in roomy), '>=', 0.8)
        bounds.check('silver excess dropped once there is none (150 %): delivered < 70 % of it',
                     full['silverDegraded'] / full['excessOffered'], '<', 0.7)
        bounds.check('degraded and best effort together held to the best-effort meter (150 %): Mbit/s',
                     full['silverDegraded'] + full['bestEffort'], '<=', 1.1 * (cap - GOLD_PAID - SILVER_PAID))
    else:
        bounds.check('Open vSwitch: no silver packet arrives degraded (falls back to drop): max Mbit/s',
                     max(r['silverDegraded'] for r in steps), '<=', 0.05)
    results = {'capacityMbit': cap, 'stepSeconds': step, 'loads': LOADS, 'switch': kind, 'classes': DEGRADE_CLASSES,
               'goldPaidMbit': GOLD_PAID, 'silverPaidMbit': SILVER_PAID, 'excessView': views, 'steps': steps,
               'lostPercent': lost, 'series': series, 'priceUnit': PRICE_UNIT,
               'pricing': ctx.scenario.pricing, 'priceSamples': price_samples}
    plot_degrade(ctx.out('degrade.png'), results)
    return results


def plot(results, out_dir):
    """degrade.png (or policing-degrade.png) from results.json."""
    if results.get('scenario') == 'policing-degrade':
        plot_policing(os.path.join(out_dir, 'policing-degrade.png'), results)
    else:
        plot_degrade(os.path.join(out_dir, 'degrade.png'), results)


PRICE_LINES = (('gold', 'gold (FID 15)', 'C3'), ('silver', 'silver (FID 12)', 'C0'), ('best-effort', 'best effort (FID 8)', 'C2'))


def plot_degrade(path, results):
    """Per class, delivered in-profile and degraded rates against the offered load (step
    medians), and below them each class's price at the same steps (the seed's Figure 4)."""
    plt = pyplot()
    if plt is None:
        return
    steps = results['steps']
    with_prices = all('prices' in r for r in steps)
    if with_prices:
        fig, (ax, price_ax) = figure(plt, rows=2, height=10.0, sharex=True)
    else:
        fig, ax = figure(plt, height=5.6)
    x = [100 * r['load'] for r in steps]
    lines = (
        ('gold (FID 15), in profile', [r['gold'] for r in steps], 'C3'),
        ('silver (FID 12), AF31 (in profile)', [r['silverInProfile'] for r in steps], 'C0'),
        ('silver (FID 12), AF32 (degraded)', [r['silverDegraded'] for r in steps], 'C1'),
        ('best effort (FID 8)', [r['bestEffort'] for r in steps], 'C2'),
    )
    for k, (label, ys, color) in enumerate(lines):
        ax.plot(x, ys, label=label, color=color, **SERIES_STYLES[k % len(SERIES_STYLES)])
    ax.plot(x, [r['excessOffered'] for r in steps], label='silver beyond paid, offered', color='C1', linestyle=':', linewidth=1.2)
    ax.axhline(results['silverPaidMbit'], color='C0', linestyle='--', linewidth=1, label='silver paid (%g Mbit/s)' % results['silverPaidMbit'])
    ax.axhline(results['goldPaidMbit'], color='C3', linestyle='--', linewidth=1, label='gold paid (%g Mbit/s)' % results['goldPaidMbit'])
    load_label = 'offered load (%% of the %g Mbit/s link)' % results['capacityMbit']
    ax.set_ylabel('delivered rate (Mbit/s, frame bits)')
    ax.set_ylim(bottom=0)
    ax.set_title('degrade (%s switches): silver\'s excess as best effort while there is room, dropped before gold' % results['switch'])
    legend_outside(ax)
    ax.grid(alpha=0.3)
    if with_prices:
        ax.tick_params(labelbottom=True)
        ax.set_xlabel(load_label)
        base = {c['id']: c['basePrice'] for c in results['classes']}
        for k, (cls, label, color) in enumerate(PRICE_LINES):
            price_ax.plot(x, [r['prices'][cls]['price'] for r in steps], label='%s, price' % label, color=color,
                          **SERIES_STYLES[k % len(SERIES_STYLES)])
            price_ax.axhline(base[cls], color=color, linestyle=(0, (1, 3)), linewidth=1, label='%s, base price %g' % (label, base[cls]))
        price_ax.set_ylabel('price (%s)' % results.get('priceUnit', PRICE_UNIT).replace(' per Mbit/s', '\nper Mbit/s'))
        price_ax.set_ylim(bottom=0)
        price_ax.set_title('price per class at each load step (median of GET /v1/prices over the step\'s second half; demand: %s)'
                           % (results.get('pricing') or {}).get('demand', 'max'), fontsize=10)
        legend_outside(price_ax)
        price_ax.grid(alpha=0.3)
        price_ax.set_xlabel(load_label)
    else:
        ax.set_xlabel(load_label)
    save_figure(plt, fig, path)


# ---- policing --excess degrade ---------------------------------------------------------------

PAID, OFFERED, OTHER = 4.0, 6.0, 3.0  # the link (10) has room for the excess: 4 + 2 + 3
POLICING_CLASSES = [
    dict(id='gold', name='Gold', basePrice=0.16, maxPrice=1.6, target=0.5, share=0.4, dscp=46),
    dict(id='silver', name='Silver', basePrice=0.09, maxPrice=0.9, target=0.7, share=0.4, dscp=CLASS_DSCP, excess='degrade'),
    dict(id='best-effort', name='Best effort', basePrice=0.04, maxPrice=0.4, target=1, share=0.2, dscp=0, bestEffort=True),
]


def run_policing(ctx):
    bounds = ctx.bounds
    seconds = 12 if ctx.quick else 30
    kind, switches = switch_kind(ctx)
    views = check_excess_view(ctx, switches, kind, 'silver')
    h1, h2, h3 = ctx.tb.host('h1'), ctx.tb.host('h2'), ctx.tb.host('h3')
    factor = frame_factor(LENGTH, False)
    log('h1 buys %g Mbit/s of silver (excess: degrade) for %d s' % (PAID, seconds + 15))
    res, elapsed = reserve(ctx.ctl, h1, h1.IP(), h3.IP(), '%gmbit' % PAID, '%ds' % (seconds + 15), ctx.workdir, cls='silver')
    a = UdpFlow('reserved', h1, h3, 5201, ctx.workdir)
    b = UdpFlow('other', h2, h3, 5202, ctx.workdir)
    log('UDP h1 -> h3 at %g Mbit/s (150 %% of paid) and h2 -> h3 at %g Mbit/s for %d s' % (OFFERED, OTHER, seconds))
    a.start(seconds, OFFERED / factor, length=LENGTH)
    b.start(seconds, OTHER / factor, length=LENGTH)
    a.wait(seconds + 30)
    b.wait(seconds + 30)
    ra, rb = a.received_by_dscp(), b.received_by_dscp()
    series = {'reserved_in_profile_mbit': ra.get(CLASS_DSCP, []), 'reserved_degraded_mbit': ra.get(RAISED_DSCP, []), 'other_mbit': rb.get(0, [])}
    med = {k: median_between(v, 2, seconds) if v else 0.0 for k, v in series.items()}
    log('reserved flow: in profile %.2f, degraded %.2f (offered %.2f, paid %.2f); other: %.2f of %.2f (Mbit/s, medians)' % (
        med['reserved_in_profile_mbit'], med['reserved_degraded_mbit'], OFFERED, PAID, med['other_mbit'], OTHER))
    bounds.check('reserved flow keeps >= 95 % of its paid rate in profile', med['reserved_in_profile_mbit'], '>=', 0.95 * PAID)
    bounds.check('reserved flow in profile <= 105 % of its paid rate', med['reserved_in_profile_mbit'], '<=', 1.05 * PAID)
    bounds.check('other flow unharmed: >= 90 % of its offered rate', med['other_mbit'], '>=', 0.9 * OTHER)
    if kind == 'payflow':
        bounds.check('excess (2 Mbit/s) delivered as best effort, the link has room: >= 80 % of it', med['reserved_degraded_mbit'], '>=', 0.8 * (OFFERED - PAID))
    else:
        bounds.check('Open vSwitch: the excess is dropped (no dscp_remark band): degraded Mbit/s', med['reserved_degraded_mbit'], '<=', 0.05)
    results = {'paidMbit': PAID, 'offeredMbit': OFFERED, 'otherMbit': OTHER, 'capacityMbit': ctx.scenario.capacity, 'switch': kind,
               'excessView': views, 'reservation': {'id': res.get('id'), 'requestSeconds': elapsed}, 'medians': med, 'series': series}
    plot_policing(ctx.out('policing-degrade.png'), results)
    return results


def plot_policing(path, results):
    """The reserved flow's in-profile and degraded rates and the other flow over time."""
    plt = pyplot()
    if plt is None:
        return
    fig, ax = figure(plt)
    s = results['series']
    for k, (label, key) in enumerate((('h1 -> h3, AF31 (in profile)', 'reserved_in_profile_mbit'),
                                      ('h1 -> h3, AF32 (degraded)', 'reserved_degraded_mbit'),
                                      ('h2 -> h3 (best effort)', 'other_mbit'))):
        ax.plot([t for t, _ in s[key]], [v for _, v in s[key]], label=label, **SERIES_STYLES[k])
    ax.axhline(results['paidMbit'], color='black', linestyle='--', linewidth=1, label='paid rate (%g Mbit/s)' % results['paidMbit'])
    ax.axhline(results['offeredMbit'], color='grey', linestyle=':', linewidth=1.2, label='h1 offers (%g Mbit/s)' % results['offeredMbit'])
    ax.set_xlabel('time since the flows started (s)')
    ax.set_ylabel('received rate (Mbit/s, frame bits)')
    ax.set_ylim(0, results['offeredMbit'] * 1.15)
    ax.set_title('policing --excess degrade (%s switches): %g Mbit/s paid, %g offered' % (results['switch'], results['paidMbit'], results['offeredMbit']))
    legend_outside(ax)
    ax.grid(alpha=0.3)
    save_figure(plt, fig, path)


DEGRADE = Scenario('degrade', run_degrade, 'FID 15/12/8, load 50..150 %: silver\'s excess degraded to best effort, dropped before gold (~70 s)',
                   topo='diffserv', capacity=10.0, classes=DEGRADE_CLASSES, pricing=DEGRADE_PRICING)
POLICING_DEGRADE = Scenario('policing-degrade', run_policing, 'policing --excess degrade: the 150 % flow keeps 100 % in profile, its excess as best effort (~35 s)',
                            classes=POLICING_CLASSES)
