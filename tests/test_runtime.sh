#!/bin/sh
# The runtime supervisor (boot/run/) and boot.sh's cache, tried the way
# users and attackers meet them: long runs, terminals, signals, SIGKILL,
# hostile caches, cold concurrent starts, cut files, a full TMPDIR, odd
# paths and bad options.
. "$TOPDIR/tests/lib.sh"

COPY=$SCRATCH/boot.sh

oneTimeSetUp() {
	cp "$BUNDLE" "$COPY"
}

tearDown() {
	term_stop
}

# wait_file FILE SECONDS
wait_file() {
	i=0
	until [ -s "$1" ]; do
		i=$((i + 1))
		[ $i -gt $(($2 * 10)) ] && return 1
		sleep 0.1
	done
}

test_a_command_longer_than_a_minute_runs_to_its_end() {
	out=$("$COPY" -- sh -c 'sleep 65; echo done' </dev/null 2>"$SCRATCH/err")
	assertEquals "status" 0 $?
	assertEquals "output" "done" "$out"
	assertEquals "nothing on stderr" "" "$(stderr_of "$SCRATCH/err")"
}

test_login_prompt_alive_after_40s_on_a_terminal() {
	term_start "'$COPY'; echo exit=\$? >'$SCRATCH/status'; sleep 600"
	term_wait 'login:' 60
	assertTrue "a login prompt: $(term_screen)" $?
	sleep 40
	term_keys 'root' Enter
	sleep 1
	term_keys 'echo alive-$((6*7))' Enter
	term_wait alive-42 20
	assertTrue "still answers after 40 s: $(term_screen)" $?
	assertFalse "no TIOCSCTTY noise" "term_screen | grep -q TIOCSCTTY"
	assertFalse "no check_one_sigio noise (Landlock refuses UML a pty)" "term_screen | grep -q check_one_sigio"
	term_keys 'poweroff' Enter
	assertTrue "poweroff returns" "wait_file '$SCRATCH/status' 60"
	assertEquals "status after poweroff" "exit=0" "$(cat "$SCRATCH/status")"
}

test_terminal_modes_are_restored() {
	script=$SCRATCH/modes.sh
	cat >"$script" <<EOF
stty -g >'$SCRATCH/before'
'$COPY' -- true
stty -g >'$SCRATCH/after-tty'
'$COPY' -- true </dev/null
stty -g >'$SCRATCH/after-pipe'
'$COPY' -- sleep 600 &
sleep 5
kill -9 \$!
sleep 2
stty -g >'$SCRATCH/after-kill'
EOF
	term_start "sh '$script'; sleep 600"
	assertTrue "the runs ended" "wait_file '$SCRATCH/after-kill' 90"
	assertEquals "after a run with stdin a terminal" "$(cat "$SCRATCH/before")" "$(cat "$SCRATCH/after-tty")"
	assertEquals "after a run with stdin a pipe" "$(cat "$SCRATCH/before")" "$(cat "$SCRATCH/after-pipe")"
	assertEquals "after boot.sh was SIGKILLed" "$(cat "$SCRATCH/before")" "$(cat "$SCRATCH/after-kill")"
}

test_ctrl_c_reaches_the_guest_command_or_ends_the_run() {
	# stdin a terminal: Ctrl-C is the guest's, its command gets SIGINT
	term_start "'$COPY' -- sh -c 'echo ready; sleep 600'; echo exit=\$? >'$SCRATCH/tty'; sleep 600"
	term_wait ready 60
	assertTrue "started: $(term_screen)" $?
	term_keys C-c
	wait_file "$SCRATCH/tty" 20
	assertTrue "ended: $(term_screen)" $?
	assertEquals "the command's SIGINT status" "exit=130" "$(cat "$SCRATCH/tty")"
	term_stop
	# stdin not a terminal, stdout one: Ctrl-C ends the run with 130
	term_start "'$COPY' -- sh -c 'echo ready; sleep 600' </dev/null; echo exit=\$? >'$SCRATCH/pipe'; sleep 600"
	term_wait ready 60
	assertTrue "started: $(term_screen)" $?
	term_keys C-c
	wait_file "$SCRATCH/pipe" 20
	assertTrue "ended: $(term_screen)" $?
	assertEquals "status" "exit=130" "$(cat "$SCRATCH/pipe")"
	assertEquals "no guest left" "" "$(uml_processes "$XDG_CACHE_HOME")"
}

