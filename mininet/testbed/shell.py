"""`run.py shell`: an interactive testbed. The same network a scenario gets (a topology of
mininet/topos.py with the management bridge to the controller's API, tx offload off in every
host), the live controller from dist/ with the scenarios' config, and a funded wallet per host;
then Mininet's CLI with two more commands:

    reserve SRC DST CLASS RATE DURATION   `payflow reserve` in SRC's namespace with SRC's wallet
    reservations                          every reservation the controller holds (admin token)

Leaving the CLI (``exit``, Ctrl-D) stops the controller, the switches and the management
bridge, and releases the machine-wide OVS lock.
"""

import json
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

from .infra import CLI as PAYFLOW_CLI
from .infra import HERE, SetupError, leave_workdir, live_testbed, log, preflight
from .traffic import reserve, wallet_for

DEFAULT_TOPO = 'payflow'
DEFAULT_BW_MBIT = 10.0
# What each host's wallet is given at the start, in the ledger's base units (10^6 per unit of
# currency): a million units, enough for hours of the most expensive class at a full link.
WALLET_FUNDS = 10 ** 12


def topology_spec(spec):
    """`NAME[,key=value...]` as `mn --topo` takes it: (name, link rate in Mbit/s, other options).
    The links run at `bw` (default 10 Mbit/s); diffserv's `scale` is folded into it, so the
    controller's link capacity is the rate the links really have."""
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    from topos import topos
    name, _, rest = spec.partition(',')
    if name not in topos:
        raise SetupError('unknown topology %r (have: %s)' % (name, ', '.join(sorted(topos))))
    options = {}
    for item in filter(None, rest.split(',')):
        key, eq, value = item.partition('=')
        if not eq or not key:
            raise SetupError('--topo: %r is not key=value' % item)
        for kind in (int, float):
            try:
                value = kind(value)
                break
            except ValueError:
                pass
        options[key] = value
    try:
        bw = float(options.pop('bw', DEFAULT_BW_MBIT)) * float(options.pop('scale', 1))
    except ValueError:
        raise SetupError('--topo: bw and scale must be numbers')
    if bw <= 0:
        raise SetupError('--topo: bw must be above 0')
    try:
        topos[name](bw=bw, **options)  # the options' names and values, before anything is built
    except (TypeError, ValueError) as e:
        raise SetupError('--topo %s: %s' % (spec, e))
    return name, bw, options


def fund(ctl, address):
    """Mints WALLET_FUNDS to an address on the controller's testbed ledger (the run's admin token)."""
    body = json.dumps({'address': address, 'amount': str(WALLET_FUNDS)}).encode()
    req = urllib.request.Request(ctl.api + '/v1/admin/mint', data=body,
                                 headers={'content-type': 'application/json', 'authorization': 'Bearer ' + ctl.admin_token})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            r.read()
    except OSError as e:
        raise SetupError('funding %s failed: %s' % (address, e))


class Shell:
    """What the CLI's extra commands work with: the controller, the network, the wallets and an
    admin token for listing every reservation."""

    def __init__(self, ctl, tb, workdir):
        self.ctl, self.tb, self.workdir = ctl, tb, workdir
        self.wallets = {}
        for h in tb.net.hosts:
            path = wallet_for(h, workdir)
            address = json.load(open(path))['address']
            fund(ctl, address)
            self.wallets[h.name] = (path, address)
        self.token = ctl.admin_token

    def balance(self, address):
        return self.ctl.get('/v1/ledger/accounts/%s' % address)['balance']

    def banner(self):
        net = self.tb.net
        first, last = net.hosts[0], net.hosts[-1]
        lines = [
            '',
            'PayFlow testbed shell: %d switches, %d hosts, %g Mbit/s links, %s switches' % (
                len(net.switches), len(net.hosts), self.tb.capacity, self.tb.switch),
            '  controller API (from the hosts and from here): %s' % self.ctl.api,
            '  controller: pid %d, log %s' % (self.ctl.proc.pid, self.ctl.logfile),
            '  admin token: %s' % self.token,
            '  hosts, addresses and wallets (funded with %d base units each):' % WALLET_FUNDS,
        ]
        for h in net.hosts:
            path, address = self.wallets[h.name]
            mgmt = '%s.%d' % (self.tb.subnet, h.params['payflowIndex'])
            lines.append('    %-6s %-10s mgmt0 %-14s %s  %s' % (h.name, h.IP(), mgmt, address, path))
        lines += [
            '  commands, besides Mininet\'s own (help):',
            '    reserve SRC DST CLASS RATE DURATION   buy a reservation in SRC\'s namespace with its wallet',
            '    reservations                          every reservation the controller holds',
            '  for example:',
            '    reserve %s %s gold 2mbit 60s' % (first.name, last.name),
            '    %s ping -c3 %s' % (first.name, last.name),
            '    %s iperf3 -s -1 &' % last.name,
            '    %s iperf3 -c %s -t 5' % (first.name, last.IP()),
            '    %s node %s prices --api %s' % (first.name, PAYFLOW_CLI, self.ctl.api),
            '    sh curl -s %s/v1/topology' % self.ctl.api,
            '  exit (or Ctrl-D) stops the controller, the switches and the management network.',
            '',
        ]
        return '\n'.join(lines)


