#!/usr/bin/env bash
# Runs `payflow switch` as the candidate forwarder of a forwarding yardstick that runs
# FWD_CMD with the two interface names appended (FWD_CMD="test/switch/fwd-candidate.sh"). It installs what a
# reservation puts in the path (a 100 Gbit/s drop meter and a DSCP rewrite to 46) from port 1
# to port 2 through ovs-ofctl, then forwards until it is killed.
set -u
DIR=$(dirname "$(readlink -f "$0")")/../..
PORT=${FWD_OF_PORT:-16999}
node "$DIR/dist/src/cli/main.js" switch --listen "ptcp:$PORT:127.0.0.1" --port "$1" --port "$2" & SW=$!
trap 'kill $SW 2>/dev/null; wait $SW 2>/dev/null; exit 0' TERM INT
for _ in $(seq 1 300); do ovs-ofctl -O OpenFlow13 show "tcp:127.0.0.1:$PORT" >/dev/null 2>&1 && break; sleep 0.1; done
ovs-ofctl -O OpenFlow13 add-meter "tcp:127.0.0.1:$PORT" "meter=1,kbps,band=type=drop,rate=100000000"
ovs-ofctl -O OpenFlow13 add-flow "tcp:127.0.0.1:$PORT" "in_port=1,ip,actions=meter:1,set_field:46->ip_dscp,output:2"
wait $SW
