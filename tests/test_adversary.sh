#!/bin/sh
# The second adversarial round (docs/security.md): what a hostile guest,
# another user, a file swapped under boot.sh or a hostile configuration
# string could do, each case run the way it was found.
. "$TOPDIR/tests/lib.sh"

COPY=$SCRATCH/boot.sh

oneTimeSetUp() {
	cp "$BUNDLE" "$COPY"
	mkdir -p "$SCRATCH/tmp"
}

# --- the cache: the runtime touches only what boot.sh made ---

test_cache_clear_leaves_what_it_did_not_make() {
	cache=$XDG_CACHE_HOME/umlkit
	"$COPY" -- true </dev/null || fail "first run"
	# the build's kernel cache shares the directory (~/.cache/umlkit/kernels)
	mkdir -p "$cache/kernels/0123abcd" "$cache/notes"
	echo "a 17-minute kernel build" >"$cache/kernels/0123abcd/linux"
	# an unpack killed an hour ago: boot.sh's own leftover
	leftover=$cache/$(printf '%064d' 7).tmp.4242
	mkdir -p "$leftover" && touch -d '2 hours ago' "$leftover"
	"$COPY" --cache >"$SCRATCH/list"
	assertFalse "--cache does not list the kernels: $(cat "$SCRATCH/list")" "grep -q kernels '$SCRATCH/list'"
	assertTrue "it lists the leftover" "grep -q 'interrupted' '$SCRATCH/list'"
	"$COPY" --cache-clear 2>"$SCRATCH/err"
	assertEquals "the kernel cache is kept" "a 17-minute kernel build" "$(cat "$cache/kernels/0123abcd/linux")"
	assertTrue "so is another directory" "[ -d '$cache/notes' ]"
	assertFalse "the leftover went" "[ -d '$leftover' ]"
	assertEquals "and every entry" "" "$(ls -d "$cache"/????????????????????????????????????????????????????????????????/ 2>/dev/null)"
}

# A new digest for the bundle in $1, same payload (one comment byte changed):
# another build of the same configuration, as far as the cache can tell.
rebuilt() {
	sed -i "6s/^# umlkit bundle: a /# umlkit bundle: $2 /" "$1"
	digest=$( { head -n 2 "$1"; tail -n +5 "$1"; } | sha256sum | cut -d' ' -f1)
	sed -i "3s/^# umlkit-digest: .*/# umlkit-digest: $digest/" "$1"
}

test_the_cache_stays_sparse_and_bounded() {
	cache=$SCRATCH/bounded
	XDG_CACHE_HOME=$cache "$COPY" -- true </dev/null || fail "first run"
	used=$(du -sk "$cache/umlkit" | cut -f1)
	# the 100 MiB data disk is nearly all zeros
	assertTrue "images unpack sparse: ${used} KiB" "[ $used -lt 40000 ]"
	for k in b c d e f; do
		cp "$COPY" "$SCRATCH/r.sh"
		rebuilt "$SCRATCH/r.sh" "$k"
		XDG_CACHE_HOME=$cache "$SCRATCH/r.sh" -- true </dev/null || fail "build $k"
		sleep 1
	done
	n=$(ls -d "$cache"/umlkit/*/ | wc -l)
	assertEquals "three entries of one configuration are kept" 3 "$n"
	# all entries together: room for one and a half; the new one stays
	rebuilt "$SCRATCH/r.sh" g
	UMLKIT_CACHE_MAX=$((used * 3 / 2))K XDG_CACHE_HOME=$cache "$SCRATCH/r.sh" -- true </dev/null || fail "build g"
	n=$(ls -d "$cache"/umlkit/*/ | wc -l)
	assertEquals "UMLKIT_CACHE_MAX: the entries used longest ago went" 1 "$n"
	assertTrue "the one kept is the run's" "[ -d '$cache/umlkit/$digest' ]"
	UMLKIT_CACHE_MAX=lots XDG_CACHE_HOME=$cache "$SCRATCH/r.sh" -- true </dev/null 2>"$SCRATCH/err" || fail "a bad cap stops no run"
	assertEquals "a bad cap is said" "r.sh: note: UMLKIT_CACHE_MAX='lots' is not a size such as 2G: the cache is capped at 8 GiB" \
		"$(cat "$SCRATCH/err")"
}

# --- one read of the bundle: what --verify checked is what runs ---

