#!/bin/sh
# The bundle: the article's scenario end to end, command mode (arguments,
# streams, exit statuses), failures (panic, timeout, corruption), isolation
# and cleanup, persistence, extra disks, unprivileged and noexec hosts.
. "$TOPDIR/tests/lib.sh"

# every boot in these tests is bounded: a hang fails one test, not CI
COPY=$SCRATCH/boot.sh
B=$SCRATCH/bounded-boot.sh

oneTimeSetUp() {
	cp "$BUNDLE" "$COPY"
	printf '#!/bin/sh\nexec "%s" --timeout 120 "$@"\n' "$COPY" >"$B"
	chmod +x "$B"
}

test_article_scenario_login_write_poweroff_read_on_host() {
	# interactive: log in at the prompt, write on the data disk, power off
	mkfifo "$SCRATCH/console"
	"$B" --persist "$SCRATCH/state" <"$SCRATCH/console" >"$SCRATCH/out" 2>&1 &
	pid=$!
	exec 7>"$SCRATCH/console"
	i=0
	until grep -q 'login:' "$SCRATCH/out" || [ $i -ge 300 ]; do sleep 0.1; i=$((i + 1)); done
	printf 'root\n' >&7
	sleep 1
	printf 'mkdir -p /mnt/disk && mount /dev/ubdb /mnt/disk\n' >&7
	printf 'echo "This is a UML test!" > /mnt/disk/foo.txt\n' >&7
	printf 'umount /mnt/disk; poweroff\n' >&7
	i=0
	while kill -0 $pid 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	exec 7>&-
	wait $pid
	assertEquals "poweroff returns status 0: $(tail -5 "$SCRATCH/out")" 0 $?
	assertEquals "read back on the host without mounting" "This is a UML test!" \
		"$(debugfs -R 'cat /foo.txt' "$SCRATCH/state/data.ext4" 2>/dev/null)"
}

test_exit_status_is_the_commands() {
	for code in 0 1 7 255; do
		"$B" -- sh -c "exit $code" </dev/null
		assertEquals "exit $code" "$code" $?
	done
}

# Each guest thread keeps its own floating-point control state, and a
# signal handler's change ends when it returns (kernel patch 0006 writes
# the FP registers back only when they changed): tests/fpstate.c, built
# static on the host and run from a share. A kernel that never wrote them
# back printed "threads: mixed" and "signal: leaked".
test_floating_point_state_is_each_threads_own() {
	mkdir -p "$SCRATCH/fp"
	if ! cc -O2 -static -pthread -o "$SCRATCH/fp/fpstate" "$TOPDIR/tests/fpstate.c" -lm 2>"$SCRATCH/cc.err"; then
		echo "SKIP: no static C toolchain on the host: $(head -n 1 "$SCRATCH/cc.err")"
		startSkipping
		return 0
	fi
	assertEquals "threads, signal, exec" "$(printf 'threads: ok\nsignal: ok\nexec: ok')" \
		"$("$B" --share "$SCRATCH/fp:/mnt/fp" -- /mnt/fp/fpstate </dev/null 2>"$SCRATCH/fp.err")"
}

test_arguments_reach_the_guest_exactly() {
	set -- 'two words' '' "it's" 'a "quoted" one' 'new
line' 'ünïcödé' '$HOME' '*'
	i=0
	while [ $i -lt 1000 ]; do set -- "$@" "arg$i"; i=$((i + 1)); done
	printf '%s\0' "$@" >"$SCRATCH/want"
	"$B" -- printf '%s\0' "$@" </dev/null >"$SCRATCH/got"
	assertTrue "1008 arguments byte for byte" "cmp '$SCRATCH/want' '$SCRATCH/got'"
}

