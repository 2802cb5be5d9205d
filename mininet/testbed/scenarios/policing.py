"""Scenario `policing` (the pricing seed's metering and policing of
out-of-profile traffic): a reserved flow sends 150 % of its paid rate; the excess must be
dropped, the paid rate kept, and another flow through the same bottleneck unharmed."""

import os

from . import Scenario
from ..infra import log
from ..report import plot_timeline
from ..traffic import Flow, mean_between, median_between, progress_until, reserve

PAID = 4.0
OFFERED = 1.5 * PAID
OTHER = 4.0


def run(ctx):
    bounds = ctx.bounds
    seconds = 12 if ctx.quick else 30
    results = {'paidMbit': PAID, 'offeredMbit': OFFERED, 'otherMbit': OTHER, 'capacityMbit': ctx.scenario.capacity}
    h1, h2, h3 = ctx.tb.host('h1'), ctx.tb.host('h2'), ctx.tb.host('h3')
    log('h1 buys %g Mbit/s for %d s (payflow reserve in h1)' % (PAID, seconds + 15))
    res, elapsed = reserve(ctx.ctl, h1, h1.IP(), h3.IP(), '%gmbit' % PAID, '%ds' % (seconds + 15), ctx.workdir)
    log('reserved %s in %.2f s' % (res.get('id', '?'), elapsed))
    a = Flow('reserved', h1, h3, 5201, ctx.workdir)
    b = Flow('other', h2, h3, 5202, ctx.workdir)
    log('UDP h1 -> h3 at %g Mbit/s (150 %% of paid) and h2 -> h3 at %g Mbit/s for %d s' % (OFFERED, OTHER, seconds))
    a.start(seconds, OFFERED)
    b.start(seconds, OTHER)
    progress_until(ctx.ctl, a.started, seconds)
    a.wait(30)
    b.wait(30)
    sa, lost_a = a.received()
    sb, lost_b = b.received()
    avg_a, avg_b = mean_between(sa, 2, seconds), mean_between(sb, 2, seconds)
    ma, mb = median_between(sa, 2, seconds), median_between(sb, 2, seconds)
    dropped = 1 - ma / (OFFERED * a.wire_factor)  # both as frame bits
    log('(medians of the per-second rates; means: reserved %.2f, other %.2f)' % (avg_a, avg_b))
    log('reserved flow: offered %.2f, received %.2f Mbit/s (%.0f %% dropped); other: offered %.2f, received %.2f Mbit/s' %
        (OFFERED, ma, 100 * dropped, OTHER, mb))
    results.update({'reservation': {'id': res.get('id'), 'requestSeconds': elapsed},
                    'means': {'reserved': avg_a, 'other': avg_b}, 'medians': {'reserved': ma, 'other': mb}, 'droppedFraction': dropped,
                    'lostPercent': {'reserved': lost_a, 'other': lost_b}, 'series': {'reserved': sa, 'other': sb}})
    bounds.check('reserved flow keeps >= 90 % of its paid rate', ma, '>=', 0.9 * PAID)
    bounds.check('reserved flow held to <= 120 % of its paid rate (excess dropped)', ma, '<=', 1.2 * PAID)
    bounds.check('other flow unharmed: >= 90 % of its offered rate', mb, '>=', 0.9 * OTHER)
    results['series'] = {'reserved': sa, 'other': sb}
    plot(results, ctx.out_dir)
    return results


def plot(results, out_dir):
    """policing.png from results.json: both flows, the paid rate and what each flow offers."""
    paid, offered, other = results['paidMbit'], results['offeredMbit'], results['otherMbit']
    plot_timeline(os.path.join(out_dir, 'policing.png'), 'policing: %g Mbit/s paid, %g offered' % (paid, offered),
                  {'h1 -> h3 (reserved, offers %g)' % offered: results['series']['reserved'],
                   'h2 -> h3 (other, offers %g)' % other: results['series']['other']},
                  paid, None, levels={'h1 offers': offered})


POLICING = Scenario('policing', run, 'a reserved flow sends 150 % of its paid rate (~35 s)')