test_a_bundle_swapped_during_the_first_run_never_runs_unsigned_code() {
	keys=$SCRATCH/keys
	mkdir -p "$keys" "$SCRATCH/race"
	ssh-keygen -q -t ed25519 -N '' -C alice -f "$keys/alice"
	echo "alice@umlkit $(cat "$keys/alice.pub")" >"$keys/allowed"
	cp "$COPY" "$SCRATCH/race/good"
	sh "$TOPDIR/boot/sign.sh" "$SCRATCH/race/good" "$keys/alice" >/dev/null
	# the attacker's file: alice's header, signature and digest, over the
	# payload of another build (its guest says "mallory")
	o=$SCRATCH/mallory
	prebuilt_config "$o" 'UMLKIT_HOSTNAME="mallory"'
	umlkit_make O="$o" || fail "the other build: $(tail -3 "$SCRATCH/make.log")"
	offset() { sed -n 's/^payload_offset=\([0-9]*\).*/\1/p' "$1" | head -n 1; }
	{ head -c "$(offset "$SCRATCH/race/good")" "$SCRATCH/race/good"
	  tail -c +$(($(offset "$o/images/boot.sh") + 1)) "$o/images/boot.sh"; } >"$SCRATCH/race/bad"
	chmod 755 "$SCRATCH/race/bad"
	# a directory the attacker can write: the file renamed back and forth
	(
		cd "$SCRATCH/race" || exit 1
		while [ -e good ]; do
			ln -f good next 2>/dev/null && mv -f next boot.sh 2>/dev/null
			ln -f bad next 2>/dev/null && mv -f next boot.sh 2>/dev/null
		done
	) &
	swapper=$!
	ran=0 bad=0
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		out=$(XDG_CACHE_HOME=$SCRATCH/race-cache.$i sh "$SCRATCH/race/boot.sh" --verify "$keys/allowed" \
			-- cat /etc/hostname </dev/null 2>/dev/null)
		case $out in
		umlkit) ran=$((ran + 1)) ;;
		mallory) bad=$((bad + 1)) ;;
		esac
		rm -rf "$SCRATCH/race-cache.$i"
	done
	rm -f "$SCRATCH/race/good"
	wait $swapper
	assertEquals "the unsigned payload never ran ($ran genuine runs)" 0 "$bad"
	assertTrue "some runs got the genuine file" "[ $ran -gt 0 ]"
}

# --- what a guest can leave on the host through a :rw share ---

test_no_setid_file_or_device_node_through_a_rw_share() {
	share=$SCRATCH/share
	mkdir -p "$share"
	"$COPY" --share "$share:/mnt/s:rw" -- sh -c '
		echo x >/mnt/s/suid; echo x >/mnt/s/sgid
		chmod 4755 /mnt/s/suid; echo "chmod u+s: $?"
		chmod 2755 /mnt/s/sgid; echo "chmod g+s: $?"
		mknod /mnt/s/mem c 1 1; echo "mknod c: $?"
		mknod /mnt/s/disk b 7 0; echo "mknod b: $?"
		mkfifo /mnt/s/fifo; echo "mkfifo: $?"
		chmod 0640 /mnt/s/suid; echo "chmod 0640: $?"' </dev/null >"$SCRATCH/out" 2>&1
	assertEquals "each refused, plain modes and FIFOs kept: $(cat "$SCRATCH/out")" \
		"$(printf 'chmod u+s: 1\nchmod g+s: 1\nmknod c: 1\nmknod b: 1\nmkfifo: 0\nchmod 0640: 0')" \
		"$(grep ': [0-9]*$' "$SCRATCH/out")"
	assertEquals "no set-id file on the host" "" "$(find "$share" -perm /6000)"
	assertEquals "no device node" "" "$(find "$share" -type b -o -type c)"
	assertEquals "the plain chmod landed" 640 "$(stat -c %a "$share/suid")"
	# what the filter stops: without the sandbox the same guest succeeds
	rm -rf "$share" && mkdir -p "$share"
	"$COPY" --sandbox off --share "$share:/mnt/s:rw" -- sh -c 'echo x >/mnt/s/f; chmod 4755 /mnt/s/f' </dev/null
	assertEquals "--sandbox off leaves it (the documented way out)" 4755 "$(stat -c %a "$share/f")"
}

# --- the run directory: bounded however the guest writes to it ---

