"""PayFlow testbed topologies for Mininet 2.3 (Debian's `mininet`, OVS userspace datapath).

Use them as a Mininet custom file:

    mn --custom mininet/topos.py --topo payflow --link tc \
       --controller remote,port=6653 --switch ovs,datapath=user

Topologies (every switch gets an explicit 16-hex-digit dpid, so that the controller's
view, its logs and the experiment results name switches the same way on every run):

- ``payflow``: PayFlow's reference topology, h1, h2 -- s1 -- s2, s3 -- h3, h4: two
  senders on s1; s1 linked to s2 and to s3; h3 behind s2 and h4 behind s3.
- ``diffserv``: the pricing seed's network (Fgee et al. 2005, section 5): two edge
  routers and four core routers, three sources behind the ingress edge and one sink
  behind the egress edge, links of 1 Mbit/s by default (the seed's 1 ms delay: opt-in). The core is two
  disjoint two-hop paths (a ring through both edges). ``scale`` multiplies every
  bandwidth (scale=10 gives 10 Mbit/s links) for machines where 1 Mbit/s is too coarse.
- ``fattree``: the k-ary fat tree (k=4 by default: 4 core, 8 aggregation, 8 edge
  switches, 16 hosts).

The switch ``payflow`` (``--switch payflow``) is PayFlow's own OpenFlow 1.3 software switch
(``payflow switch``, docs/switch.md) instead of Open vSwitch:

    mn --custom mininet/topos.py --topo payflow --link tc \
       --controller remote,port=6653 --switch payflow

It switches the same interfaces, dials the controller Mininet gives it, and shapes each
port's output to the link's ``bw`` itself (``--port NAME@RATE``), so the queue forms in the
switch: the TCLink qdisc Mininet put on the switch's side of each link is removed. Options
through ``--switch payflow,sched=strict,queues=1:3+2:1`` (``+`` between queue weights).

Link bandwidths only take effect with ``--link tc`` (Mininet's TCLink, htb). Link delay
is opt-in (``--topo diffserv,delay=1ms``): it needs the kernel's ``sch_netem``, which the
machines this project runs on do not have (``tc qdisc add ... netem`` answers "Specified
qdisc kind is unknown"), so by default no delay is configured. Hosts get
their addresses from Mininet (10.0.0.0/8); IPv6 addresses for the ``ipv6`` scenario are
added by the experiment runner.
"""

import inspect
import os
import subprocess

from mininet.node import Switch
from mininet.topo import Topo

# `mn --custom FILE` executes this file without __file__; the code's own file name is the path given to mn.
_THIS_FILE = globals().get('__file__') or inspect.currentframe().f_code.co_filename
PAYFLOW_CLI = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(_THIS_FILE))), 'dist', 'src', 'cli', 'main.js')


def link_options(bw, delay):
    """TCLink options: bandwidth in Mbit/s, and the delay only where one was asked for."""
    options = dict(bw=float(bw))
    if delay:
        options['delay'] = delay
    return options


def dpid(n):
    """The 16-hex-digit datapath id of switch number n (1-based)."""
    return '%016x' % n


class PayflowTopo(Topo):
    """h1, h2 -- s1 -- s2, s3 -- h3, h4 (PayFlow's Mininet evaluation topology)."""

    def build(self, bw=100, delay=None):
        link = link_options(bw, delay)
        s1, s2, s3 = (self.addSwitch('s%d' % i, dpid=dpid(i)) for i in (1, 2, 3))
        h1, h2, h3, h4 = (self.addHost('h%d' % i) for i in (1, 2, 3, 4))
        self.addLink(h1, s1, **link)
        self.addLink(h2, s1, **link)
        self.addLink(s1, s2, **link)
        self.addLink(s1, s3, **link)
        self.addLink(h3, s2, **link)
        self.addLink(h4, s3, **link)


class DiffservTopo(Topo):
    """Two edge and four core routers, three sources and a sink (pricing seed, section 5)."""

    def build(self, bw=1, delay=None, scale=1):
        link = link_options(float(bw) * float(scale), delay)
        edge_in = self.addSwitch('e1', dpid=dpid(1))
        edge_out = self.addSwitch('e2', dpid=dpid(2))
        c1, c2, c3, c4 = (self.addSwitch('c%d' % i, dpid=dpid(10 + i)) for i in (1, 2, 3, 4))
        # Sources: one per flow of the seed's scenario (FID 15, 12 and 8).
        for name in ('src15', 'src12', 'src8'):
            self.addLink(self.addHost(name), edge_in, **link)
        self.addLink(self.addHost('sink'), edge_out, **link)
        # The core: two disjoint paths e1-c1-c2-e2 and e1-c3-c4-e2.
        self.addLink(edge_in, c1, **link)
        self.addLink(c1, c2, **link)
        self.addLink(c2, edge_out, **link)
        self.addLink(edge_in, c3, **link)
        self.addLink(c3, c4, **link)
        self.addLink(c4, edge_out, **link)