test_sigkill_of_boot_sh_leaves_no_process_and_no_run_directory() {
	mkdir -p "$SCRATCH/tmp"
	TMPDIR=$SCRATCH/tmp "$COPY" -- sleep 600 </dev/null &
	pid=$!
	sleep 3
	assertNotEquals "the guest runs" "" "$(uml_processes "$XDG_CACHE_HOME")"
	kill -9 $pid
	sleep 5
	assertEquals "no UML process after 5 s" "" "$(uml_processes "$XDG_CACHE_HOME")"
	assertEquals "no run directory" "" "$(ls "$SCRATCH/tmp")"
}

test_a_run_directory_left_behind_is_swept() {
	mkdir -p "$SCRATCH/tmp/umlkit-run.stale1/run"
	: >"$SCRATCH/tmp/umlkit-run.stale1/lock"
	head -c 1M /dev/zero >"$SCRATCH/tmp/umlkit-run.stale1/c0.cow"
	TMPDIR=$SCRATCH/tmp "$COPY" -- true </dev/null
	assertEquals "status" 0 $?
	assertEquals "swept" "" "$(ls "$SCRATCH/tmp")"
}

test_timeout_zero_means_no_limit() {
	assertEquals "ran" "ok" "$("$COPY" --timeout 0 -- sh -c 'sleep 2; echo ok' </dev/null)"
	"$COPY" --timeout 2 -- sleep 600 </dev/null 2>"$SCRATCH/err"
	assertEquals "a real timeout" 124 $?
	assertTrue "says so" "grep -q 'timed out after 2s' '$SCRATCH/err'"
}

# A fake runtime that, if ever run, leaves a mark.
plant_cache() {
	root=$1
	mkdir -p "$root"
	digest=$(sed -n '3s/^# umlkit-digest: //p' "$COPY")
	mkdir -p "$root/$digest"
	printf '#!/bin/sh\ntouch %s/pwned\n' "$SCRATCH" >"$root/$digest/umlkit-run"
	chmod 755 "$root/$digest/umlkit-run"
}

test_a_cache_made_by_another_user_is_passed_over() {
	need_root "plant a cache as another uid"
	mkdir -p "$SCRATCH/tmp"
	plant_cache "$SCRATCH/tmp/umlkit-cache-0"
	chown -R 65534:65534 "$SCRATCH/tmp/umlkit-cache-0"
	env -u HOME -u XDG_CACHE_HOME TMPDIR="$SCRATCH/tmp" "$COPY" -- true </dev/null 2>"$SCRATCH/err"
	assertEquals "runs: $(cat "$SCRATCH/err")" 0 $?
	assertFalse "the planted program did not run" "[ -e '$SCRATCH/pwned' ]"
	assertTrue "its own cache, the next name" "[ -O '$SCRATCH/tmp/umlkit-cache-0.1' ]"
	rm -rf "$SCRATCH/tmp/umlkit-cache-0" "$SCRATCH/tmp/umlkit-cache-0.1"
	# a home cache that is someone else's stays an error: the user can fix it
	mkdir -p "$SCRATCH/xdg3/umlkit"
	chown 65534:65534 "$SCRATCH/xdg3/umlkit"
	XDG_CACHE_HOME=$SCRATCH/xdg3 "$COPY" -- true </dev/null 2>"$SCRATCH/err"
	assertEquals "status" 121 $?
	assertTrue "says why: $(cat "$SCRATCH/err")" "grep -q 'is not yours' '$SCRATCH/err'"
}

