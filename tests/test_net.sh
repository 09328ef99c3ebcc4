#!/bin/sh
# Networking without root (docs/net.md): user NAT to the host's loopback,
# port forwards, guest-to-guest switches, and what is left after a SIGKILL.
# Traffic goes only to 127.0.0.1 on the host or between the tests' own
# guests; no name is resolved and every wait is bounded.
. "$TOPDIR/tests/lib.sh"

COPY=$SCRATCH/boot.sh
SERVER_PID=
# switch names of this run, so concurrent runs never meet
SW=t$$

oneTimeSetUp() {
	cp "$BUNDLE" "$COPY"
	mkdir -p "$SCRATCH/www"
	head -c 10000000 /dev/urandom >"$SCRATCH/www/f10m"
	SUM=$(sha256sum <"$SCRATCH/www/f10m" | cut -d' ' -f1)
}

tearDown() {
	[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
	SERVER_PID=
	wait 2>/dev/null
}

# a TCP port on 127.0.0.1 nobody listens on now
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# until a TCP port on 127.0.0.1 accepts, 10 s at most
wait_port() {
	python3 - "$1" <<'EOF'
import socket, sys, time
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
EOF
}

# a host HTTP server on 127.0.0.1 serving $SCRATCH/www; sets PORT
start_server() {
	PORT=$(free_port)
	python3 -m http.server --bind 127.0.0.1 --directory "$SCRATCH/www" "$PORT" >/dev/null 2>&1 &
	SERVER_PID=$!
	wait_port "$PORT"
}

# our helpers still running (zombies waiting for a reaper are gone already)
helpers_left() {
	ps -eo stat=,args= | grep -v '^Z' | grep -E "$XDG_CACHE_HOME/umlkit/.*/umlkit-nat|umlkit-switch 3 .*/$1\.lock" |
		grep -v grep || :
}

test_guest_fetches_a_file_from_the_host() {
	start_server || { fail "no server"; return; }
	out=$("$COPY" --net user -- sh -c "wget -q -O - http://10.0.2.2:$PORT/f10m | sha256sum" </dev/null 2>"$SCRATCH/err")
	assertEquals "status: $(cat "$SCRATCH/err")" 0 $?
	assertEquals "byte-exact" "$SUM  -" "$out"
	assertEquals "nothing on stderr" "" "$(stderr_of "$SCRATCH/err")"
}

test_guest_network_is_configured_before_the_command() {
	out=$("$COPY" --net user -- sh -c 'ip -4 -o addr show eth0 | awk "{print \$4}"; ip route | grep ^default;
		cat /etc/resolv.conf; cat /sys/class/net/eth0/mtu' </dev/null 2>&1)
	assertEquals "eth0, route, resolver, MTU" \
		"$(printf '10.0.2.15/24\ndefault via 10.0.2.2 dev eth0 \nnameserver 10.0.2.3\n16384')" "$out"
}

test_host_fetches_from_the_guest_through_a_forward() {
	port=$(free_port)
	mkdir -p "$SCRATCH/sync"
	# the guest serves a file of its own, says when, and waits (bounded)
	# for the host to be done
	"$COPY" --net user --forward "$port:8080" --share "$SCRATCH/sync:/sync:rw" --timeout 120 -- sh -c '
		mkdir /tmp/www && head -c 10000000 /dev/urandom >/tmp/www/g &&
		sha256sum </tmp/www/g >/sync/sum && httpd -p 8080 -h /tmp/www && touch /sync/ready
		i=0; while [ ! -e /sync/done ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done' \
		</dev/null >"$SCRATCH/guest.out" 2>&1 &
	pid=$!
	i=0
	while [ ! -e "$SCRATCH/sync/ready" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	got=$(wget -q -O - "http://127.0.0.1:$port/g" | sha256sum)
	touch "$SCRATCH/sync/done"
	wait $pid
	assertEquals "guest status: $(cat "$SCRATCH/guest.out")" 0 $?
	assertEquals "byte-exact" "$(cat "$SCRATCH/sync/sum")" "$got"
}

# A guest command that sends and exits at once (nc -e cat) still gets its
# last bytes to the host peer through --forward: init waits for the TCP
# send queues, the NAT helper writes out what it holds before it exits.
# 50 transfers, 5 guests at a time, each to a reader slower than the guest
# (before both waits, 2-3 transfers in 10 lost 50-500 KB at the end).
test_the_tail_of_a_transfer_that_ends_the_run_arrives() {
	cat >"$SCRATCH/reader.py" <<'PY'
import socket, sys, time
port, rate = int(sys.argv[1]), float(sys.argv[2])
for _ in range(600):
    try:
        c = socket.create_connection(("127.0.0.1", port), 5)
        c.settimeout(30)
        total = 0
        while True:
            d = c.recv(65536)
            if not d:
                break
            total += len(d)
            time.sleep(len(d) / rate)
        c.close()
        if total:
            print(total)
            break
    except OSError:
        pass
    time.sleep(0.1)
PY
	whole=0 short=''
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		for k in 1 2 3 4 5; do
			port=$(free_port)
			"$COPY" --net user --forward "$port:8080" --timeout 60 -- \
				sh -c 'head -c 8000000 /dev/zero >/tmp/f && nc -l -p 8080 -e cat /tmp/f' </dev/null >/dev/null 2>&1 &
			python3 "$SCRATCH/reader.py" "$port" 40000000 >"$SCRATCH/got.$k" &
		done
		wait
		for k in 1 2 3 4 5; do
			got=$(cat "$SCRATCH/got.$k")
			if [ "$got" = 8000000 ]; then whole=$((whole + 1)); else short="$short ${got:-nothing}"; fi
		done
	done
	assertEquals "transfers that arrived whole (the others' byte counts:$short)" 50 "$whole"
}

test_two_guests_on_a_switch_ping_and_transfer() {
	"$COPY" --switch "$SW" --ip 192.168.50.1/24 --timeout 120 -- nc -l -p 5000 -e sha256sum \
		</dev/null >"$SCRATCH/a.out" 2>&1 &
	a=$!
	head -c 10000000 /dev/urandom >"$SCRATCH/f"
	out=$("$COPY" --switch "$SW" --ip 192.168.50.2/24 --share "$SCRATCH" --timeout 120 -- sh -c "
		i=0; until ping -c 1 -W 1 192.168.50.1 >/dev/null; do i=\$((i + 1)); [ \$i -lt 60 ] || exit 9; done
		echo ping-ok
		i=0; until nc 192.168.50.1 5000 <'$SCRATCH/f' 2>/dev/null; do
			i=\$((i + 1)); [ \$i -lt 100 ] || exit 10; sleep 0.1; done" </dev/null 2>"$SCRATCH/err")
	assertEquals "status: $(cat "$SCRATCH/err")" 0 $?
	assertEquals "ping, and the receiver's sha256 of what it got" \
		"$(printf 'ping-ok\n%s  -' "$(sha256sum <"$SCRATCH/f" | cut -d' ' -f1)")" "$out"
	wait $a
	assertEquals "receiver: $(cat "$SCRATCH/a.out")" 0 $?
}

test_guests_on_a_switch_have_distinct_macs() {
	"$COPY" --switch "$SW-mac" --timeout 60 -- sh -c 'cat /sys/class/net/eth0/address; sleep 3' \
		</dev/null >"$SCRATCH/m1" 2>&1 &
	pid=$!
	m2=$("$COPY" --switch "$SW-mac" -- cat /sys/class/net/eth0/address </dev/null 2>&1)
	wait $pid
	assertTrue "a locally administered MAC: $m2" "echo '$m2' | grep -Eq '^02(:[0-9a-f]{2}){5}\$'"
	assertNotEquals "distinct" "$(cat "$SCRATCH/m1")" "$m2"
}

test_sixteen_guests_with_user_networking_at_once() {
	for i in $(seq 1 16); do head -c 100000 /dev/urandom >"$SCRATCH/www/p$i"; done
	start_server || { fail "no server"; return; }
	pids=
	for i in $(seq 1 16); do
		"$COPY" --net user --timeout 120 -- sh -c "wget -q -O - http://10.0.2.2:$PORT/p$i | sha256sum;
			awk 'NR > 1 { print \$1 }' /proc/net/arp" </dev/null >"$SCRATCH/o$i" 2>&1 &
		pids="$pids $!"
	done
	# shellcheck disable=SC2086 # the pids
	wait $pids
	for i in $(seq 1 16); do
		assertEquals "guest $i: its own file, and only the gateway as a neighbour" \
			"$(printf '%s  -\n10.0.2.2' "$(sha256sum <"$SCRATCH/www/p$i" | cut -d' ' -f1)")" "$(cat "$SCRATCH/o$i")"
	done
	assertEquals "no helper left" "" "$(helpers_left none)"
}

test_a_busy_forward_port_is_refused_with_125() {
	port=$(free_port)
	python3 -c "import socket, time
s = socket.socket(); s.bind(('127.0.0.1', $port)); s.listen(); time.sleep(30)" &
	SERVER_PID=$!
	wait_port "$port"
	"$COPY" --net user --forward "$port:80" -- echo booted </dev/null >"$SCRATCH/out" 2>"$SCRATCH/err"
	assertEquals "status" 125 $?
	assertEquals "one line naming the port" \
		"boot.sh: --forward: tcp port 127.0.0.1:$port on the host is in use" "$(cat "$SCRATCH/err")"
	assertEquals "the guest did not run" "" "$(cat "$SCRATCH/out")"
	assertEquals "no helper left" "" "$(helpers_left none)"
}

test_sigkill_leaves_no_helper_or_switch() {
	"$COPY" --net user --switch "$SW-kill" -- sleep 100 </dev/null >/dev/null 2>&1 &
	pid=$!
	i=0
	until [ "$(helpers_left "$SW-kill" | wc -l)" -eq 2 ] || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
	assertEquals "NAT helper and switch running" 2 "$(helpers_left "$SW-kill" | wc -l)"
	kill -9 $pid
	wait $pid 2>/dev/null
	sleep 5
	assertEquals "nothing left" "" "$(helpers_left "$SW-kill")"
	assertEquals "no guest left" "" "$(uml_processes "$XDG_CACHE_HOME")"
	dir=${XDG_RUNTIME_DIR:-/tmp}
	assertFalse "switch socket gone" "ls '$dir'/umlkit-switches*/'$SW-kill.sock' 2>/dev/null"
	assertFalse "its lock file too" "ls '$dir'/umlkit-switches*/'$SW-kill.lock' 2>/dev/null"
}

test_net_none_has_no_eth0() {
	out=$("$COPY" --net none -- ls /sys/class/net </dev/null 2>&1)
	assertEquals "only lo" "lo" "$out"
	out=$("$COPY" -- ls /sys/class/net </dev/null 2>&1)
	assertEquals "the default bundle has no network" "lo" "$out"
}

test_bad_network_options_get_125_and_one_line() {
	for args in "--net wifi" "--forward 8080" "--net user --forward tcp:localhost:8080:80" \
		"--net user --forward 70000:80" "--forward 8080:80" "--ip 10.0.0.1/24" \
		"--switch a/b" "--switch x --ip 10.0.0.1" "--switch x --ip 10.0.0.300/24"; do
		# shellcheck disable=SC2086 # the words of one case
		"$COPY" $args -- true </dev/null >"$SCRATCH/out" 2>"$SCRATCH/err"
		assertEquals "$args: status" 125 $?
		assertEquals "$args: one line: $(cat "$SCRATCH/err")" 1 "$(wc -l <"$SCRATCH/err")"
		assertTrue "$args: names the option" "grep -q -- '--[a-z]*' '$SCRATCH/err'"
	done
}

test_network_from_the_configuration() {
	o=$SCRATCH/o-net
	umlkit_make O="$o" defconfig || fail "defconfig"
	sed -i -e '/^UMLKIT_KERNEL_FROM_TARBALL=y/d' -e '/^UMLKIT_KERNEL_TARBALL=/d' -e '/^UMLKIT_NET_/d' "$o/.config"
	printf 'UMLKIT_KERNEL_PREBUILT=y\nUMLKIT_KERNEL_PREBUILT_PATH="%s"\n' "$KERNEL" >>"$o/.config"
	printf 'UMLKIT_NET_HELPERS=y\nUMLKIT_NET_USER=y\nUMLKIT_NET_SWITCHES="%s=10.9.0.1/24"\n' "$SW-cfg" >>"$o/.config"
	umlkit_make O="$o" olddefconfig && umlkit_make O="$o" || { fail "build: $(tail -5 "$SCRATCH/make.log")"; return; }
	out=$("$o/images/boot.sh" -- sh -c 'ip -4 -o addr | awk "{print \$2, \$4}"' </dev/null 2>&1)
	assertEquals "eth0 NAT, eth1 on the switch" "$(printf 'lo 127.0.0.1/8\neth0 10.0.2.15/24\neth1 10.9.0.1/24')" "$out"
	out=$("$o/images/boot.sh" --net none -- ls /sys/class/net </dev/null 2>&1)
	assertEquals "--net none drops both" "lo" "$out"
	assertTrue "--help names the default" "'$o/images/boot.sh' --help | grep -q 'default: user'"
	rm -rf "$o"
}

test_two_users_never_share_a_switch() {
	need_root "run a guest as a second user" || return
	chmod 0755 "$SCRATCH"
	"$COPY" --switch "$SW-iso" --ip 192.168.60.1/24 --timeout 60 -- sleep 20 </dev/null >/dev/null 2>&1 &
	pid=$!
	out=$(as_nobody sh "$COPY" --switch "$SW-iso" --ip 192.168.60.2/24 -- sh -c \
		'cat /sys/class/net/eth0/address >/dev/null && echo up; ping -c 3 -W 1 192.168.60.1 >/dev/null 2>&1 && echo reached ||
		echo unreached' </dev/null 2>&1)
	assertEquals "nobody's guest is up, and does not reach root's" "$(printf 'up\nunreached')" "$out"
	mode=$(stat -c %a /tmp/umlkit-switches-65534 2>/dev/null)
	assertEquals "nobody's switch directory is private" 700 "$mode"
	kill $pid 2>/dev/null
	wait $pid || :
}

. shunit2
