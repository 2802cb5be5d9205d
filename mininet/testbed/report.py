"""The testbed's results (mininet/README.md): bounds checked and printed as PASS/FAIL, results.json,
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


# Print size: every figure is FIGURE_WIDTH_IN x FIGURE_DPI = 1300 px wide; the axes take the
# left part and legends sit to the right of them, outside the data.
FIGURE_WIDTH_IN = 13.0
FIGURE_DPI = 100
PLOT_RIGHT = 0.74
FONT_SIZE = 11
# One style per series, so that series that coincide stay distinguishable: the first is drawn
# with big hollow markers under the later ones' smaller filled markers and dashed lines.
SERIES_STYLES = (
    {'marker': 'o', 'markersize': 7, 'markerfacecolor': 'none', 'linestyle': '-', 'linewidth': 2.0},
    {'marker': 's', 'markersize': 3.5, 'linestyle': '--', 'linewidth': 1.5},
    {'marker': '^', 'markersize': 3.5, 'linestyle': ':', 'linewidth': 1.5},
    {'marker': 'x', 'markersize': 4, 'linestyle': '-.', 'linewidth': 1.2},
)


# Set by `run.py --no-plot` (the CI run): results.json and the CSV only; testbed.replot draws
# the plots from them later. Importing matplotlib and drawing takes seconds on a busy machine.
NO_PLOT_ENV = 'PAYFLOW_TESTBED_NO_PLOT'


def pyplot():
    if os.environ.get(NO_PLOT_ENV) == '1':
        return None
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        plt.rcParams.update({'font.size': FONT_SIZE, 'legend.fontsize': FONT_SIZE - 1})
        return plt
    except ImportError:
        log('matplotlib missing (apt-get install python3-matplotlib): no plot')
        return None


def figure(plt, rows=1, cols=1, height=4.8, **kw):
    """A print-size figure with room on the right for the legends."""
    fig, axes = plt.subplots(rows, cols, figsize=(FIGURE_WIDTH_IN, height), dpi=FIGURE_DPI, **kw)
    fig.subplots_adjust(left=0.07, right=PLOT_RIGHT, top=0.9 if rows == 1 else 0.95, bottom=0.12 if rows == 1 else 0.05, hspace=0.3, wspace=0.3)
    return fig, axes


def legend_outside(ax, handles=None, labels=None, shift=0.0):
    """The legend to the right of the axes (shift: further right, past a twin axis's labels)."""
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles, labels, loc='upper left', bbox_to_anchor=(1.02 + shift, 1.0), borderaxespad=0, frameon=False)


def save_figure(plt, fig, path):
    fig.savefig(path, dpi=FIGURE_DPI)
    plt.close(fig)
    log('wrote %s' % path)


def plot_timeline(path, title, series, paid, window, levels=None):
    """Received rate per flow over time (Mbit/s against s), the paid rate, other rates that
    matter (levels: label -> Mbit/s, e.g. what a flow offers), and the reservation's window."""
    plt = pyplot()
    if plt is None:
        return
    fig, ax = figure(plt)
    top = 0.0
    for k, (label, s) in enumerate(series.items()):
        ax.plot([t for t, _ in s], [v for _, v in s], label=label, **SERIES_STYLES[k % len(SERIES_STYLES)])
        top = max([top] + [v for _, v in s])
    if paid is not None:
        ax.axhline(paid, color='black', linestyle='--', linewidth=1, label='paid rate (%g Mbit/s)' % paid)
        top = max(top, paid)
    for k, (label, value) in enumerate((levels or {}).items()):
        ax.axhline(value, color='grey', linestyle=(0, (1, 2 + k)), linewidth=1.2, label='%s (%g Mbit/s)' % (label, value))
        top = max(top, value)
    if window:
        ax.axvspan(window[0], window[1], color='green', alpha=0.1, label='reservation in force')
    ax.set_xlabel('time since the flows started (s)')
    ax.set_ylabel('received rate (Mbit/s)')
    ax.set_ylim(0, top * 1.15 if top > 0 else 1)
    ax.set_title(title)
    legend_outside(ax)
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