test_a_symlinked_or_shared_cache_is_refused() {
	mkdir -p "$SCRATCH/elsewhere" "$SCRATCH/xdg"
	ln -s "$SCRATCH/elsewhere" "$SCRATCH/xdg/umlkit"
	XDG_CACHE_HOME=$SCRATCH/xdg "$COPY" -- true </dev/null 2>"$SCRATCH/err"
	assertEquals "symlink" 121 $?
	mkdir -p "$SCRATCH/xdg2/umlkit"
	chmod 0777 "$SCRATCH/xdg2/umlkit"
	XDG_CACHE_HOME=$SCRATCH/xdg2 "$COPY" -- true </dev/null 2>"$SCRATCH/err"
	assertEquals "writable by others" 121 $?
	assertTrue "says how to fix: $(cat "$SCRATCH/err")" "grep -q 'chmod go-w' '$SCRATCH/err'"
}

test_a_tampered_cache_is_unpacked_again() {
	"$COPY" -- true </dev/null || fail "first run"
	entry=$(ls -d "$XDG_CACHE_HOME"/umlkit/*/ | head -n 1)
	printf 'garbage' | dd of="$entry/linux" bs=1 seek=1000 conv=notrunc 2>/dev/null
	"$COPY" --check >"$SCRATCH/out" 2>"$SCRATCH/err"
	assertEquals "--check status" 0 $?
	assertTrue "--check finds it: $(cat "$SCRATCH/err")" "grep -q 'linux differs from the bundle' '$SCRATCH/err'"
	"$COPY" -- true </dev/null || fail "run after --check"
	printf 'garbage' | dd of="$entry/rootfs.ext2" bs=1 seek=2000 conv=notrunc 2>/dev/null
	assertEquals "a run after tampering" "ok" "$("$COPY" -- echo ok </dev/null)"
	"$COPY" --extract "$SCRATCH/x" >/dev/null
	assertTrue "the cached image is the bundled one again" \
		"cmp '$SCRATCH/x/rootfs.ext2' '$CHECK_O/images/rootfs.ext2'"
}

test_sixteen_cold_concurrent_runs_leave_one_copy() {
	cold=$SCRATCH/cold
	i=0
	while [ $i -lt 16 ]; do
		XDG_CACHE_HOME=$cold "$COPY" --timeout 120 -- echo run$i </dev/null >"$SCRATCH/c$i" 2>&1 &
		eval "pid$i=\$!"
		i=$((i + 1))
	done
	i=0
	while [ $i -lt 16 ]; do
		eval "wait \$pid$i"
		assertEquals "run $i" 0 $?
		assertEquals "run $i output" "run$i" "$(cat "$SCRATCH/c$i")"
		i=$((i + 1))
	done
	assertEquals "one entry in the cache: $(ls -A "$cold/umlkit")" 1 "$(ls -A "$cold/umlkit" | wc -l)"
	entry=$(ls -d "$cold"/umlkit/*/)
	assertEquals "no copy inside it" "" "$(find "$entry" -mindepth 1 -type d)"
}

test_cache_listing_and_clearing() {
	"$COPY" -- true </dev/null
	"$COPY" --cache >"$SCRATCH/list"
	assertEquals "status" 0 $?
	assertTrue "lists the entry: $(cat "$SCRATCH/list")" "grep -q 'MiB' '$SCRATCH/list'"
	mkdir -p "$XDG_CACHE_HOME/umlkit/$(printf '%064d' 0)"
	: >"$XDG_CACHE_HOME/umlkit/$(printf '%064d' 0)/.stamp"
	touch -d '40 days ago' "$XDG_CACHE_HOME/umlkit/$(printf '%064d' 0)"
	"$COPY" -- true </dev/null
	assertFalse "an entry unused for 40 days is evicted" "[ -d '$XDG_CACHE_HOME/umlkit/$(printf '%064d' 0)' ]"
	"$COPY" --cache-clear 2>"$SCRATCH/err"
	assertEquals "cleared" "" "$(ls -A "$XDG_CACHE_HOME/umlkit")"
}

test_a_cut_bundle_exits_120() {
	size=$(wc -c <"$COPY")
	# line 2 sets the trap that makes any cut from byte 42 on exit 120
	for cut in 42 50 100 500 2000 5000 $((size / 2)) $((size - 1)); do
		head -c $cut "$COPY" >"$SCRATCH/cut.sh"
		sh "$SCRATCH/cut.sh" -- true </dev/null 2>"$SCRATCH/err"
		assertEquals "cut at $cut bytes: $(cat "$SCRATCH/err")" 120 $?
	done
}

