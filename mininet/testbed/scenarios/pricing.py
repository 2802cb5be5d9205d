"""Scenario `pricing` (the pricing seed 004, section 6 and Figure 4):
the seed's three flows through its DiffServ network while the offered load is swept from
10 % to 120 % of the bottleneck; the price of each class over time and the revenue.

The seed's set-up, and how it maps here:
- Network: the `diffserv` topology (2 edge, 4 core routers), links scaled x10 to 10 Mbit/s
  (1 Mbit/s is coarse for per-second rates; the shape does not depend on the scale).
- Flows: FID 15 (src15, 500 of 1000 kbit/s, class gold, fill factor 50 %), FID 12 (src12,
  250, silver, 70 %), FID 8 (src8, 250, best effort, 100 %); base prices 0.16 / 0.09 / 0.04
  per unit time. Each class's share of a link is its flow's share of the load (50/25/25 %),
  so at offered load L each flow offers L x its nominal rate and class i's demand relative to
  its target is L / f_i: gold's price leaves its base at L = 50 %, silver's at 70 %, best
  effort's never (f = 1).
- The seed does not give Pmax. Gold's is 10 x its base; silver's 2 x (its packets "are not as
  critical", and beyond its share they are degraded, not priced higher), which is what makes
  FID 12's price "not change much" in Figure 4; best effort's is its base.
- Demand: `pricing.demand: measured` (the seed prices the load, decoupled from
  reservations), smoothed over 2 s. FID 15 and FID 12 each hold one reservation at their
  nominal rate for the whole run, so their traffic passes their class's meter (where the
  controller measures it; above the nominal rate the excess is dropped) and is marked.
- Load: one udpflow sender per source with a rate schedule (10, 20, ... 120 %, 8 s per step,
  4 s in the short run), rates as Ethernet frame bits like every other figure.

Revenue is reported two ways: the seed's "sum of all classes' prices" over time, and the
revenue rate sum_i P_i x D_i (currency units per second if every class's measured demand
paid the current price). The controller's own /v1/revenue (payments received) is in
results.json too.
"""

import os
import time

from . import Scenario
from ..infra import log
from ..report import SERIES_STYLES, figure, legend_outside, pyplot, save_figure
from ..traffic import UdpFlow, frame_factor, median_between, reserve

LOADS = [0.1 * i for i in range(1, 13)]          # 10 % .. 120 %
LENGTH = 1000                                     # UDP payload bytes
FLOWS = [  # (seed FID, source host, class, share of the load)
    (15, 'src15', 'gold', 0.5),
    (12, 'src12', 'silver', 0.25),
    (8, 'src8', 'best-effort', 0.25),
]
CLASSES = [
    dict(id='gold', name='Gold (FID 15)', basePrice=0.16, maxPrice=1.6, target=0.5, share=0.5, dscp=46),
    dict(id='silver', name='Silver (FID 12)', basePrice=0.09, maxPrice=0.18, target=0.7, share=0.25, dscp=26),
    dict(id='best-effort', name='Best effort (FID 8)', basePrice=0.04, maxPrice=0.04, target=1, share=0.25, dscp=0, bestEffort=True),
]


def price_at(samples, cls, t0, t1):
    """Median price of class cls among the samples taken in (t0, t1] (seconds from the start)."""
    return median_between([(s['t'], s['prices'][cls]['price']) for s in samples], t0, t1)


