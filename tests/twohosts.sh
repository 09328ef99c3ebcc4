#!/bin/sh
# Two hosts on one machine, for the lab-parts test: run as
#   unshare --user --map-root-user --net sh tests/twohosts.sh SCRIPT
# This network namespace is host 1; a child namespace is host 2, joined by
# one veth pair on a /24 picked at random in 10.0.0.0/8. Nothing leaves
# the two namespaces. SCRIPT runs with $H1 and $H2 (the hosts' addresses)
# and $ON2 (the command prefix that runs on host 2).
set -eu
ip link set lo up
unshare --net sleep 3600 &
sleeper=$!
trap 'kill "$sleeper" 2>/dev/null || :' EXIT
for _ in 1 2 3 4 5 6 7 8 9 10; do
	[ "$(readlink "/proc/$sleeper/ns/net")" != "$(readlink /proc/self/ns/net)" ] && break
	sleep 0.1
done
net=$(od -An -N2 -tu1 /dev/urandom | awk '{ print "10." $1 "." $2 }')
H1=$net.1
H2=$net.2
ON2="nsenter --target $sleeper --net"
ip link add umlkit-h1 type veth peer name umlkit-h2 netns "$sleeper"
ip addr add "$H1/24" dev umlkit-h1
ip link set umlkit-h1 up
$ON2 sh -c "ip link set lo up && ip addr add $H2/24 dev umlkit-h2 && ip link set umlkit-h2 up"
export H1 H2 ON2
set +e	# SCRIPT checks each status itself
# shellcheck source=/dev/null # the test's own script
. "$1"
