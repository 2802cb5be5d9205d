"""The testbed's infrastructure: preconditions, Open vSwitch, the machine-wide OVS lock, the
live controller (the built CLI with a generated config) and the Mininet network with its
management bridge.

The hosts reach the controller's HTTP API over a management bridge in the root namespace
(one veth per host, 172.31.X.0/24), never through the data plane being measured. Teardown
removes only what this run created; never ``mn -c`` (it deletes every OVS bridge on the
machine, including other suites').
"""

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from functools import partial

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # mininet/
ROOT = os.path.dirname(HERE)
CLI = os.path.join(ROOT, 'dist', 'src', 'cli', 'main.js')
OVS_CTL = '/usr/share/openvswitch/scripts/ovs-ctl'
LOCK_DIR = '/tmp/payflow-ovs-test.lock'  # the lock of test/helpers/ovs.ts
T0 = time.time()


class SetupError(Exception):
    """The testbed could not be brought up (not a failed bound)."""


def log(msg):
    print('[%6.1fs] %s' % (time.time() - T0, msg), flush=True)


def leave_workdir(workdir, status, keep):
    """Removes a run's work directory after a clean run (unless --keep), else says where it is."""
    if workdir and status == 0 and not keep:
        shutil.rmtree(workdir, ignore_errors=True)
    elif workdir:
        log('work directory kept: %s' % workdir)


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def sh(cmd, check=True):
    r = subprocess.run(cmd, shell=True, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise SetupError('%s failed: %s' % (cmd, (r.stderr or r.stdout).strip()))
    return r.stdout


# ---------------------------------------------------------------------------------------
# Preconditions, OVS, lock

def preflight():
    if os.geteuid() != 0:
        raise SetupError('run as root: sudo /usr/bin/python3 mininet/run.py ...')
    if not os.path.exists(CLI):
        raise SetupError('%s not found: build first: npm run build' % CLI)
    for b in ('ovs-vsctl', 'iperf3', 'ethtool', 'tc', 'node'):
        if shutil.which(b) is None:
            raise SetupError('%s not found (scripts/setup-system.sh installs the testbed packages)' % b)
    try:
        import mininet.net  # noqa: F401
    except ImportError:
        raise SetupError('the mininet module is missing: apt-get install mininet, and run with /usr/bin/python3')


# The userspace datapath sends on every Linux port through one AF_PACKET socket; every
# packet queued in any port's qdisc is charged to its send buffer (net.core.wmem_default when
# ovs-vswitchd created it: 208 KiB by default). One port backlogged behind its rate limit
# fills it, then sends on every other port fail with EAGAIN and all traffic collapses for
# seconds (mininet/README.md, "the overload collapse"). 4 MiB holds the bounded egress
# queues (src/network/egress.ts) of many ports.
OVS_SNDBUF = 4 << 20


def ovs_sndbuf():
    """The send buffer of ovs-vswitchd's AF_PACKET socket in bytes, or None if it has none yet."""
    out = subprocess.run(['ss', '-0', '-m', '-p'], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if 'ovs-vswitchd' in line and ',tb' in line:
            return int(line.split(',tb', 1)[1].split(',', 1)[0])
    return None


def ensure_ovs():
    if int(open('/proc/sys/net/core/wmem_default').read()) < OVS_SNDBUF:
        sh('sysctl -qw net.core.wmem_default=%d' % OVS_SNDBUF)
    running = subprocess.run(['ovs-vsctl', '--timeout=5', 'show'], capture_output=True).returncode == 0 and \
        os.path.exists('/var/run/openvswitch/ovs-vswitchd.pid')
    if running:
        buf = ovs_sndbuf()
        if buf is None or buf >= OVS_SNDBUF:
            return
        log('restarting Open vSwitch: its datapath socket has a %d-byte send buffer (want %d)' % (buf, OVS_SNDBUF))
        subprocess.run([OVS_CTL, 'restart', '--system-id=random'], capture_output=True)
        if subprocess.run(['ovs-vsctl', '--timeout=5', 'show'], capture_output=True).returncode != 0:
            raise SetupError('Open vSwitch did not come back after ovs-ctl restart')
        return
    log('starting Open vSwitch (ovs-ctl start)')
    if subprocess.run([OVS_CTL, 'start', '--system-id=random', '--no-ovs-vswitchd-mlockall'],
                      capture_output=True).returncode != 0:
        subprocess.run([OVS_CTL, 'start', '--system-id=random'], capture_output=True)
    if subprocess.run(['ovs-vsctl', '--timeout=5', 'show'], capture_output=True).returncode != 0:
        raise SetupError('Open vSwitch is not running and ovs-ctl start failed')


class OvsLock:
    """The machine-wide lock of test/helpers/ovs.ts (a directory holding the owner's pid).
    Not taken when PAYFLOW_OVS_LOCK_HELD=1 (the vitest suite that runs us holds it)."""

    def __init__(self):
        self.held = False

    def acquire(self, timeout=600):
        if os.environ.get('PAYFLOW_OVS_LOCK_HELD') == '1':
            return
        deadline = time.time() + timeout
        said = False
        while True:
            try:
                os.mkdir(LOCK_DIR)
                with open(os.path.join(LOCK_DIR, 'pid'), 'w') as f:
                    f.write(str(os.getpid()))
                self.held = True
                return
            except FileExistsError:
                holder = 0
                try:
                    holder = int(open(os.path.join(LOCK_DIR, 'pid')).read().strip() or 0)
                except (OSError, ValueError):
                    pass
                if holder > 0 and not os.path.exists('/proc/%d' % holder):
                    shutil.rmtree(LOCK_DIR, ignore_errors=True)
                    continue
                if not said:
                    log('waiting for the OVS lock %s (held by pid %d)' % (LOCK_DIR, holder))
                    said = True
                if time.time() > deadline:
                    raise SetupError('timed out waiting for %s' % LOCK_DIR)
                time.sleep(0.5)

    def release(self):
        if self.held:
            shutil.rmtree(LOCK_DIR, ignore_errors=True)
            self.held = False


# ---------------------------------------------------------------------------------------
# The controller

# The seed's three classes (pricing seed 004, section 6: base prices 0.16 / 0.09 / 0.04,
# fill factors 50 % / 70 % / 100 %), gold's share raised to 60 % so that a 5 Mbit/s
# reservation fits a 10 Mbit/s link.
DEFAULT_CLASSES = [
    dict(id='gold', name='Gold', basePrice=0.16, maxPrice=1.6, target=0.5, share=0.6, dscp=46),
    dict(id='silver', name='Silver', basePrice=0.09, maxPrice=0.9, target=0.7, share=0.2, dscp=26),
    dict(id='best-effort', name='Best effort', basePrice=0.04, maxPrice=0.4, target=1, share=0.2, dscp=0, bestEffort=True),
]


def yaml_flow(d):
    """A flat dict as a YAML flow mapping (values are numbers, booleans or plain strings)."""
    def value(v):
        if isinstance(v, bool):
            return 'true' if v else 'false'
        if isinstance(v, (int, float)):
            return repr(v)
        return json.dumps(v)
    return '{ %s }' % ', '.join('%s: %s' % (k, value(v)) for k, v in d.items())


class Controller:
    """`payflow controller` from dist/, on free ports, with a config written for the run.

    Minting on the testbed ledger needs an operator token of scope admin: the run makes one
    (admin_token), writes only its SHA-256 into the config (http.tokens), and hands the token
    to the hosts' `payflow reserve --faucet` and reserve-batch (--token)."""

    def __init__(self, workdir, capacity_mbit, api_host, classes=None, pricing=None):
        self.workdir = workdir
        self.admin_token = 'pft_' + secrets.token_hex(32)
        admin_sha256 = hashlib.sha256(self.admin_token.encode('utf-8')).hexdigest()
        self.of_port = free_port()
        self.http_port = free_port()
        self.api = 'http://%s:%d' % (api_host, self.http_port)
        self.config = os.path.join(workdir, 'payflow.yaml')
        with open(self.config, 'w') as f:
            f.write('# written by mininet/run.py\n')
            f.write('dataDir: %s\n' % os.path.join(workdir, 'data'))
            f.write('log: { level: info }\n')
            f.write('openflow: { listen: "127.0.0.1:%d", echoInterval: 5s }\n' % self.of_port)
            f.write('http: { listen: "%s:%d", tokens: [{ name: testbed, sha256: "%s", scope: admin }] }\n' % (
                api_host, self.http_port, admin_sha256))
            f.write('ledger: { kind: local, testbed: true }\n')
            f.write('stats: { pollInterval: 1s }\n')
            f.write('topology: { lldpInterval: 1s, linkTimeout: 10s }\n')
            f.write('links: { defaultCapacity: %gmbit, usePortSpeed: false }\n' % capacity_mbit)
            # The testbed's links are TCLinks at the same capacity; the controller replaces
            # their qdiscs with its per-class queues at that rate (egress.shape: on).
            f.write('egress: { shape: on }\n')
            f.write('reservations: { minDuration: 1s, burst: 50ms }\n')
            if pricing:
                f.write('pricing: %s\n' % yaml_flow(pricing))
            f.write('classes:\n')
            for c in classes or DEFAULT_CLASSES:
                f.write('  - %s\n' % yaml_flow(c))
        self.proc = None
        self.logfile = os.path.join(workdir, 'controller.log')

    def start(self):
        log('starting the controller (OpenFlow 127.0.0.1:%d, API %s)' % (self.of_port, self.api))
        self.logf = open(self.logfile, 'w')
        # In its own session: Ctrl-C at the terminal (run.py shell's prompt, to stop a command
        # in a host) goes to the terminal's process group, and must not stop the controller.
        self.proc = subprocess.Popen(['node', CLI, 'controller', '--config', self.config],
                                     stdout=self.logf, stderr=subprocess.STDOUT, cwd=self.workdir, start_new_session=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SetupError('the controller exited with %s:\n%s' % (self.proc.returncode, self.tail()))
            try:
                self.get('/v1/menu')
                return
            except OSError:
                time.sleep(0.3)
        raise SetupError('the controller API did not come up in 30 s:\n%s' % self.tail())

    def tail(self, n=30):
        try:
            return ''.join(open(self.logfile).readlines()[-n:])
        except OSError:
            return ''

    def get(self, path):
        with urllib.request.urlopen(self.api + path, timeout=5) as r:
            return json.loads(r.read())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.logf.close()


# ---------------------------------------------------------------------------------------
# The network

def ip6(host):
    """The IPv6 address the runner gives a host: fc00::<n> for the n-th host of the topology."""
    return 'fc00::%d' % host.params['payflowIndex']


class Testbed:
    """Mininet with one of mininet/topos.py's topologies, a RemoteController, the OVS
    userspace datapath or `payflow switch` (switch='payflow': each port shaped to its link's
    bw by the switch itself), TCLinks, and a management bridge to the controller's API."""

    def __init__(self, topo, capacity_mbit, ipv6=False, topo_args=None, switch='ovs'):
        self.switch = switch
        self.topo_name = topo
        self.topo_args = dict(topo_args or {})
        self.capacity = capacity_mbit
        self.ipv6 = ipv6
        tag = os.getpid() % 100000
        self.bridge = 'pfmbr%d' % tag
        self.veth_prefix = 'pfm%d' % tag
        self.subnet = '172.31.%d' % (tag % 250)
        self.api_host = self.subnet + '.254'
        self.net = None
        self.veths = []

    def make_bridge(self):
        sh('ip link add %s type bridge' % self.bridge)
        sh('ip addr add %s/24 dev %s' % (self.api_host, self.bridge))
        sh('ip link set %s up' % self.bridge)

    def start(self, controller):
        from mininet.net import Mininet
        from mininet.node import OVSSwitch, RemoteController
        from mininet.link import TCLink
        from mininet.log import setLogLevel
        if HERE not in sys.path:
            sys.path.insert(0, HERE)
        from topos import PayFlowSwitch, topos
        setLogLevel('warning')
        payflow = self.switch == 'payflow'
        log('building the %s topology (%g Mbit/s links, %s)' % (
            self.topo_name, self.capacity, 'payflow switch' if payflow else 'OVS userspace datapath'))
        topo = topos[self.topo_name](bw=self.capacity, **self.topo_args)
        switch = PayFlowSwitch if payflow else partial(OVSSwitch, datapath='user', protocols='OpenFlow13')
        self.net = Mininet(topo=topo, switch=switch, link=TCLink, controller=None, autoSetMacs=True, build=False)
        self.net.addController(RemoteController('c0', ip='127.0.0.1', port=controller.of_port))
        self.net.build()
        self.net.start()
        for i, h in enumerate(self.net.hosts, start=1):
            h.params['payflowIndex'] = i
            for intf in h.intfList():
                h.cmd('ethtool -K %s tx off' % intf.name)
            # management veth: root side in the bridge, host side in the host's namespace
            root_end, host_end = '%sh%d' % (self.veth_prefix, i), '%sn%d' % (self.veth_prefix, i)
            sh('ip link add %s type veth peer name %s' % (root_end, host_end))
            self.veths.append(root_end)
            sh('ip link set %s netns %d' % (host_end, h.pid))
            sh('ip link set %s master %s up' % (root_end, self.bridge))
            h.cmd('ip link set %s name mgmt0; ip addr add %s.%d/24 dev mgmt0; ip link set mgmt0 up' % (host_end, self.subnet, i))
            if self.ipv6:
                h.cmd('sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0')
                h.cmd('ip -6 addr add %s/64 dev %s nodad' % (ip6(h), h.defaultIntf().name))
        log('network up: %s' % ' '.join('%s=%s%s' % (h.name, h.IP(), ' ' + ip6(h) if self.ipv6 else '') for h in self.net.hosts))

    def host(self, name):
        return self.net.get(name)

    def stop(self):
        if self.net is not None:
            try:
                self.net.stop()
            except Exception as e:  # keep tearing down
                log('net.stop: %s' % e)
        for v in self.veths:
            subprocess.run(['ip', 'link', 'del', v], capture_output=True)
        subprocess.run(['ip', 'link', 'del', self.bridge], capture_output=True)


def neighbours_resolved(tb, ips, ips6):
    """Whether every host has a link-layer address for every other (ARP/ND answered by the
    controller). Entries that failed while the switches were still connecting are flushed, so
    the next round asks again (otherwise a first iperf3 connect can fail: No route to host)."""
    ok = True
    for h in tb.net.hosts:
        for family, addrs in (('-4', ips), ('-6', ips6)):
            if not addrs:
                continue
            table = h.cmd('ip %s neigh show dev %s' % (family, h.defaultIntf().name))
            have = {line.split()[0] for line in table.splitlines() if 'lladdr' in line and 'FAILED' not in line}
            mine = {h.IP()} | ({ip6(h)} if family == '-6' else set())
            if not (addrs - mine) <= have:
                ok = False
                h.cmd('ip %s neigh flush dev %s nud failed; ip %s neigh flush dev %s nud incomplete' % (
                    family, h.defaultIntf().name, family, h.defaultIntf().name))
    return ok


def wait_for_controller_view(ctl, tb, timeout=40):
    """Until the controller has every switch, link direction and host (hosts announce themselves)."""
    hosts = tb.net.hosts
    want_links = 2 * sum(1 for l in tb.net.links if not any(i.node in hosts for i in (l.intf1, l.intf2)))
    ips = {h.IP() for h in hosts}
    ips6 = {ip6(h) for h in hosts} if tb.ipv6 else set()
    deadline = time.time() + timeout
    last = ''
    hosts_json = '?'
    while time.time() < deadline:
        # ARP (and ND) + one UDP datagram from each host to every other: the controller learns hosts from ARP/ND
        for h in hosts:
            h.cmd("/usr/bin/python3 -c \"import socket; s=socket.socket(2,2); [s.sendto(b'x',(ip,9)) for ip in %r]\"" %
                  sorted(ips - {h.IP()}))
            if tb.ipv6:
                h.cmd("/usr/bin/python3 -c \"import socket; s=socket.socket(10,2); [s.sendto(b'x',(ip,9)) for ip in %r]\"" %
                      sorted(ips6 - {ip6(h)}))
        try:
            topo = ctl.get('/v1/topology')
        except OSError as e:
            last = str(e)
            time.sleep(1)
            continue
        switches = topo.get('switches', [])
        links = topo.get('links', [])
        known = set()
        for h in topo.get('hosts', []):
            for key in ('ipv4', 'ipv6', 'ips'):
                known.update(h.get(key) or [])
        last = '%d/%d switches, %d/%d link directions, hosts %s' % (
            len(switches), len(tb.net.switches), len(links), want_links, sorted(known & (ips | ips6)))
        hosts_json = json.dumps(topo.get('hosts', []))
        if len(switches) >= len(tb.net.switches) and len(links) >= want_links and (ips | ips6) <= known \
                and neighbours_resolved(tb, ips, ips6):
            log('controller view complete, every host resolves every other: ' + last)
            return topo
        time.sleep(1)
    raise SetupError('the controller did not learn the network in %d s: %s\nits hosts: %s\n%s' % (
        timeout, last, hosts_json, ctl.tail(5)))


@contextlib.contextmanager
def live_testbed(workdir, topo, capacity_mbit, switch='ovs', ipv6=False, topo_args=None, classes=None, pricing=None):
    """The machine-wide OVS lock, Open vSwitch, the management bridge, the network and then the
    controller, until the controller knows the whole network; yields (controller, testbed) and
    tears all of it down afterwards, whatever happened.

    The network comes first, then the controller: Mininet re-applies its TCLink qdiscs on the
    switch ports when it starts the switches (OVSSwitch.TCReapply), which would race the
    controller's own tc htb classes on the same ports. The switches retry the connection."""
    lock = OvsLock()
    ctl = tb = None
    try:
        # Mininet's interface names (s1-eth1, ...) are machine-wide: a payflow-switch run takes
        # the lock too, so that it never builds its network over another run's.
        lock.acquire()
        if switch == 'ovs':
            ensure_ovs()
        tb = Testbed(topo, capacity_mbit, ipv6=ipv6, topo_args=topo_args, switch=switch)
        tb.make_bridge()
        ctl = Controller(workdir, capacity_mbit, tb.api_host, classes=classes, pricing=pricing)
        tb.start(ctl)
        ctl.start()
        wait_for_controller_view(ctl, tb)
        yield ctl, tb
    finally:
        log('tearing down')
        if ctl is not None:
            ctl.stop()
        if tb is not None:
            tb.stop()
        lock.release()
