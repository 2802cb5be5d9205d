"""The testbed's results (issue 6): bounds checked and printed as PASS/FAIL, results.json,
CSV series, and PNG plots (matplotlib, Debian's python3-matplotlib)."""

import csv
import json
import os
import time

from .infra import log


class Bounds:
    def __init__(self):
        self.checks = []

    def check(self, name, value, op, limit, enforced=True):
        """Records a bound; one with enforced=False is reported (NOTE) but fails nothing."""
        ok = (value >= limit) if op == '>=' else (value <= limit)
        self.checks.append({'name': name, 'value': round(value, 3), 'op': op, 'limit': round(limit, 3), 'ok': ok, 'enforced': enforced})
        log('%s %s: %.3f %s %.3f' % ('PASS' if ok else ('FAIL' if enforced else 'NOTE (not enforced)'), name, value, op, limit))
        return ok

    @property
    def ok(self):
        return all(c['ok'] for c in self.checks if c['enforced'])


def pyplot():
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        return plt
    except ImportError:
        log('matplotlib missing (apt-get install python3-matplotlib): no plot')
        return None


def save_figure(plt, fig, path):
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    log('wrote %s' % path)


def plot_timeline(path, title, series, paid, window):
    """Received rate per flow over time, the paid rate, and the reservation's time window."""
    plt = pyplot()
    if plt is None:
        return
    fig, ax = plt.subplots(figsize=(7, 3.5), dpi=80)
    for label, s in series.items():
        ax.plot([t for t, _ in s], [v for _, v in s], label=label, marker='.')
    if paid is not None:
        ax.axhline(paid, color='grey', linestyle='--', linewidth=1, label='paid rate')
    if window:
        ax.axvspan(window[0], window[1], color='green', alpha=0.1, label='reservation in force')
    ax.set_xlabel('time (s)')
    ax.set_ylabel('received (Mbit/s)')
    ax.set_ylim(bottom=0)
    ax.set_title(title)
    ax.legend(fontsize=7, loc='upper right')
    ax.grid(alpha=0.3)
    save_figure(plt, fig, path)


def write_results(out_dir, scenario, results, bounds, csv_name='throughput.csv', csv_header=('flow', 't_seconds', 'mbit_per_s')):
    """results.json (everything, with the bounds) and a CSV of results['series'] (name -> [(x, y)])."""
    results = dict(results, scenario=scenario, bounds=bounds.checks, ok=bounds.ok,
                   finishedAt=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()))
    with open(os.path.join(out_dir, 'results.json'), 'w') as f:
        json.dump(results, f, indent=2)
    with open(os.path.join(out_dir, csv_name), 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(list(csv_header))
        for name, s in results.get('series', {}).items():
            for x, y in s:
                w.writerow([name, x, '%.4f' % y])
    log('wrote %s/results.json and %s' % (out_dir, csv_name))
