#!/usr/bin/env bash
# Installs the Debian packages the tests and the testbed need (Open vSwitch with the
# userspace datapath, Mininet, iperf3, ethtool, tcpdump, ping, ovs-testcontroller) and starts
# Open vSwitch.
# Needs root. Idempotent: a second run only checks. PAYFLOW_SKIP_SYSTEM=1 skips it.
# When another apt or dpkg process holds the package lock (an unattended upgrade, a second
# install), it waits for it, saying so, for up to PAYFLOW_APT_WAIT seconds (default 300).
set -euo pipefail
if [ "${PAYFLOW_SKIP_SYSTEM:-}" = 1 ]; then echo "skipping system packages (PAYFLOW_SKIP_SYSTEM=1)"; exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "setup-system.sh: not root; the Open vSwitch tests will be skipped"; exit 0; fi

# Runs an apt-get command; while another process holds the dpkg or apt lock (apt-get then
# fails with "Could not get lock"), waits and tries again, up to PAYFLOW_APT_WAIT seconds.
apt_retry() {
  local deadline=$(( $(date +%s) + ${PAYFLOW_APT_WAIT:-300} )) out rc
  while :; do
    out=$("$@" -o DPkg::Lock::Timeout=0 2>&1) && { [ -n "$out" ] && printf '%s\n' "$out"; return 0; }
    rc=$?
    if ! grep -qiE 'could not get lock|unable to (acquire|lock)' <<<"$out"; then printf '%s\n' "$out" >&2; return "$rc"; fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      printf '%s\n' "$out" >&2
      echo "setup-system.sh: the package lock was still held after ${PAYFLOW_APT_WAIT:-300} s; giving up" >&2
      return "$rc"
    fi
    echo "setup-system.sh: another apt/dpkg process holds the package lock; waiting ($*)" >&2
    sleep 5
  done
}

packages=(openvswitch-switch openvswitch-testcontroller mininet iperf3 ethtool iproute2 iputils-ping tcpdump python3-matplotlib)
missing=()
for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt_retry apt-get update -qq
  apt_retry apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# ovs-testcontroller drives `payflow switch` in test/switch/testcontroller.test.ts, started by
# the test itself. The package's own service would listen on 6653, the controller's port.
if [ -x /etc/init.d/openvswitch-testcontroller ]; then
  systemctl disable --now openvswitch-testcontroller >/dev/null 2>&1 || /etc/init.d/openvswitch-testcontroller stop >/dev/null 2>&1 || true
fi

# The dashboard's browser test (test/api/dashboard.browser.test.ts) drives Debian's chromium
# headless; no browser is downloaded by npm.
if ! dpkg-query -W -f='${Status}' chromium 2>/dev/null | grep -q 'install ok installed'; then
  echo "installing: chromium"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; }
fi

# The userspace datapath sends on every Linux port through ONE AF_PACKET socket, whose send
# buffer (net.core.wmem_default when ovs-vswitchd made it, 208 KiB by default) is charged
# for every packet still queued in any port's qdisc. One port backlogged behind a rate
# limit then fills it, and sends on every other port fail with EAGAIN: all traffic through
# all bridges collapses for seconds (mininet/README.md, "the overload collapse"). So the
# default goes up before ovs-vswitchd starts, and a running one with a small buffer restarts.
ovs_sndbuf() { ss -0 -m -p 2>/dev/null | awk '/ovs-vswitchd/ { if (match($0, /tb[0-9]+/)) print substr($0, RSTART + 2, RLENGTH - 2); exit }'; }
if [ "$(sysctl -n net.core.wmem_default)" -lt 4194304 ]; then sysctl -qw net.core.wmem_default=4194304; fi
if ovs-vsctl --timeout=2 show >/dev/null 2>&1 && [ -n "$(ovs_sndbuf)" ] && [ "$(ovs_sndbuf)" -lt 4194304 ]; then
  echo "restarting Open vSwitch: its datapath socket has a $(ovs_sndbuf)-byte send buffer"
  /usr/share/openvswitch/scripts/ovs-ctl restart --system-id=random >/dev/null 2>&1 || true
fi

# No kernel datapath module here: the daemons run and bridges use datapath_type=netdev.
if ! ovs-vsctl --timeout=2 show >/dev/null 2>&1; then
  /usr/share/openvswitch/scripts/ovs-ctl start --system-id=random --no-ovs-vswitchd-mlockall >/dev/null 2>&1 \
    || /usr/share/openvswitch/scripts/ovs-ctl start --system-id=random
fi
ovs-vsctl --timeout=5 show >/dev/null && echo "Open vSwitch $(ovs-vswitchd --version | head -1 | awk '{print $NF}') running"