test_a_full_tmpdir_is_a_clear_121() {
	if ! unshare -rm true 2>/dev/null; then
		startSkipping
		echo "SKIP: needs a mount namespace (unshare -rm) for a tiny tmpfs"
	fi
	mkdir -p "$SCRATCH/tiny"
	# shellcheck disable=SC2016
	unshare -rm sh -c 'mount -t tmpfs -o size=4M tmpfs "$1" && TMPDIR=$1 "$2" -- true' sh \
		"$SCRATCH/tiny" "$COPY" </dev/null 2>"$SCRATCH/err"
	assertEquals "status" 121 $?
	assertTrue "names the directory: $(cat "$SCRATCH/err")" "grep -q 'MiB free' '$SCRATCH/err'"
	head -c 50M /dev/zero >"$SCRATCH/big"
	# shellcheck disable=SC2016
	unshare -rm sh -c 'mount -t tmpfs -o size=40M tmpfs "$1" && TMPDIR=$1 "$2" -- wc -c <"$3"' sh \
		"$SCRATCH/tiny" "$COPY" "$SCRATCH/big" 2>"$SCRATCH/err"
	assertEquals "stdin that does not fit" 121 $?
	assertTrue "says so: $(cat "$SCRATCH/err")" "grep -q 'standard input' '$SCRATCH/err'"
	# room to start, not to run: the guest fills its TMPDIR
	# shellcheck disable=SC2016
	unshare -rm sh -c 'mount -t tmpfs -o size=40M tmpfs "$1" && TMPDIR=$1 "$2" --mem 256M \
		-- dd if=/dev/zero of=/tmp/fill bs=1M count=200' sh "$SCRATCH/tiny" "$COPY" </dev/null 2>"$SCRATCH/err"
	assertEquals "a TMPDIR that fills up" 121 $?
	assertTrue "says so: $(cat "$SCRATCH/err")" "grep -q 'ran out of space' '$SCRATCH/err'"
}

test_spaces_in_home_and_cache_paths() {
	mkdir -p "$SCRATCH/my home"
	out=$(env -u XDG_CACHE_HOME HOME="$SCRATCH/my home" "$COPY" -- echo ok </dev/null 2>"$SCRATCH/err")
	assertEquals "status: $(cat "$SCRATCH/err")" 0 $?
	assertEquals "output" "ok" "$out"
	mkdir -p "$SCRATCH/a dir"
	echo shared >"$SCRATCH/a dir/f"
	"$MKIMAGE" -t ext4 -s 8M -o "$SCRATCH/a dir/disk.ext4" || fail "mkimage"
	out=$("$COPY" --share "$SCRATCH/a dir:/mnt/s" --disk "$SCRATCH/a dir/disk.ext4" --persist "$SCRATCH/a dir/p" \
		-- sh -c 'cat /mnt/s/f; test -b /dev/ubdc && echo disk' </dev/null 2>"$SCRATCH/err")
	assertEquals "share, disk and persist with spaces: $(cat "$SCRATCH/err")" "shared${nl}disk" "$out"
}

nl='
'

test_bad_options_get_125_and_one_line() {
	# shellcheck disable=SC2089 # the quote is meant for boot.sh
	for args in "--mem 0" "--mem 1" "--mem 99999G" "--mem lots" "--disk /nonexistent" "--disk $SCRATCH" \
		"--persist /dev/null/x" "--share /nonexistent" "--timeout -1" "--append a\"b" "--bogus" \
		"--cpu 99999" "--cpu -1" "--cpu x"; do
		# shellcheck disable=SC2090 # the quote is meant for boot.sh
		# shellcheck disable=SC2086 # the options are words
		"$COPY" $args -- true </dev/null 2>"$SCRATCH/err"
		assertEquals "$args" 125 $?
		assertEquals "$args: one line: $(cat "$SCRATCH/err")" 1 "$(wc -l <"$SCRATCH/err")"
	done
}

