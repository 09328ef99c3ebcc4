#!/bin/sh
# Containment: the guest reaches nothing of the host but its run files and
# the shares it is given (hostfs confined, Landlock on the kernel process),
# and the CPU and disk limits end a run with 123 leaving nothing behind.
. "$TOPDIR/tests/lib.sh"

# has TEXT: the last run's output ($SCRATCH/out) holds TEXT
has() { grep -q -- "$1" "$SCRATCH/out"; }

COPY=$SCRATCH/boot.sh

oneTimeSetUp() {
	cp "$BUNDLE" "$COPY"
	mkdir -p "$SCRATCH/secret" "$SCRATCH/share"
	echo "the runner's token" >"$SCRATCH/secret/secret.txt"
	echo in >"$SCRATCH/share/in"
}

# the escape from the issue: mount the host's files through hostfs, read
# one, write one
escape='mkdir -p /tmp/h && mount -t hostfs none /tmp/h -o "$1" && cat /tmp/h/secret.txt; echo pwned >/tmp/h/written-by-guest'

test_the_hostfs_escape_fails() {
	"$COPY" -- sh -c "$escape" sh "$SCRATCH/secret" </dev/null >"$SCRATCH/out" 2>&1
	assertFalse "the secret was not read: $(cat "$SCRATCH/out")" "has token"
	assertFalse "nothing was written" "[ -e '$SCRATCH/secret/written-by-guest' ]"
	# relative to the run directory, climbing out of it: stopped on the host
	"$COPY" -- sh -c "$escape" sh "../../../../../../../../$SCRATCH/secret" </dev/null >"$SCRATCH/out" 2>&1
	assertFalse "not through .. either: $(cat "$SCRATCH/out")" "has token"
	assertTrue "Landlock refused it: $(cat "$SCRATCH/out")" "has 'Permission denied'"
	assertFalse "nothing was written" "[ -e '$SCRATCH/secret/written-by-guest' ]"
}

test_append_cannot_undo_the_confinement() {
	"$COPY" --append 'hostfs=/' -- true </dev/null 2>"$SCRATCH/err"
	assertEquals "refused" 125 $?
	assertTrue "names the flag: $(cat "$SCRATCH/err")" "grep -q -- '--sandbox off' '$SCRATCH/err'"
	# the documented way out does what it says
	"$COPY" --sandbox off -- sh -c "$escape" sh "$SCRATCH/secret" </dev/null >"$SCRATCH/out" 2>&1
	assertTrue "--sandbox off reaches the host: $(cat "$SCRATCH/out")" "has token"
	rm -f "$SCRATCH/secret/written-by-guest"
}

test_shares_are_read_only_unless_rw() {
	"$COPY" --share "$SCRATCH/share:/mnt/s" -- sh -c 'cat /mnt/s/in; echo x >/mnt/s/new' </dev/null >"$SCRATCH/out" 2>&1
	assertTrue "read: $(cat "$SCRATCH/out")" "has '^in$'"
	assertFalse "not written" "[ -e '$SCRATCH/share/new' ]"
	"$COPY" --share "$SCRATCH/share:/mnt/s:rw" -- sh -c 'echo x >/mnt/s/new' </dev/null
	assertEquals "written with :rw" "x" "$(cat "$SCRATCH/share/new")"
}

test_a_symlink_planted_in_a_share_does_not_lead_outside() {
	"$COPY" --share "$SCRATCH/share:/mnt/s:rw" -- sh -c \
		"ln -s '$SCRATCH/secret' /mnt/s/link; ln -s ../secret /mnt/s/rel; cat /mnt/s/link/secret.txt /mnt/s/rel/secret.txt" \
		</dev/null >"$SCRATCH/out" 2>&1
	assertTrue "the links exist on the host" "[ -L '$SCRATCH/share/link' ] && [ -L '$SCRATCH/share/rel' ]"
	assertFalse "and lead nowhere: $(cat "$SCRATCH/out")" "has token"
	# the host side: hostfs opens the path on the host, following the
	# link; Landlock stops the kernel process there
	"$COPY" --share "$SCRATCH/share:/mnt/s" -- sh -c \
		'mkdir /tmp/h && mount -t hostfs none /tmp/h -o /s0/rel && cat /tmp/h/secret.txt' </dev/null >"$SCRATCH/out" 2>&1
	assertFalse "not through hostfs on the host either: $(cat "$SCRATCH/out")" "has token"
	rm -f "$SCRATCH/share/link" "$SCRATCH/share/rel" "$SCRATCH/share/new"
}

test_cpu_and_disk_limits() {
	mkdir -p "$SCRATCH/tmp"
	TMPDIR=$SCRATCH/tmp "$COPY" --cpu-limit 2 -- sh -c 'while :; do :; done' </dev/null 2>"$SCRATCH/err"
	assertEquals "CPU limit" 123 $?
	assertTrue "says so: $(cat "$SCRATCH/err")" "grep -q 'cpu-limit' '$SCRATCH/err'"
	TMPDIR=$SCRATCH/tmp "$COPY" --disk-limit 40M -- sh -c 'dd if=/dev/urandom of=/mnt/data/f bs=1M count=80; sleep 30' \
		</dev/null 2>"$SCRATCH/err"
	assertEquals "disk limit" 123 $?
	assertTrue "says so: $(cat "$SCRATCH/err")" "grep -q 'disk-limit' '$SCRATCH/err'"
	sleep 1
	assertEquals "no run directory left" "" "$(ls "$SCRATCH/tmp")"
	assertEquals "no guest left" "" "$(uml_processes "$XDG_CACHE_HOME")"
	"$COPY" --cpu-limit 60 --disk-limit 200M -- true </dev/null
	assertEquals "within the limits" 0 $?
}

test_strict_sandbox_and_the_hosts_protection() {
	assertEquals "strict runs where Landlock is" "ok" "$("$COPY" --sandbox strict -- echo ok </dev/null)"
	"$COPY" --check >"$SCRATCH/out"
	assertTrue "--check says what the host offers: $(cat "$SCRATCH/out")" "grep -q 'host protection: Landlock ABI' '$SCRATCH/out'"
}

test_confined_as_an_ordinary_user() {
	need_root "switch to uid 65534 (as an ordinary user, every test already runs unprivileged)"
	chmod -R a+rX "$SCRATCH/secret"
	as_nobody "$COPY" -- sh -c "$escape" sh "../../../../../../../../$SCRATCH/secret" </dev/null >"$SCRATCH/out" 2>&1
	assertFalse "uid 65534's guest cannot read it either: $(cat "$SCRATCH/out")" "has token"
}

. shunit2
