"""Draws the scenarios' PNG plots again from their results.json, without running Mininet:
    cd mininet && python3 -m testbed.replot [RESULTS_DIR ...]
(default: every directory under mininet/results that holds a results.json). Uses Debian's
python3-matplotlib (/usr/bin/python3)."""

import json
import os
import sys

from .infra import HERE, log
from .scenarios import degrade, fairness, policing, pricing, reservation, setup_latency, streaming

PLOTS = {
    'reservation': reservation.plot,
    'fattree': reservation.plot,
    'ipv6': reservation.plot,
    'policing': policing.plot,
    'pricing': pricing.plot,
    'setup-latency': setup_latency.plot,
    'streaming': streaming.plot,
    'fairness': fairness.plot,
    'degrade': degrade.plot,
    'policing-degrade': degrade.plot,
}


def replot(out_dir):
    with open(os.path.join(out_dir, 'results.json')) as f:
        results = json.load(f)
    name = results.get('scenario') or os.path.basename(os.path.normpath(out_dir))
    if name not in PLOTS:
        log('%s: no plot for scenario %r' % (out_dir, name))
        return False
    PLOTS[name](dict(results, scenario=name), out_dir)
    return True


def main(argv):
    dirs = argv or sorted(os.path.join(HERE, 'results', d) for d in os.listdir(os.path.join(HERE, 'results'))
                          if os.path.isfile(os.path.join(HERE, 'results', d, 'results.json')))
    ok = all([replot(d) for d in dirs])
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