test_stdout_is_binary_safe_and_stderr_separate() {
	# the guest's /bin/busybox is the host's (the default recipe copies it)
	"$B" -- cat /bin/busybox </dev/null >"$SCRATCH/bb" 2>"$SCRATCH/err"
	assertTrue "to a file, byte for byte" "cmp -s /bin/busybox '$SCRATCH/bb'"
	"$B" -- cat /bin/busybox </dev/null | cat >"$SCRATCH/bb-pipe"
	assertTrue "through a pipe, byte for byte" "cmp -s /bin/busybox '$SCRATCH/bb-pipe'"
	"$B" -- sh -c 'echo out; echo err >&2' </dev/null >"$SCRATCH/o" 2>"$SCRATCH/e"
	assertEquals "stdout" "out" "$(cat "$SCRATCH/o")"
	assertEquals "stderr" "err" "$(stderr_of "$SCRATCH/e")"
	assertTrue "no CR added" "! grep -q \"$(printf '\r')\" '$SCRATCH/o'"
	assertEquals "nothing else on stderr" "" "$(stderr_of "$SCRATCH/err")"
}

test_stdin_and_its_end_reach_the_command() {
	assertEquals "echo | cat" "hi" "$(echo hi | "$B" -- cat)"
	head -c 100000 /dev/urandom >"$SCRATCH/rand"
	"$B" -- sha256sum <"$SCRATCH/rand" >"$SCRATCH/sum"
	assertEquals "binary stdin" "$(sha256sum <"$SCRATCH/rand" | cut -d' ' -f1)" "$(cut -d' ' -f1 "$SCRATCH/sum")"
}

test_guest_panic_is_reported() {
	"$B" --append init=/bin/false -- true </dev/null 2>"$SCRATCH/err"
	assertEquals "crash exit status" 122 $?
	assertTrue "explains: $(cat "$SCRATCH/err")" "grep -q 'crashed or panicked' '$SCRATCH/err'"
}

test_timeout_stops_the_guest_and_leaves_nothing() {
	mkdir -p "$SCRATCH/tmp"
	TMPDIR=$SCRATCH/tmp "$B" --timeout 3 -- sleep 600 </dev/null 2>"$SCRATCH/err"
	assertEquals "timeout status" 124 $?
	sleep 0.5
	assertEquals "no UML process left" "" "$(uml_processes "$XDG_CACHE_HOME")"
	assertEquals "no run directory left" "" "$(ls "$SCRATCH/tmp")"
}

test_sigterm_to_boot_sh_leaves_nothing() {
	"$B" -- sleep 600 </dev/null &
	pid=$!
	sleep 2
	kill -TERM $pid
	wait $pid
	assertEquals "status after SIGTERM" 143 $?
	sleep 0.5
	assertEquals "no UML process left" "" "$(uml_processes "$XDG_CACHE_HOME")"
}

test_corrupt_bundle_refuses_to_run() {
	cp "$COPY" "$SCRATCH/flipped.sh"
	size=$(wc -c <"$COPY")
	at=$((size / 2))
	byte=$(od -An -tu1 -j $at -N 1 "$COPY" | tr -d ' ')
	printf "\\$(printf '%03o' $(( (byte + 1) % 256 )))" |
		dd of="$SCRATCH/flipped.sh" bs=1 seek=$at conv=notrunc 2>/dev/null
	"$SCRATCH/flipped.sh" -- true </dev/null 2>"$SCRATCH/err"
	assertEquals "flipped byte" 120 $?
	assertTrue "says corrupt" "grep -q 'corrupt or truncated' '$SCRATCH/err'"
	head -c $((size - 1000)) "$COPY" >"$SCRATCH/short.sh"
	sh "$SCRATCH/short.sh" -- true </dev/null 2>/dev/null
	assertEquals "truncated" 120 $?
	"$SCRATCH/flipped.sh" --check >/dev/null 2>&1
	assertEquals "--check" 120 $?
}

test_sixteen_concurrent_runs() {
	i=0
	while [ $i -lt 16 ]; do
		"$B" -- sh -c "echo run$i; exit $i" </dev/null >"$SCRATCH/c$i" 2>"$SCRATCH/e$i" &
		eval "pid$i=\$!"
		i=$((i + 1))
	done
	i=0
	while [ $i -lt 16 ]; do
		eval "wait \$pid$i"
		assertEquals "run $i status" $i $?
		assertEquals "run $i output" "run$i" "$(cat "$SCRATCH/c$i")"
		# anything on stderr would be a leak between runs or a boot log
		assertEquals "run $i stderr" "" "$(stderr_of "$SCRATCH/e$i")"
		i=$((i + 1))
	done
}

