#!/bin/bash
# Do Open vSwitch's own queues (a linux-htb QoS row with Queue rows, as OVSDB configures
# them) carry traffic on the userspace datapath? Two namespaces on a netdev bridge, 8 Mbit/s
# of UDP with iperf3 through a port whose QoS has queue 0 (up to 10M, later 2M), queue 1
# (8M..10M) and queue 2 (at most 2M): A steers the flow with set_queue:2, B limits queue 0,
# C marks DSCP 46, D adds a u32 filter on DSCP by hand. Prints the received rates and the
# bytes each htb class counted. Root; takes the OVS test lock. docs/security.md has the result.
set -u
LOCK=/tmp/payflow-ovs-test.lock
until mkdir $LOCK 2>/dev/null; do
  h=$(cat $LOCK/pid 2>/dev/null); if [ -n "$h" ] && ! kill -0 $h 2>/dev/null; then rm -rf $LOCK; fi; sleep 1; done
echo $$ > $LOCK/pid
cleanup() {
  local qos queues
  qos=$(ovs-vsctl --if-exists get port qcba qos 2>/dev/null)
  queues=$([ -n "$qos" ] && ovs-vsctl get qos "$qos" queues 2>/dev/null | grep -o '[0-9a-f-]\{36\}')
  ip netns del qsa 2>/dev/null; ip netns del qsb 2>/dev/null
  ovs-vsctl --if-exists del-br qchk0
  [ -n "$qos" ] && ovs-vsctl destroy qos "$qos" 2>/dev/null
  for q in $queues; do ovs-vsctl destroy queue "$q" 2>/dev/null; done
  rm -rf $LOCK
}
trap cleanup EXIT
ovs-vsctl --timeout=5 show >/dev/null 2>&1 || /usr/share/openvswitch/scripts/ovs-ctl start --system-id=random --no-ovs-vswitchd-mlockall >/dev/null
ovs-vsctl --may-exist add-br qchk0 -- set bridge qchk0 datapath_type=netdev protocols=OpenFlow13 fail_mode=secure other-config:disable-in-band=true
for n in a b; do
  ip netns add qs$n; ip link add qc${n}a type veth peer name qc${n}b; ip link set qc${n}b netns qs$n
  ip link set qc${n}a up; ip netns exec qs$n ip link set qc${n}b up; ip netns exec qs$n ip link set lo up
  ip netns exec qs$n ethtool -K qc${n}b tx off >/dev/null 2>&1
done
ip netns exec qsa ip addr add 10.9.0.1/24 dev qcab; ip netns exec qsb ip addr add 10.9.0.2/24 dev qcbb
ovs-vsctl add-port qchk0 qcaa -- set interface qcaa ofport_request=1
ovs-vsctl add-port qchk0 qcba -- set interface qcba ofport_request=2
ofctl() { ovs-ofctl -O OpenFlow13 "$@"; }
ofctl add-flow qchk0 "priority=1,in_port=1,actions=output:2"
ofctl add-flow qchk0 "priority=1,in_port=2,actions=output:1"
# queue 0 (default): up to 10M; queue 1: up to 10M; queue 2: at most 2M
ovs-vsctl -- set port qcba qos=@q -- --id=@q create qos type=linux-htb other-config:max-rate=10000000 queues:0=@q0 queues:1=@q1 queues:2=@q2 \
  -- --id=@q0 create queue other-config:min-rate=1000000 other-config:max-rate=10000000 \
  -- --id=@q1 create queue other-config:min-rate=8000000 other-config:max-rate=10000000 \
  -- --id=@q2 create queue other-config:min-rate=1000000 other-config:max-rate=2000000 >/dev/null
sleep 1
echo "== qdisc OVS put on qcba"; tc qdisc show dev qcba; tc class show dev qcba
measure() { # $1 label, $2 extra iperf args
  ip netns exec qsb iperf3 -s -D -1 -p 5201 >/dev/null 2>&1; sleep 0.5
  r=$(ip netns exec qsa iperf3 -c 10.9.0.2 -p 5201 -u -b 8M -t 5 -J ${2:-} 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); s=d["end"]["sum"]; print("sent %.2f Mbit/s, received %.2f Mbit/s, loss %.1f %%" % (s["bits_per_second"]/1e6, s["bits_per_second"]*(1-s["lost_percent"]/100)/1e6, s["lost_percent"]))' 2>&1)
  echo "$1: $r"
}
echo "== A: 8 Mbit/s UDP, flow set_queue:2 (queue 2 max 2M)"
ofctl add-flow qchk0 "priority=10,udp,in_port=1,tp_dst=5201,actions=set_queue:2,output:2"
tc -s class show dev qcba > /tmp/edgeops/before.txt
measure "A set_queue:2"
echo "-- per-class bytes after A"; tc -s class show dev qcba | grep -E "^class|Sent"
echo "== B: queue 0 limited to 2M (set_queue:0 / no set_queue)"
ofctl del-flows qchk0 "udp"
ovs-vsctl set queue $(ovs-vsctl get qos $(ovs-vsctl get port qcba qos) queues:0) other-config:max-rate=2000000
sleep 1; tc class show dev qcba
measure "B default queue max 2M"
echo "-- per-class bytes after B"; tc -s class show dev qcba | grep -E "^class|Sent"
echo "== C: DSCP 46 (TOS 0xb8) into queue 1? (queue 0 still 2M)"
measure "C tos 0xb8" "-S 184"
echo "-- per-class bytes after C"; tc -s class show dev qcba | grep -E "^class|Sent"
echo "== D: same, tc u32 filter tos 0xb8 -> 1:2 added by hand"
tc filter add dev qcba parent 1: protocol ip prio 1 u32 match ip tos 0xb8 0xfc flowid 1:2
measure "D tos 0xb8 with u32 filter" "-S 184"
echo "-- per-class bytes after D"; tc -s class show dev qcba | grep -E "^class|Sent"