# the host CPUs the kernel process of the run with $1 in its command may use
guest_cpus() {
	pid=$(ps -eo pid=,args= | grep "$XDG_CACHE_HOME/umlkit/.*/linux" | grep -v grep | awk '{ print $1 }' | head -n 1)
	sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "/proc/$pid/status" 2>/dev/null
}

test_the_guest_runs_on_one_cpu_unless_told() {
	[ "$(nproc)" -gt 1 ] || { echo "SKIP: one CPU: nothing to pin"; startSkipping; return; }
	"$COPY" -- sleep 3 </dev/null &
	sleep 2
	cpus=$(guest_cpus)
	assertTrue "one CPU by default: '$cpus'" "echo '$cpus' | grep -qx '[0-9][0-9]*'"
	wait
	"$COPY" --cpu all -- sleep 3 </dev/null &
	sleep 2
	assertEquals "all CPUs with --cpu all" "$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)" "$(guest_cpus)"
	wait
	"$COPY" --cpu 1 -- sleep 3 </dev/null &
	sleep 2
	assertEquals "--cpu 1" "1" "$(guest_cpus)"
	wait
}

# "CPU IDLE TOTAL" (clock ticks since boot) for every CPU, on one line
idle_ticks() {
	awk '$1 ~ /^cpu[0-9]+$/ { t = 0; for (i = 2; i <= NF; i++) t += $i; printf "%s %d %d ", substr($1, 4), $5 + $6, t }' /proc/stat
}

