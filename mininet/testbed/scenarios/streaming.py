"""Scenario `streaming` (PayFlow's pay-as-you-go micropayments, end to end):
`reservation`'s two flows, but h1 pays as it goes. `payflow reserve --stream` buys a short
first period, opens a micropayment channel to the operator and keeps the reservation one
period ahead with a signed cumulative voucher each period, until the channel's deposit is
spent. Then the vouchers stop and the reservation ends with the time they paid for: the
reserved flow must hold its rate for exactly that time and lose it afterwards.
"""

import json
import os
import subprocess
import time

from . import Scenario
from ..infra import CLI, SetupError, log
from ..report import plot_timeline
from ..traffic import Flow, median_between, progress_until, wallet_for

PAID = 5.0
FLOOD = 15.0


def run(ctx):
    capacity, bounds = ctx.scenario.capacity, ctx.bounds
    first, period, periods = (4, 2, 3) if ctx.quick else (6, 3, 6)
    paid_seconds = first + period * periods
    before, after = (8, 10) if ctx.quick else (15, 15)
    total = before + paid_seconds + after + 2
    h1, h2, h3 = ctx.tb.host('h1'), ctx.tb.host('h2'), ctx.tb.host('h3')
    wallet = wallet_for(h1, ctx.workdir)
    a = Flow('reserved', h1, h3, 5201, ctx.workdir)
    b = Flow('flood', h2, h3, 5202, ctx.workdir)
    log('UDP h1 -> h3 at %g Mbit/s and h2 -> h3 at %g Mbit/s for %d s (bottleneck %g Mbit/s)' % (PAID, FLOOD, total, capacity))
    a.start(total, PAID)
    b.start(total, FLOOD)
    t_start = a.started
    progress_until(ctx.ctl, t_start, before, lambda t: 'no reservation ')
    events_file = os.path.join(ctx.workdir, 'stream-events.json')
    log('h1 buys %g Mbit/s for %d s, then pays as it goes: one voucher per %d s, deposit %d periods' % (PAID, first, period, periods))
    cmd = ['node', CLI, 'reserve', '--api', ctx.ctl.api, '--src', h1.IP(), '--dst', h3.IP(), '--rate', '%gmbit' % PAID,
           '--duration', '%ds' % first, '--class', 'gold', '--wallet', wallet, '--faucet', '--token', ctx.ctl.admin_token, '--json',
           '--stream', '%ds' % period, '--periods', str(periods)]
    t_req = time.time() - t_start
    streamer = h1.popen(cmd, stdout=open(events_file, 'w'), stderr=subprocess.STDOUT)
    progress_until(ctx.ctl, t_start, total, lambda t: 'streaming ' if streamer.poll() is None else 'vouchers stopped ')
    a.wait(30)
    b.wait(30)
    try:
        streamer.wait(10)
    except subprocess.TimeoutExpired:
        streamer.kill()
    try:
        events = [json.loads(line) for line in open(events_file) if line.startswith('{')]
    except ValueError as e:
        raise SetupError('payflow reserve --stream wrote something that is not JSON: %s' % e)
    if not events or events[0].get('event') != 'reserved':
        raise SetupError('payflow reserve --stream failed:\n%s' % open(events_file).read())
    reservation = events[0]['reservation']
    vouchers = [e for e in events if e['event'] == 'voucher']
    # Times on the flows' clock: the reservation began at its startsAt, ends at the last expiry.
    t_res = reservation['startsAt'] / 1000.0 - t_start
    t_end = (vouchers[-1]['expiresAt'] if vouchers else reservation['expiresAt']) / 1000.0 - t_start
    log('reserved at t=%.1f s; %d vouchers; paid until t=%.1f s (%.1f s in all)' % (t_res, len(vouchers), t_end, t_end - t_res))
    sa, lost_a = a.received()
    sb, lost_b = b.received()
    win = {'before': (2, t_req), 'paid': (t_res + 2, t_end - 1), 'after': (t_end + 2, total)}
    medians = {p: {'reserved': median_between(sa, x0, x1), 'flood': median_between(sb, x0, x1)} for p, (x0, x1) in win.items()}
    for p, m in medians.items():
        log('%-6s reserved flow median %.2f Mbit/s, flood %.2f Mbit/s' % (p, m['reserved'], m['flood']))
    bounds.check('every period of the deposit was paid by a voucher', len(vouchers), '>=', periods)
    bounds.check('the reservation lasted what was paid (first period + vouchers), seconds', t_end - t_res, '>=', paid_seconds - 0.5)
    bounds.check('... and no longer, seconds', t_end - t_res, '<=', paid_seconds + 0.5)
    bounds.check('before: reserved flow below its rate', medians['before']['reserved'], '<=', 0.9 * PAID)
    bounds.check('while paid for: reserved flow >= 95 % of paid rate', medians['paid']['reserved'], '>=', 0.95 * PAID)
    bounds.check('after the vouchers stopped: reserved flow below its rate again', medians['after']['reserved'], '<=', 0.9 * PAID)
    results = {'paidMbit': PAID, 'floodMbit': FLOOD, 'capacityMbit': capacity,
               'stream': {'firstSeconds': first, 'periodSeconds': period, 'periods': periods, 'paidSeconds': t_end - t_res,
                          'reservedAtSeconds': t_res, 'paidUntilSeconds': t_end,
                          'reservation': reservation['id'], 'vouchers': vouchers},
               'windows': win, 'medians': medians, 'lostPercent': {'reserved': lost_a, 'flood': lost_b},
               'series': {'reserved': sa, 'flood': sb}}
    plot(results, ctx.out_dir)
    return results


def plot(results, out_dir):
    """streaming.png from results.json (older results have no reservedAtSeconds/paidUntilSeconds:
    the paid window is then the measured one widened by its margins, 2 s and 1 s)."""
    st, paid_win = results['stream'], results['windows']['paid']
    t_res = st.get('reservedAtSeconds', paid_win[0] - 2)
    t_end = st.get('paidUntilSeconds', paid_win[1] + 1)
    plot_timeline(os.path.join(out_dir, 'streaming.png'),
                  'streaming: h1 pays %d s, then one voucher per %d s (%d vouchers)' % (st['firstSeconds'], st['periodSeconds'], st['periods']),
                  {'h1 -> h3 (pays as it goes)': results['series']['reserved'],
                   'h2 -> h3 (flood, offers %g)' % results['floodMbit']: results['series']['flood']},
                  results['paidMbit'], (t_res, t_end), levels={'link capacity': results['capacityMbit']})


STREAMING = Scenario('streaming', run, 'pay as you go: a reservation kept by vouchers until the deposit is spent (~70 s)')