test_disk_limit_counts_subdirectories() {
	TMPDIR=$SCRATCH/tmp "$COPY" --disk-limit 50M -- sh -c \
		'mkdir -p /run/umlkit/a/b && dd if=/dev/zero of=/run/umlkit/a/b/f bs=1M count=120 2>/dev/null; sleep 20' \
		</dev/null 2>"$SCRATCH/err"
	assertEquals "over the limit, two levels down" 123 $?
	assertTrue "says so: $(cat "$SCRATCH/err")" "grep -q 'passed 50M (--disk-limit)' '$SCRATCH/err'"
	assertEquals "nothing left" "" "$(ls "$SCRATCH/tmp")"
}

test_the_run_directory_has_a_default_cap() {
	# memory 64M + images 104M + 256M: about 424M
	TMPDIR=$SCRATCH/tmp "$COPY" -- sh -c \
		'mkdir -p /run/umlkit/fill && dd if=/dev/zero of=/run/umlkit/fill/f bs=1M count=600 2>/dev/null; sleep 20' \
		</dev/null 2>"$SCRATCH/err"
	assertEquals "over the default cap" 123 $?
	assertTrue "says which limit and how to raise it: $(cat "$SCRATCH/err")" \
		"grep -q 'the default limit.*--disk-limit SIZE' '$SCRATCH/err'"
	TMPDIR=$SCRATCH/tmp "$COPY" --disk-limit 0 -- sh -c \
		'dd if=/dev/zero of=/run/umlkit/f bs=1M count=600 2>/dev/null; rm /run/umlkit/f' </dev/null
	assertEquals "--disk-limit 0: none" 0 $?
}

test_a_huge_status_file_is_read_only_so_far() {
	# the guest leaves a 1 GiB sparse status on the host and hides the real
	# one: the supervisor reads 4 KiB of it, under a 400 MiB address space
	prlimit --as=$((400 << 20)) "$COPY" -- sh -c \
		'dd if=/dev/zero of=/run/umlkit/status bs=1 count=0 seek=1G 2>/dev/null; mount -t tmpfs none /run/umlkit' \
		</dev/null 2>"$SCRATCH/err"
	code=$?
	assertFalse "no out of memory: $(cat "$SCRATCH/err")" "grep -q 'out of memory' '$SCRATCH/err'"
	assertNotEquals "not the runtime's own failure" 121 "$code"
}

# --- shell text: no input string reaches a shell unquoted ---

test_a_hostile_hostname_setting_is_refused_with_its_name() {
	o=$SCRATCH/cfg
	umlkit_make O="$o" defconfig
	sed -i "s|^UMLKIT_HOSTNAME=.*|UMLKIT_HOSTNAME=\"x'\`touch $SCRATCH/pwned1\`'y\"|" "$o/.config"
	umlkit_make O="$o" mkimage
	assertNotEquals "make fails" 0 $?
	assertTrue "naming the option: $(tail -2 "$SCRATCH/make.log")" "grep -q 'UMLKIT_HOSTNAME holds a host name' '$SCRATCH/make.log'"
	sed -i "s|^UMLKIT_HOSTNAME=.*|UMLKIT_HOSTNAME=\"\$(shell touch $SCRATCH/pwned2)\"|" "$o/.config"
	umlkit_make O="$o" mkimage
	assertNotEquals "make fails" 0 $?
	assertFalse "nothing ran" "[ -e '$SCRATCH/pwned1' ] || [ -e '$SCRATCH/pwned2' ]"
}

test_a_kernel_command_line_with_quotes_reaches_the_bundle_as_written() {
	o=$SCRATCH/cmdline
	# as written, and as .config writes it (a quote and a backslash escaped)
	wanted="a#b='\$(touch $SCRATCH/pwned3)' c=\`touch $SCRATCH/pwned4\` d=\\\"e\""
	printf '%s\n' "$wanted" >"$SCRATCH/wanted"
	prebuilt_config "$o" "UMLKIT_BOOT_CMDLINE=\"$(printf '%s' "$wanted" | sed 's/[\\"]/\\&/g')\""
	umlkit_make O="$o"
	assertEquals "builds: $(tail -3 "$SCRATCH/make.log")" 0 $?
	assertFalse "nothing ran" "[ -e '$SCRATCH/pwned3' ] || [ -e '$SCRATCH/pwned4' ]"
	"$o/images/boot.sh" --info | sed -n 's/^cmdline: *//p' >"$SCRATCH/got"
	assertEquals "the command line as written" "root=/dev/ubda rw init=/sbin/umlkit-init $(cat "$SCRATCH/wanted")" \
		"$(cat "$SCRATCH/got")"
	umlkit_make O="$o"
	assertEquals "make after make does nothing" "" "$(grep '>>>' "$SCRATCH/make.log")"
	"$o/images/boot.sh" --extract "$SCRATCH/x" >/dev/null
	sh -n "$SCRATCH/x/run.sh"
	assertEquals "--extract's run.sh parses" 0 $?
	# shellcheck disable=SC2016
	assertTrue "and quotes every word" "grep -qF \"'a#b='\\\\''\" '$SCRATCH/x/run.sh'"
}