class FatTreeTopo(Topo):
    """k-ary fat tree: (k/2)^2 core, k pods of k/2 aggregation and k/2 edge switches, k/2 hosts per edge switch."""

    def build(self, k=4, bw=100, delay=None):
        k = int(k)
        if k < 2 or k % 2:
            raise ValueError('fattree: k must be an even number >= 2, got %r' % k)
        link = link_options(bw, delay)
        half = k // 2
        number = iter(range(1, 10 ** 6))
        core = [self.addSwitch('c%d' % i, dpid=dpid(next(number))) for i in range(half * half)]
        host_index = 1
        for pod in range(k):
            aggs = [self.addSwitch('a%d_%d' % (pod, i), dpid=dpid(next(number))) for i in range(half)]
            edges = [self.addSwitch('e%d_%d' % (pod, i), dpid=dpid(next(number))) for i in range(half)]
            for i, agg in enumerate(aggs):
                for j in range(half):
                    self.addLink(agg, core[i * half + j], **link)
                for edge in edges:
                    self.addLink(agg, edge, **link)
            for edge in edges:
                for _ in range(half):
                    self.addLink(self.addHost('h%d' % host_index), edge, **link)
                    host_index += 1


class PayFlowSwitch(Switch):
    """`payflow switch` on this switch's interfaces (root namespace), dialling Mininet's controllers.

    Ports are numbered as Mininet numbers them. A link with ``bw`` (TCLink) becomes the port
    rate, and the TCLink qdisc on the switch's side is deleted, so the shaping and the queue
    are the switch's own. The switch's log is /tmp/NAME-payflow.log."""

    def __init__(self, name, sched=None, queues=None, **params):
        Switch.__init__(self, name, **params)
        self.sched = sched
        self.queues = [q for q in (queues or '').split('+') if q]
        self.proc = None
        self.logfile = '/tmp/%s-payflow.log' % name

    def ports_in_order(self):
        return [intf for intf in self.intfList() if intf.name != 'lo' and self.ports.get(intf, 0) > 0]

    def start(self, controllers):
        if not os.path.exists(PAYFLOW_CLI):
            raise Exception('%s not found: build first (npm run build)' % PAYFLOW_CLI)
        args = ['node', PAYFLOW_CLI, 'switch', '--dpid', self.dpid]
        for c in controllers:
            args += ['--controller', 'tcp:%s:%d' % (c.IP(), c.port)]
        if self.listenPort:
            args += ['--listen', 'ptcp:%d:127.0.0.1' % self.listenPort]
        for intf in self.ports_in_order():
            bw = intf.params.get('bw')
            # the queue forms in the switch, not in Mininet's htb on the same interface
            subprocess.run(['tc', 'qdisc', 'del', 'dev', intf.name, 'root'], capture_output=True)
            args += ['--port', '%s@%gmbit' % (intf.name, float(bw)) if bw else intf.name]
        for q in self.queues:
            args += ['--queue', q]
        if self.sched:
            args += ['--sched', self.sched]
        log = open(self.logfile, 'w')
        # At nice -10, as ovs-ctl starts ovs-vswitchd: a switch that other work on the machine
        # keeps off the CPU for tens of ms receives a backlog at once, and its meters see a burst.
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                     preexec_fn=lambda: os.nice(-10))
        log.close()

    def connected(self):
        try:
            return self.proc is not None and self.proc.poll() is None and 'connected to controller' in open(self.logfile).read()
        except OSError:
            return False

    @classmethod
    def batchShutdown(cls, switches):
        """Signals every switch first and then waits, so that a network of many switches stops
        in about the time one takes (Mininet calls this before stop())."""
        for sw in switches:
            if sw.proc is not None and sw.proc.poll() is None:
                sw.proc.terminate()
        for sw in switches:
            sw.stop()
        return switches

    def stop(self, deleteIntfs=True):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        super(PayFlowSwitch, self).stop(deleteIntfs)


switches = {
    'payflow': PayFlowSwitch,
}

topos = {
    'payflow': PayflowTopo,
    'diffserv': DiffservTopo,
    'fattree': FatTreeTopo,
}
