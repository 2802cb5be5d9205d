"""The testbed's scenarios, one module each. A Scenario says what network and
controller configuration it needs; its run(ctx) drives traffic and purchases, checks its
bounds and returns the results for results.json."""


class Scenario:
    def __init__(self, name, run, summary, topo='payflow', capacity=10.0, topo_args=None, ipv6=False,
                 classes=None, pricing=None):
        self.name, self.run, self.summary = name, run, summary
        self.topo, self.capacity, self.topo_args, self.ipv6 = topo, capacity, topo_args or {}, ipv6
        self.classes, self.pricing = classes, pricing


class Context:
    """What a scenario runs with: the controller, the network, a work directory, the output
    directory, whether this is the short (CI) run, and the bounds it records."""

    def __init__(self, scenario, ctl, tb, workdir, out_dir, quick, bounds):
        self.scenario, self.ctl, self.tb, self.workdir = scenario, ctl, tb, workdir
        self.out_dir, self.quick, self.bounds = out_dir, quick, bounds

    def out(self, name):
        import os
        return os.path.join(self.out_dir, name)


def registry():
    from . import degrade, fairness, policing, pricing, reservation, setup_latency, spoof, streaming
    scenarios = [reservation.RESERVATION, policing.POLICING, pricing.PRICING, setup_latency.SETUP_LATENCY, reservation.IPV6,
                 reservation.FATTREE, streaming.STREAMING, fairness.FAIRNESS, spoof.SPOOF_SCENARIO]
    scenarios += [degrade.DEGRADE, degrade.POLICING_DEGRADE]
    return {s.name: s for s in scenarios}