def payflow_cli_class():
    """Mininet's CLI with `reserve` and `reservations` (a function: mininet is imported late, after preflight)."""
    from mininet.cli import CLI
    from mininet.log import output

    class PayFlowCLI(CLI):
        def __init__(self, net, shell, **kwargs):
            self.shell = shell
            CLI.__init__(self, net, **kwargs)

        def do_reserve(self, line):
            "reserve SRC DST CLASS RATE DURATION: payflow reserve in SRC's namespace, paid from SRC's wallet (reserve h1 h2 gold 2mbit 60s)"
            words = line.split()
            if len(words) != 5:
                output('usage: reserve SRC DST CLASS RATE DURATION (e.g. reserve h1 h2 gold 2mbit 60s)\n')
                return
            src, dst, cls, rate, duration = words
            if src not in self.mn or dst not in self.mn or src == dst or src not in self.shell.wallets:
                output('reserve: SRC and DST must be two different hosts (%s)\n' % ' '.join(h.name for h in self.mn.hosts))
                return
            host = self.mn[src]
            try:
                r, seconds = reserve(self.shell.ctl, host, host.IP(), self.mn[dst].IP(), rate, duration,
                                     self.shell.workdir, cls=cls, faucet=False)
            except SetupError as e:
                output('reserve: %s\n' % str(e).strip())
                return
            until = time.strftime('%H:%M:%S', time.gmtime(r['expiresAt'] / 1000.0)) if 'expiresAt' in r else '?'
            output('reservation %s %s: %s -> %s, class %s, %s bit/s until %s UTC, paid %s base units (bought in %.2f s)\n' % (
                r.get('id'), r.get('state'), src, dst, r.get('classId'), r.get('rateBps'), until, r.get('paid'), seconds))
            output('%s\'s wallet now holds %s base units\n' % (src, self.shell.balance(self.shell.wallets[src][1])))

        def do_reservations(self, line):
            "reservations [--state STATE]: every reservation the controller holds (payflow reservations, admin token)"
            r = subprocess.run(['node', PAYFLOW_CLI, 'reservations', '--api', self.shell.ctl.api, '--token', self.shell.token]
                               + line.split(), capture_output=True, text=True)
            output(r.stdout + r.stderr)

    return PayFlowCLI


def stop_on_signal(signum, _frame):
    """SIGTERM or SIGHUP (the terminal went away): leave the CLI and tear everything down.
    Not KeyboardInterrupt: Mininet's CLI catches that and prompts again."""
    raise SystemExit(128 + signum)


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(prog='run.py shell', description="PayFlow testbed shell: a live controller and Mininet's CLI")
    ap.add_argument('--topo', default=DEFAULT_TOPO,
                    help='NAME[,key=value...] of mininet/topos.py, as mn takes it (default payflow,bw=10)')
    ap.add_argument('--switch', choices=('ovs', 'payflow'), default='ovs',
                    help='Open vSwitch userspace (default) or payflow switch')
    ap.add_argument('--keep', action='store_true', help='keep the work directory (controller log, config, wallets)')
    args = ap.parse_args(argv)
    workdir = None
    status = 2
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop_on_signal)
    try:
        preflight()
        topo, bw, topo_args = topology_spec(args.topo)
        workdir = tempfile.mkdtemp(prefix='payflow-shell-')
        with live_testbed(workdir, topo, bw, switch=args.switch, topo_args=topo_args) as (ctl, tb):
            shell = Shell(ctl, tb, workdir)
            print(shell.banner(), flush=True)
            from mininet.log import setLogLevel
            setLogLevel('output')  # the CLI's commands print at this level
            try:
                payflow_cli_class()(tb.net, shell)
            finally:
                setLogLevel('warning')
            status = 0
    except SetupError as e:
        log('error: %s' % e)
    except KeyboardInterrupt:
        log('interrupted')
        status = 130
    except SystemExit as e:
        log('stopped by signal %d' % (e.code - 128))
        status = e.code
    finally:
        leave_workdir(workdir, status, args.keep)
    return status