# --cpu auto (the default) moves a guest whose CPU another program keeps
# busy, every process of it; --cpu N stays where it was told
test_a_pinned_guest_leaves_a_busy_cpu() {
	[ "$(nproc)" -gt 1 ] || { echo "SKIP: one CPU: nowhere to move"; startSkipping; return; }
	for how in auto 0; do
		set -- --cpu "$how"
		[ "$how" = auto ] && set --
		"$COPY" "$@" -- sh -c 'end=$(($(date +%s) + 10)); while [ $(date +%s) -lt $end ]; do :; done' </dev/null &
		guest=$!
		sleep 1
		first=$(guest_cpus)
		# how idle the other CPUs are, the guest on its own one
		before=$(idle_ticks)
		sleep 1
		idlest=$(idle_ticks | awk -v first="$first" -v before="$before" '
			BEGIN { n = split(before, b, " "); for (i = 1; i <= n; i += 3) { bi[b[i]] = b[i + 1]; bt[b[i]] = b[i + 2] } }
			{ for (i = 1; i <= NF; i += 3) if ($i != first && $(i + 2) > bt[$i]) {
				f = ($(i + 1) - bi[$i]) / ($(i + 2) - bt[$i]); if (f > best) best = f } }
			END { printf "%d", best * 100 }')
		# a busy loop of the host's on that CPU, for 7 s: the guard
		# notes a busy CPU, reads the run delay, then moves (3 s or less)
		taskset -c "$first" sh -c 'end=$(($(date +%s) + 7)); while [ $(date +%s) -lt $end ]; do :; done' &
		hog=$!
		sleep 5
		now=$(guest_cpus)
		pid=$(ps -eo pid=,args= | grep "$XDG_CACHE_HOME/umlkit/.*/linux" | grep -v grep | awk '{ print $1 }' | head -n 1)
		others=$(ps -eo pid=,sess= | awk -v s="$pid" '$2 == s { print $1 }' | while read -r p; do
			sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "/proc/$p/status"; done | sort -u | tr '\n' ' ')
		wait $hog
		wait $guest
		if [ "$how" = auto ] && [ "$idlest" -lt 60 ]; then
			echo "SKIP: auto: no other CPU was idle (the idlest: ${idlest}%): nowhere to move"
			startSkipping
		elif [ "$how" = auto ]; then
			assertNotSame "auto: moved off CPU $first" "$first" "$now"
			assertEquals "auto: every process of the guest moved" "$now " "$others"
		else
			assertEquals "--cpu 0 stays" "0 0" "$first $now"
		fi
	done
}

test_options_that_used_to_misbehave() {
	out=$("$COPY" --append 'umlkit.test="a b"' -- cat /proc/cmdline </dev/null)
	assertTrue "quoted --append stays one parameter: $out" "echo '$out' | grep -q 'umlkit.test=\"a b\"'"
	mkdir -p "$SCRATCH/x:y"
	echo colon >"$SCRATCH/x:y/f"
	assertEquals "a host path with ':'" "colon" "$("$COPY" --share "$SCRATCH/x:y:/mnt/c" -- cat /mnt/c/f </dev/null)"
	assertEquals "a missing guest path is made" "colon" \
		"$("$COPY" --share "$SCRATCH/x:y:/deep/new/dir" -- cat /deep/new/dir/f </dev/null)"
	assertEquals "the configured hostname in command mode" "umlkit" "$("$COPY" -- hostname </dev/null)"
}

test_no_host_noise_on_the_commands_stderr() {
	mkdir -p "$SCRATCH/disk-tmp"	# on disk, not tmpfs: UML warns about it
	out=$(TMPDIR=$SCRATCH/disk-tmp "$COPY" -- echo ok </dev/null 2>"$SCRATCH/err")
	assertEquals "output" "ok" "$out"
	assertEquals "stderr" "" "$(stderr_of "$SCRATCH/err")"
}

test_a_host_without_a_c_library_runs_the_guest() {
	# the kernel is static (kernel/umlkit.config): a root holding nothing
	# but busybox-static runs the bundle as any host does
	if ! bare_root "$SCRATCH/bare"; then
		startSkipping
		echo "SKIP: needs a mount namespace (unshare -rm) for the chroot"
	fi
	cp "$COPY" "$SCRATCH/bare/boot.sh"
	out=$(in_bare_root "$SCRATCH/bare" /bin/sh /boot.sh -- sh -c 'echo "exact  output"; exit 3' </dev/null 2>"$SCRATCH/err")
	assertEquals "the command's status: $(cat "$SCRATCH/err")" 3 $?
	assertEquals "its stdout" "exact  output" "$out"
	assertEquals "nothing on stderr" "" "$(stderr_of "$SCRATCH/err")"
	in_bare_root "$SCRATCH/bare" /bin/sh /boot.sh --persist /keep -- sh -c 'echo kept >/root/mark' </dev/null 2>"$SCRATCH/err"
	assertEquals "--persist: $(cat "$SCRATCH/err")" 0 $?
	out=$(in_bare_root "$SCRATCH/bare" /bin/sh /boot.sh --persist /keep -- cat /root/mark </dev/null 2>&1)
	assertEquals "--persist keeps the writes" "kept" "$out"
}

test_a_read_only_noexec_home_with_tmpdir_elsewhere() {
	if ! unshare -rm true 2>/dev/null; then
		startSkipping
		echo "SKIP: needs a mount namespace (unshare -rm) for the mounts"
	fi
	# a TMPDIR of its own: other tests plant caches in $SCRATCH/tmp
	mkdir -p "$SCRATCH/home" "$SCRATCH/ro-tmp"
	# the bundle in a home mounted read-only and noexec: run with sh; the
	# cache cannot be in the home, so it goes to TMPDIR
	# shellcheck disable=SC2016
	# (a bind mount remounted: an ordinary user may not remount the tmpfs)
	out=$(unshare -rm sh -c 'mount -t tmpfs tmpfs "$1" && cp "$2" "$1/boot.sh" && mount --bind "$1" "$1" &&
		mount -o remount,bind,ro,noexec "$1" && HOME=$1 XDG_CACHE_HOME= TMPDIR=$3 sh "$1/boot.sh" -- echo ran' \
		sh "$SCRATCH/home" "$COPY" "$SCRATCH/ro-tmp" </dev/null 2>"$SCRATCH/err")
	assertEquals "ran: $(cat "$SCRATCH/err")" "ran" "$out"
	assertTrue "the cache went to TMPDIR" "ls -d '$SCRATCH/ro-tmp'/umlkit-cache-*"
}

test_a_crash_shows_the_end_of_the_kernel_log() {
	"$COPY" --append init=/nonexistent -- true </dev/null 2>"$SCRATCH/err"
	assertEquals "status" 122 $?
	assertTrue "the panic line: $(cat "$SCRATCH/err")" "grep -q 'Kernel panic\|panic' '$SCRATCH/err'"
}

. shunit2