def run(ctx):
    cap, bounds = ctx.scenario.capacity, ctx.bounds
    step = 4 if ctx.quick else 8
    seconds = step * len(LOADS)
    tb = ctx.tb
    sink = tb.host('sink')
    flows = []
    for fid, src_name, cls, share in FLOWS:
        src = tb.host(src_name)
        if cls != 'best-effort':
            rate = share * cap
            log('%s buys %g Mbit/s of %s for the whole sweep (FID %d)' % (src_name, rate, cls, fid))
            reserve(ctx.ctl, src, src.IP(), sink.IP(), '%gmbit' % rate, '%ds' % (seconds + 30), ctx.workdir, cls=cls)
        f = UdpFlow('fid%d' % fid, src, sink, 5400 + fid, ctx.workdir)
        schedule = [load * share * cap / frame_factor(LENGTH, False) for load in LOADS]  # payload Mbit/s
        flows.append((fid, cls, share, f, schedule))
    log('sweeping the offered load %s %% of %g Mbit/s, %d s per step' % (
        ' '.join('%d' % round(100 * l) for l in LOADS), cap, step))
    for _, _, _, f, schedule in flows:
        f.start(seconds, length=LENGTH, schedule=schedule, step=step)
    t_start = min(f.started for _, _, _, f, _ in flows)
    samples = []
    while time.time() - t_start < seconds + 1:
        t = time.time() - t_start
        try:
            prices = {p['classId']: p for p in ctx.ctl.get('/v1/prices')['prices']}
            samples.append({'t': round(t, 2), 'prices': prices})
            load = LOADS[min(int(t // step), len(LOADS) - 1)]
            if len(samples) % 3 == 1:
                log('  t=%4.0fs  load %3.0f %%  prices %s' % (t, 100 * load, '  '.join(
                    '%s %.3f' % (c, prices[c]['price']) for _, c, _, _, _ in flows)))
        except (OSError, KeyError) as e:
            log('  /v1/prices: %s' % e)
        time.sleep(max(0.0, 1.0 - (time.time() - t_start - t) % 1.0))
    for _, _, _, f, _ in flows:
        f.wait(30)

    # Per step: the median price and received rate over the step's second half (the EWMA
    # and the stats poll need a moment to follow a step).
    steps = []
    for k, load in enumerate(LOADS):
        t0, t1 = k * step + step / 2.0, (k + 1) * step
        row = {'load': round(load, 2)}
        for fid, cls, share, f, _ in flows:
            row[cls] = {'price': price_at(samples, cls, t0, t1)}
        steps.append(row)
    series = {}
    for fid, cls, share, f, _ in flows:
        rx, lost = f.received()
        series['fid%d_received_mbit' % fid] = rx
        for k, row in enumerate(steps):
            row[cls]['receivedMbit'] = median_between(rx, k * step + 1, (k + 1) * step)
        series['%s_price' % cls] = [(s['t'], s['prices'][cls]['price']) for s in samples]
        series['%s_demand_mbit' % cls] = [(s['t'], s['prices'][cls]['demandBps'] / 1e6) for s in samples]
    series['revenue_sum_of_prices'] = [(s['t'], sum(p['price'] for p in s['prices'].values())) for s in samples]
    series['revenue_rate'] = [(s['t'], sum(p['price'] * p['demandBps'] / 1e6 for p in s['prices'].values())) for s in samples]
    for row in steps:
        log('load %3.0f %%: %s' % (100 * row['load'], '  '.join(
            '%s %.3f (%.2f Mbit/s)' % (cls, row[cls]['price'], row[cls]['receivedMbit']) for _, cls, _, _, _ in flows)))

    def at(load, cls):
        return next(r[cls]['price'] for r in steps if abs(r['load'] - load) < 1e-6)

    gold, silver, be = CLASSES[0], CLASSES[1], CLASSES[2]
    low_gold = max(at(l, 'gold') for l in (0.1, 0.2, 0.3, 0.4))
    bounds.check('gold (FID 15) at its base price up to 40 % load', low_gold, '<=', gold['basePrice'] * 1.02)
    bounds.check('gold (FID 15) rises beyond 50 %: price at 70 % >= 1.5 x base', at(0.7, 'gold'), '>=', 1.5 * gold['basePrice'])
    bounds.check('gold (FID 15) rises fast: price at 100 % >= 5 x base', at(1.0, 'gold'), '>=', 5 * gold['basePrice'])
    bounds.check('silver (FID 12) at its base price up to 60 % load', max(at(l, 'silver') for l in (0.1, 0.3, 0.5, 0.6)), '<=',
                 silver['basePrice'] * 1.02)
    silver_rise = max(r['silver']['price'] for r in steps) - silver['basePrice']
    gold_rise = max(r['gold']['price'] for r in steps) - gold['basePrice']
    bounds.check('silver (FID 12) barely moves: its rise <= 10 % of gold\'s', silver_rise, '<=', 0.1 * gold_rise)
    be_prices = [p for _, p in series['best-effort_price']]
    bounds.check('best effort (FID 8) flat: max price - base', max(be_prices) - be['basePrice'], '<=', 1e-9)
    revenue_low = median_between(series['revenue_sum_of_prices'], 0, step)
    revenue_high = median_between(series['revenue_sum_of_prices'], seconds - step / 2.0, seconds)
    bounds.check('revenue (sum of prices) at 120 % >= 3 x at 10 %', revenue_high, '>=', 3 * revenue_low)
    plot_pricing(ctx.out('pricing.png'), series, step, seconds)
    return {'capacityMbit': cap, 'stepSeconds': step, 'loads': LOADS, 'classes': CLASSES,
            'flows': [{'fid': fid, 'class': cls, 'shareOfLoad': share} for fid, cls, share, _, _ in flows],
            'steps': steps, 'priceSamples': len(samples), 'series': series}


def plot(results, out_dir):
    """pricing.png from results.json."""
    plot_pricing(os.path.join(out_dir, 'pricing.png'), results['series'], results['stepSeconds'], results['stepSeconds'] * len(results['loads']))


def plot_pricing(path, series, step, seconds):
    """The seed's Figure 4: price per class over time with the offered load; revenue; throughput."""
    plt = pyplot()
    if plt is None:
        return
    fig, (ax, ax_rev, ax_rx) = figure(plt, 3, 1, height=12, sharex=True)
    flows = ((15, 'gold', 'C3'), (12, 'silver', 'C0'), (8, 'best-effort', 'C2'))
    for k, (fid, cls, color) in enumerate(flows):
        s = series['%s_price' % cls]
        ax.plot([t for t, _ in s], [v for _, v in s], label='FID %d (%s)' % (fid, cls), color=color, **SERIES_STYLES[k])
    ax.set_ylabel('price (currency units\nper Mbit/s per s)')
    ax.set_ylim(bottom=0)
    ax.set_title('pricing: the seed\'s three flows, offered load 10 % .. 120 % of the link')
    load_ax = ax.twinx()
    load_ax.step([k * step for k in range(len(LOADS) + 1)], [100 * l for l in LOADS] + [100 * LOADS[-1]],
                 where='post', color='grey', linestyle=':', linewidth=2, label='offered load (right)')
    load_ax.set_ylabel('offered load (% of the link)')
    load_ax.set_ylim(0, 130)
    lines = ax.get_legend_handles_labels()
    more = load_ax.get_legend_handles_labels()
    legend_outside(ax, lines[0] + more[0], lines[1] + more[1], shift=0.08)
    ax.grid(alpha=0.3)
    # two revenues with two units: the seed's sum of prices (left) and what is earned per second (right)
    s = series['revenue_sum_of_prices']
    ax_rev.plot([t for t, _ in s], [v for _, v in s], label='sum of prices\n(the seed\'s revenue, left)', color='C4', **SERIES_STYLES[0])
    ax_rev.set_ylabel('sum of prices (currency units\nper Mbit/s per s)')
    ax_rev.set_ylim(bottom=0)
    rate_ax = ax_rev.twinx()
    s = series['revenue_rate']
    rate_ax.plot([t for t, _ in s], [v for _, v in s], label='sum of price x demand\n(per second, right)', color='C1', **SERIES_STYLES[1])
    rate_ax.set_ylabel('revenue rate (currency units / s)')
    rate_ax.set_ylim(bottom=0)
    lines = ax_rev.get_legend_handles_labels()
    more = rate_ax.get_legend_handles_labels()
    legend_outside(ax_rev, lines[0] + more[0], lines[1] + more[1], shift=0.08)
    ax_rev.grid(alpha=0.3)
    # FID 12 and FID 8 are offered the same rate, so their lines coincide: FID 12 as big hollow
    # squares, FID 8 as small filled triangles drawn over them
    received_styles = (
        dict(SERIES_STYLES[0]),
        {'marker': 's', 'markersize': 9, 'markerfacecolor': 'none', 'markeredgewidth': 1.5, 'linestyle': '-', 'linewidth': 2.5},
        {'marker': '^', 'markersize': 4, 'linestyle': '--', 'linewidth': 1.2},
    )
    for k, (fid, _, color) in enumerate(flows):
        s = series['fid%d_received_mbit' % fid]
        ax_rx.plot([t for t, _ in s], [v for _, v in s], label='FID %d received' % fid + (' (under FID 8)' if fid == 12 else ''),
                   color=color, zorder=2 + k, **received_styles[k])
    ax_rx.set_ylabel('received rate (Mbit/s)')
    ax_rx.set_xlabel('time since the flows started (s)')
    ax_rx.set_xlim(0, seconds)
    ax_rx.set_ylim(bottom=0)
    legend_outside(ax_rx, shift=0.08)
    ax_rx.grid(alpha=0.3)
    save_figure(plt, fig, path)


PRICING = Scenario('pricing', run, 'the seed\'s three flows, load swept 10..120 %: prices and revenue (~110 s)',
                   topo='diffserv', capacity=10.0, classes=CLASSES,
                   pricing={'mode': 'exponential', 'demand': 'measured', 'demandWindow': '2s'})
