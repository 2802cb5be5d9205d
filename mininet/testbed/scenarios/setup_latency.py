"""Scenario `setup-latency` (the controller's set-up time): 100 reservations bought one after another,
and 100 at once; the time from a buyer's request to its traffic actually getting its rate.

How "getting its rate" is observed: every reservation is for its own UDP flow h1 -> h3 (one
destination port each), and each of those flows is already running before the purchase, a
probe every 10 ms (60-byte frames, 48 kbit/s, under the 100 kbit/s bought). A reservation's
flow entry at the ingress switch meters the flow at its paid rate and marks it with its
class's DSCP (gold: 46); the receiver in h3 (mininet/udpflow.py) notes, per port, the arrival
of the first marked datagram. Latency = that arrival - the moment the buyer started (quote,
payment on the ledger, POST /v1/reservations: the whole purchase), to within the 10 ms probe
spacing. Both ends read the same wall clock (one machine).

The buyers are one Node process (mininet/tools/reserve-batch.ts, run in h1's namespace):
serially (--concurrency 1), then 100 at once (--concurrency 100), each with its own wallet
funded before timing. Links are 100 Mbit/s here so that 200 probe flows and 200 reservations
fit without touching the other scenarios' 10 Mbit/s set-up.
"""

import json
import os
import signal
import time

from . import Scenario
from ..infra import ROOT, SetupError, log
from ..report import SERIES_STYLES, figure, legend_outside, pyplot, save_figure
from ..traffic import UdpFlow, percentile

RATE = '100kbit'
PROBE_INTERVAL = 0.010           # s between probes of one flow
PROBE_PAYLOAD = 18               # bytes: 60-byte Ethernet frames
GOLD_DSCP = 46
BATCH = os.path.join(ROOT, 'dist', 'mininet', 'tools', 'reserve-batch.js')


def phase(ctx, name, count, concurrency, port_base):
    h1, h3 = ctx.tb.host('h1'), ctx.tb.host('h3')
    probes = UdpFlow('probes-%s' % name, h1, h3, port_base, ctx.workdir, ports=count)
    payload_mbit = count * PROBE_PAYLOAD * 8 / PROBE_INTERVAL / 1e6
    log('%s: %d probe flows h1 -> h3 (ports %d..%d, one datagram each per %d ms)' % (
        name, count, port_base, port_base + count - 1, PROBE_INTERVAL * 1000))
    probes.start(600, udp_mbit=payload_mbit, length=PROBE_PAYLOAD, idle=3)
    time.sleep(2)   # every probe flow is flowing, unmarked, before the first purchase
    out = os.path.join(ctx.workdir, 'batch-%s.json' % name)
    log('%s: buying %d reservations of %s, %d at a time (reserve-batch in h1)' % (name, count, RATE, concurrency))
    cmd = 'node %s --api %s --token %s --src %s --dst %s --dst-port-base %d --count %d --concurrency %d --rate %s --duration 300s --class gold --out %s' % (
        BATCH, ctx.ctl.api, ctx.ctl.admin_token, h1.IP(), h3.IP(), port_base, count, concurrency, RATE, out)
    text = h1.cmd(cmd + ' 2>&1; echo "EXIT=$?"')
    body, _, code = text.rpartition('EXIT=')
    log('  ' + body.strip().replace('\n', '\n  '))
    time.sleep(1)   # the last marked probes arrive
    probes.client.send_signal(signal.SIGTERM)
    probes.wait(15)
    if code.strip() not in ('0', '1') or not os.path.exists(out):
        raise SetupError('reserve-batch failed (exit %s):\n%s' % (code.strip(), body))
    batch = json.load(open(out))
    ports = {p['port']: p for p in probes.ports_report()}
    rows = []
    for p in batch['purchases']:
        rx = ports.get(p['dstPort'], {})
        marked = rx.get('firstMarked')
        row = {'i': p['i'], 'port': p['dstPort'], 'ok': p['ok'], 'error': p.get('error'),
               'responseMs': (p['reservedAt'] - p['startedAt']) if p['ok'] else None,
               'postToResponseMs': (p['reservedAt'] - p['paidAt']) if p['ok'] else None,
               'markedDscp': rx.get('markedDscp'),
               'toRateMs': (marked * 1000 - p['startedAt']) if marked else None,
               'postToRateMs': (marked * 1000 - p['paidAt']) if marked and p.get('paidAt') else None}
        rows.append(row)
    return {'count': count, 'concurrency': concurrency, 'wallSeconds': (batch['finishedAt'] - batch['startedAt']) / 1000,
            'purchases': rows}


