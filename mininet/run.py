#!/usr/bin/python3
"""PayFlow testbed runner: experiments against the live controller in Mininet.

    sudo /usr/bin/python3 mininet/run.py SCENARIO [--switch ovs|payflow] [--quick] [--out DIR] [--keep] [--no-plot]
    sudo /usr/bin/python3 mininet/run.py --list
    sudo /usr/bin/python3 mininet/run.py shell [--topo NAME[,bw=MBIT,...]] [--switch ovs|payflow] [--keep]

``shell`` (testbed/shell.py) builds the same network and controller as a scenario (default: the
``payflow`` topology at 10 Mbit/s), funds a wallet per host and drops into Mininet's CLI, with
``reserve SRC DST CLASS RATE DURATION`` and ``reservations`` added; leaving it tears down.

Scenarios (mininet/testbed/scenarios/, one module each; details in mininet/README.md):
``reservation``, ``pricing``, ``policing`` (``--excess degrade``), ``setup-latency``, ``ipv6``, ``degrade``, ``fairness``, ``spoof``.

Each run starts Open vSwitch if needed, builds the scenario's topology (mininet/topos.py)
with a RemoteController and the OVS userspace datapath (or, with ``--switch payflow``,
PayFlow's own switch, which shapes its ports to the link rate itself), turns off tx offload on the hosts,
starts the controller (the built CLI, dist/src/cli/main.js) with a config for the scenario
(link capacity, classes, pricing, free ports, a testbed ledger with a faucet and an admin token for it), waits until
the controller knows every switch, link and host, runs the scenario, writes results.json,
a CSV and PNG plots to DIR (default mininet/results/SCENARIO/, SCENARIO-payflow/ with
``--switch payflow``, and their quick/ subdirectory with ``--quick``, so that a short run
never overwrites the committed results of a full one), prints its progress and the
bounds it checks, and exits 0 (all hold), 1 (a bound failed) or 2 (setup error). The
controller, the network and the management bridge are always torn down (only what this run
created; never ``mn -c``).

Unless PAYFLOW_OVS_LOCK_HELD=1 (set by test/mininet/testbed.test.ts, which holds it), the
run takes the machine-wide OVS lock of test/helpers/ovs.ts (/tmp/payflow-ovs-test.lock) so
that test suites that restart ovs-vswitchd do not run under it.
"""

import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from testbed.infra import HERE, SetupError, leave_workdir, live_testbed, log, preflight  # noqa: E402
from testbed.report import NO_PLOT_ENV, Bounds, write_results  # noqa: E402
from testbed.scenarios import Context, registry  # noqa: E402


def main():
    if sys.argv[1:2] == ['shell']:
        from testbed.shell import main as shell
        return shell(sys.argv[2:])
    scenarios = registry()
    ap = argparse.ArgumentParser(description='PayFlow Mininet testbed')
    ap.add_argument('scenario', nargs='?', choices=sorted(scenarios))
    ap.add_argument('--list', action='store_true', help='list the scenarios and exit')
    ap.add_argument('--quick', action='store_true', help='short phases (CI)')
    ap.add_argument('--switch', choices=('ovs', 'payflow'), default='ovs',
                    help='the switches: Open vSwitch userspace (default) or payflow switch')
    ap.add_argument('--out', help='results directory (default mininet/results/SCENARIO, or SCENARIO-payflow; /quick under it with --quick)')
    ap.add_argument('--keep', action='store_true', help='keep the work directory (controller log, traffic JSON, wallets)')
    ap.add_argument('--excess', choices=('drop', 'degrade'),
                    help='policing only: the reserved class drops (default) or degrades traffic beyond the paid rate')
    ap.add_argument('--no-plot', action='store_true', help='write results.json and the CSV only (python3 -m testbed.replot draws the plots later)')
    args = ap.parse_args()
    if args.no_plot:
        os.environ[NO_PLOT_ENV] = '1'
    if args.excess == 'degrade':
        if args.scenario != 'policing':
            ap.error('--excess degrade is a variant of policing')
        args.scenario = 'policing-degrade'
    if args.list or not args.scenario:
        print('%-14s %s' % ('shell', "the live testbed at Mininet's prompt, with reserve and reservations (run.py shell --help)"))
        for name in sorted(scenarios):
            print('%-14s %s' % (name, scenarios[name].summary))
        return 0 if args.list else 2
    scenario = scenarios[args.scenario]
    default_out = os.path.join(scenario.name + ('-payflow' if args.switch == 'payflow' else ''), 'quick' if args.quick else '')
    out_dir = os.path.abspath(args.out or os.path.join(HERE, 'results', default_out))
    workdir = None
    status = 2
    try:
        preflight()
        os.makedirs(out_dir, exist_ok=True)
        workdir = tempfile.mkdtemp(prefix='payflow-testbed-')
        with live_testbed(workdir, scenario.topo, scenario.capacity, switch=args.switch, ipv6=scenario.ipv6,
                          topo_args=scenario.topo_args, classes=scenario.classes, pricing=scenario.pricing) as (ctl, tb):
            bounds = Bounds()
            log('scenario %s%s, %s switches' % (scenario.name, ' (quick)' if args.quick else '', args.switch))
            results = scenario.run(Context(scenario, ctl, tb, workdir, out_dir, args.quick, bounds))
            try:
                results['prices'] = ctl.get('/v1/prices')
                results['revenue'] = ctl.get('/v1/revenue')
            except OSError:
                pass
            write_results(out_dir, scenario.name, results, bounds)
            status = 0 if bounds.ok else 1
            log('%s: %d/%d bounds hold' % ('OK' if bounds.ok else 'FAILED', sum(c['ok'] for c in bounds.checks), len(bounds.checks)))
    except SetupError as e:
        log('error: %s' % e)
        status = 2
    except KeyboardInterrupt:
        log('interrupted')
        status = 130
    finally:
        leave_workdir(workdir, status, args.keep)
    return status


if __name__ == '__main__':
    sys.exit(main())