test_persist_keeps_writes_between_runs() {
	"$B" --persist "$SCRATCH/p" -- sh -c 'echo kept > /mnt/data/file; echo root > /root/file' </dev/null
	assertEquals "data disk" "kept" "$("$B" --persist "$SCRATCH/p" -- cat /mnt/data/file </dev/null)"
	assertEquals "root disk" "root" "$("$B" --persist "$SCRATCH/p" -- cat /root/file </dev/null)"
	"$B" -- test -e /mnt/data/file </dev/null
	# test's own 1: not a crash (122) or a timeout (124)
	assertEquals "without --persist runs start pristine" 1 $?
}

test_extra_disk_is_written_and_read_back_on_the_host() {
	"$MKIMAGE" -t ext4 -s 8M -o "$SCRATCH/extra.ext4" || fail "mkimage"
	"$B" --disk "$SCRATCH/extra.ext4" -- sh -c 'mount /dev/ubdc /mnt && echo extra > /mnt/f && umount /mnt' </dev/null
	assertEquals "debugfs reads it" "extra" "$(debugfs -R 'cat /f' "$SCRATCH/extra.ext4" 2>/dev/null)"
}

test_share_a_host_directory() {
	mkdir -p "$SCRATCH/shared"
	echo shared >"$SCRATCH/shared/in"
	assertEquals "read" "shared" "$("$B" --share "$SCRATCH/shared:/mnt/host" -- cat /mnt/host/in </dev/null)"
}

test_copied_alone_into_an_empty_directory() {
	mkdir "$SCRATCH/alone"
	cp "$COPY" "$SCRATCH/alone/boot.sh"
	assertEquals "runs" "alone" "$(cd "$SCRATCH/alone" && ./boot.sh -- echo alone </dev/null)"
	assertEquals "nothing written beside it" "boot.sh" "$(ls "$SCRATCH/alone")"
}

test_runs_under_busybox_sh_dash_and_bash() {
	for shell in "busybox sh" dash bash; do
		# shellcheck disable=SC2086 # "busybox sh" is two words
		assertEquals "$shell" "ok" "$($shell "$COPY" --timeout 120 -- echo ok </dev/null)"
	done
}

test_runs_as_unprivileged_user() {
	need_root "switch to uid 65534 (as an ordinary user, every test already runs unprivileged)"
	assertEquals "uid 65534 on the host, root in the guest" "0" \
		"$(as_nobody "$B" -- id -u </dev/null)"
}

test_noexec_tmpdir_falls_back() {
	mkdir -p "$SCRATCH/noexec"
	out=$(unshare -rm sh -c "mount -t tmpfs -o noexec tmpfs '$SCRATCH/noexec' &&
		TMPDIR='$SCRATCH/noexec' '$B' -- echo ran" </dev/null 2>"$SCRATCH/err")
	assertEquals "status" 0 $?
	assertEquals "output" "ran" "$out"
	assertTrue "explains the fallback: $(cat "$SCRATCH/err")" "grep -q 'noexec' '$SCRATCH/err'"
}

test_info_list_check_extract() {
	"$B" --info >"$SCRATCH/info"
	assertTrue "kernel version" "grep -q '^kernel: *Linux 6' '$SCRATCH/info'"
	assertTrue "digest" "grep -q '^digest: *[0-9a-f]\{64\}' '$SCRATCH/info'"
	assertTrue "images with sha256" "grep -q 'rootfs.ext2 .* sha256 [0-9a-f]\{64\}' '$SCRATCH/info'"
	assertTrue "--list" "'$B' --list | grep -q 'rootfs.ext2'"
	assertTrue "--check" "'$B' --check"
	"$B" --extract "$SCRATCH/x" >/dev/null
	assertTrue "extracted kernel and run.sh" "[ -x '$SCRATCH/x/linux' ] && [ -x '$SCRATCH/x/run.sh' ]"
	assertTrue "extracted images are the bundled ones" \
		"cmp '$SCRATCH/x/rootfs.ext2' '$CHECK_O/images/rootfs.ext2'"
}

test_usage_errors() {
	"$B" --bogus 2>"$SCRATCH/err"
	assertEquals "unknown option" 125 $?
	"$B" --timeout x -- true 2>/dev/null
	assertEquals "bad timeout" 125 $?
	assertTrue "--help" "'$B' --help | grep -q -- '--persist DIR'"
}

. shunit2