def summary(rows, key):
    vals = sorted(r[key] for r in rows if r[key] is not None)
    return {'n': len(vals), 'p50': percentile(vals, 50), 'p95': percentile(vals, 95), 'max': vals[-1] if vals else float('nan')}


def run(ctx):
    bounds = ctx.bounds
    count = 25 if ctx.quick else 100
    results = {'rate': RATE, 'probeIntervalMs': PROBE_INTERVAL * 1000, 'phases': {}}
    series = {}
    for name, concurrency, port_base in (('serial', 1, 6000), ('concurrent', count, 6000 + count)):
        ph = phase(ctx, name, count, concurrency, port_base)
        rows = ph['purchases']
        ph['toRate'] = summary(rows, 'toRateMs')
        ph['response'] = summary(rows, 'responseMs')
        ph['postToRate'] = summary(rows, 'postToRateMs')
        results['phases'][name] = ph
        log('%s: %d reserved, %d flows marked; request -> rate p50 %.1f ms, p95 %.1f, max %.1f; request -> 201 p50 %.1f ms, p95 %.1f; all in %.2f s' % (
            name, sum(r['ok'] for r in rows), ph['toRate']['n'], ph['toRate']['p50'], ph['toRate']['p95'], ph['toRate']['max'],
            ph['response']['p50'], ph['response']['p95'], ph['wallSeconds']))
        series['%s_to_rate_ms' % name] = [(r['i'], r['toRateMs']) for r in rows if r['toRateMs'] is not None]
        bounds.check('%s: every reservation bought' % name, sum(r['ok'] for r in rows), '>=', count)
        bounds.check('%s: every flow got its class (marked DSCP %d)' % (name, GOLD_DSCP),
                     sum(1 for r in rows if r['markedDscp'] == GOLD_DSCP), '>=', count)
    s, c = results['phases']['serial'], results['phases']['concurrent']
    bounds.check('serial: request -> rate, 95th percentile (ms)', s['toRate']['p95'], '<=', 250)
    bounds.check('concurrent: request -> rate, slowest of %d (ms)' % count, c['toRate']['max'], '<=', 5000)
    results['series'] = series
    plot_latency(ctx.out('setup-latency.png'), results)
    return results


def plot(results, out_dir):
    """setup-latency.png from results.json."""
    plot_latency(os.path.join(out_dir, 'setup-latency.png'), results)


def plot_latency(path, results):
    plt = pyplot()
    if plt is None:
        return
    fig, (ax, ax_cdf) = figure(plt, 1, 2, height=5)
    for k, (name, ph) in enumerate(results['phases'].items()):
        rows = [r for r in ph['purchases'] if r['toRateMs'] is not None]
        style = dict(SERIES_STYLES[k % len(SERIES_STYLES)], linestyle='none')
        ax.plot([r['i'] for r in rows], [r['toRateMs'] for r in rows], label='%s (%d at a time)' % (name, ph['concurrency']), **style)
        vals = sorted(r['toRateMs'] for r in rows)
        ax_cdf.plot(vals, [(j + 1) / float(len(vals)) for j in range(len(vals))], label='%s (%d at a time)' % (name, ph['concurrency']),
                    **dict(SERIES_STYLES[k % len(SERIES_STYLES)], markersize=3))
    ax.set_xlabel('purchase number')
    ax.set_ylabel('request -> rate (ms, log scale)')
    ax.set_yscale('log')
    ax.grid(alpha=0.3)
    ax_cdf.set_xlabel('request -> rate (ms, log scale)')
    ax_cdf.set_ylabel('fraction of reservations (0..1)')
    ax_cdf.set_xscale('log')
    ax_cdf.set_ylim(0, 1.02)
    ax_cdf.grid(alpha=0.3)
    legend_outside(ax_cdf)
    fig.suptitle('setup latency: quote + pay + reserve until the flow is marked and metered')
    save_figure(plt, fig, path)


SETUP_LATENCY = Scenario('setup-latency', run, '100 reservations serially and 100 at once: request -> rate (~60 s)',
                         capacity=100.0)