# --- exit statuses and names another user cannot take ---

test_a_noexec_cache_falls_back_and_a_full_one_is_121() {
	if ! unshare -rm true 2>/dev/null; then
		startSkipping
		echo "SKIP: needs a mount namespace (unshare -rm) for the mounts"
	fi
	mkdir -p "$SCRATCH/noexec" "$SCRATCH/tmp2"
	# shellcheck disable=SC2016
	out=$(unshare -rm sh -c 'mount -t tmpfs -o noexec tmpfs "$1" && XDG_CACHE_HOME=$1 TMPDIR=$3 "$2" -- echo ran' \
		sh "$SCRATCH/noexec" "$COPY" "$SCRATCH/tmp2" </dev/null 2>"$SCRATCH/err")
	assertEquals "ran: $(cat "$SCRATCH/err")" "ran" "$out"
	assertTrue "says where the cache went: $(cat "$SCRATCH/err")" "grep -q 'noexec' '$SCRATCH/err'"
	# a cache that fills up while unpacking: the host's problem, not a corrupt bundle
	# shellcheck disable=SC2016
	unshare -rm sh -c 'mount -t tmpfs -o size=12M tmpfs "$1" && XDG_CACHE_HOME=$1 "$2" -- true' \
		sh "$SCRATCH/noexec" "$COPY" </dev/null 2>"$SCRATCH/err"
	assertEquals "a full cache: 121" 121 $?
	assertTrue "says so: $(cat "$SCRATCH/err")" "grep -q 'disk full' '$SCRATCH/err'"
}

test_names_taken_in_tmp_by_another_user_are_passed_over() {
	need_root "make a directory as one uid that another uid expects"
	[ "$(id -u)" = 0 ] || return 0
	for name in umlkit-switches-65534 umlkit-cache-65534; do
		rm -rf "/tmp/$name" "/tmp/$name.1"
		mkdir -m 0755 "/tmp/$name"
	done
	chmod -R a+rX "$SCRATCH" && chmod a+rx "$COPY"
	# uid 65534, no cache home and no XDG_RUNTIME_DIR: both in /tmp
	out=$(setpriv --reuid 65534 --regid 65534 --clear-groups env -u XDG_RUNTIME_DIR HOME=/nonexistent \
		XDG_CACHE_HOME= TMPDIR=/tmp "$COPY" --switch s1 --ip 10.9.0.1/24 -- echo ran </dev/null 2>"$SCRATCH/err")
	assertEquals "ran: $(cat "$SCRATCH/err")" "ran" "$out"
	assertEquals "the cache took the next name" 65534 "$(stat -c %u /tmp/umlkit-cache-65534.1)"
	assertEquals "so did the switches" 65534 "$(stat -c %u /tmp/umlkit-switches-65534.1)"
	rm -rf /tmp/umlkit-switches-65534 /tmp/umlkit-switches-65534.1 /tmp/umlkit-cache-65534 /tmp/umlkit-cache-65534.1
}

test_sigkill_during_the_first_unpack_leaves_no_unpacker() {
	cache=$SCRATCH/killed
	XDG_CACHE_HOME=$cache "$COPY" -- true </dev/null &
	pid=$!
	i=0
	until ls -d "$cache"/umlkit/*.tmp.* >/dev/null 2>&1 || [ $i -gt 500 ]; do
		i=$((i + 1))
		sleep 0.01
	done
	kill -KILL $pid
	wait $pid 2>/dev/null
	sleep 2
	assertEquals "no tar or decompressor left" "" "$(ps -eo args= | grep -E '^(tar -xvf|xz -dc)' || :)"
	XDG_CACHE_HOME=$cache "$COPY" -- echo again </dev/null >"$SCRATCH/out"
	assertEquals "the next run unpacks and runs" "again" "$(cat "$SCRATCH/out")"
}

. shunit2
