#!/bin/sh
# N hosts on one machine, for the lab-parts test and bench: run as
#   unshare --user --map-root-user --net sh support/nethosts.sh N SCRIPT
# This network namespace is host 1; N-1 child namespaces are hosts 2..N,
# each joined by a veth to a bridge here, on a /24 picked at random in
# 10.0.0.0/8. Nothing leaves these namespaces. SCRIPT runs (sourced, with
# errors left to it) with $H1..$HN, the hosts' addresses, and $ON2..$ONN,
# the command prefixes that run on those hosts ($ON1 is empty).
set -eu
hosts=$1
ip link set lo up
net=$(od -An -N2 -tu1 /dev/urandom | awk '{ print "10." $1 "." $2 }')
ip link add umlkit-hosts type bridge
ip addr add "$net.1/24" dev umlkit-hosts
ip link set umlkit-hosts up
H1=$net.1
ON1=
export H1 ON1
sleepers=
trap 'kill $sleepers 2>/dev/null || :' EXIT
k=2
while [ "$k" -le "$hosts" ]; do
	unshare --net sleep 3600 &
	sleeper=$!
	sleepers="$sleepers $sleeper"
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		[ "$(readlink "/proc/$sleeper/ns/net")" != "$(readlink /proc/self/ns/net)" ] && break
		sleep 0.1
	done
	ip link add "umlkit-h$k" type veth peer name eth0 netns "$sleeper"
	ip link set "umlkit-h$k" master umlkit-hosts up
	nsenter --target "$sleeper" --net sh -c "ip link set lo up && ip addr add $net.$k/24 dev eth0 &&
		ip link set eth0 up"
	eval "H$k=$net.$k ON$k=\"nsenter --target $sleeper --net\"; export H$k ON$k"
	k=$((k + 1))
done
set +e	# SCRIPT checks each status itself
# shellcheck source=/dev/null # the caller's own script
. "$2"
