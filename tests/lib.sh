# Shared by the test suites (sourced before shunit2).
# shellcheck shell=sh

: "${TOPDIR:?run through 'make check'}"
: "${CHECK_O:?run through 'make check'}"
export BUNDLE=$CHECK_O/images/boot.sh
export KERNEL=$CHECK_O/images/linux
MKIMAGE=${MKIMAGE:-$CHECK_O/build/host/mkimage}
export LC_ALL=C SHUNIT_COLOR=none
# every suite gets its own scratch space; tests/run.sh makes it and removes
# it when the suite ends, however it ends (shunit2 takes the EXIT trap)
SCRATCH=${UMLKIT_TEST_SCRATCH:-$(mktemp -d "${TMPDIR:-/tmp}/umlkit-test.XXXXXX")}
chmod 0755 "$SCRATCH"
# runs of boot.sh use a private cache, so tests see first runs too
export XDG_CACHE_HOME=$SCRATCH/cache

. "$TOPDIR/tests/listing.sh"

# umlkit processes still running (UML kernels from our bundles, by path)
uml_processes() {
	ps -eo pid=,args= | grep -F "$1" | grep -v grep || :
}

# Tests that need a second uid (root to switch to it) skip when not root,
# saying why; tests/run.sh lists them and counts them in its summary.
need_root() {
	[ "$(id -u)" = 0 ] && return 0
	echo "SKIP: needs root to $*"
	startSkipping
}

# run "$@" as nobody, with a home it can write
as_nobody() {
	mkdir -p "$SCRATCH/nobody-home"
	chown 65534:65534 "$SCRATCH/nobody-home"
	setpriv --reuid 65534 --regid 65534 --clear-groups \
		env HOME="$SCRATCH/nobody-home" XDG_CACHE_HOME= TMPDIR=/tmp "$@"
}

# make in the umlkit tree, quietly; output in $SCRATCH/make.log
umlkit_make() {
	make -C "$TOPDIR" --no-print-directory "$@" >"$SCRATCH/make.log" 2>&1
}

# prebuilt_config DIR [KEY=VALUE...]: a configuration in DIR that reuses
# the kernel built for the tests, with the settings given (each replaces
# its key); CONFIG_NAME=NAME_defconfig picks another shipped one.
prebuilt_config() {
	O_DIR=$1
	umlkit_make O="$1" "${CONFIG_NAME:-defconfig}" || fail "defconfig"
	sed -i -e 's/^UMLKIT_KERNEL_FROM_TARBALL=y/# UMLKIT_KERNEL_FROM_TARBALL is not set/' \
		-e '/^UMLKIT_KERNEL_TARBALL=/d' -e '/^UMLKIT_KERNEL_PATCHES=/d' "$1/.config"
	printf 'UMLKIT_KERNEL_PREBUILT=y\nUMLKIT_KERNEL_PREBUILT_PATH="%s"\n' "$KERNEL" >>"$1/.config"
	shift
	for line in "$@"; do
		sed -i "/^${line%%=*}=/d; /^# ${line%%=*} is not set/d" "$O_DIR/.config"
		printf '%s\n' "$line" >>"$O_DIR/.config"
	done
	umlkit_make O="$O_DIR" olddefconfig || fail "olddefconfig"
}

# FILE without the notice boot.sh prints when its watchdog retries a boot
# that hung before init (see boot/run/supervise.c): that retry is boot.sh doing
# its job, so tests that check stderr ignore that notice and nothing else.
stderr_of() {
	grep -v '^boot.sh: the guest kernel hung before starting init; retrying' "$1" || :
}

# A real terminal: a tmux pane, COLSxROWS, running a shell command line.
# Every term_start gets a tmux server of its own, on a socket in the
# suite's scratch space: a fixed socket name can reach the previous test's
# server while it is still exiting (the new session dies with it), or a
# concurrent run's.
TERM_RUNS=0
TERM_SOCKET=
term_start() {
	TERM_RUNS=$((TERM_RUNS + 1))
	TERM_SOCKET=$SCRATCH/tmux.$TERM_RUNS
	tmux -S "$TERM_SOCKET" new-session -d -x "${2:-80}" -y "${3:-24}" -s t "$1"
}
term_screen() {
	tmux -S "$TERM_SOCKET" capture-pane -p -t t 2>/dev/null || :
}
term_keys() {
	tmux -S "$TERM_SOCKET" send-keys -t t "$@"
}
term_stop() {
	[ -z "$TERM_SOCKET" ] || tmux -S "$TERM_SOCKET" kill-server 2>/dev/null || :
	TERM_SOCKET=
}
# term_wait TEXT SECONDS: until the pane shows TEXT
term_wait() {
	i=0
	until term_screen | grep -q -- "$1"; do
		i=$((i + 1))
		[ $i -gt $(($2 * 10)) ] && return 1
		sleep 0.1
	done
}

# bare_root DIR: a root holding nothing but busybox-static (sh, tar, xz,
# sha256sum...): no C library, no /proc; /dev/null is bound in by
# in_bare_root. False when this host has no mount namespaces for us.
bare_root() {
	unshare -rm true 2>/dev/null || return 1
	mkdir -p "$1/bin" "$1/dev" "$1/tmp" "$1/cache"
	cp /bin/busybox "$1/bin/"
	for applet in $(busybox --list); do ln -s busybox "$1/bin/$applet" 2>/dev/null; done
	: >"$1/dev/null"
}

# in_bare_root DIR COMMAND...: COMMAND chrooted into DIR (a user and mount
# namespace: no root needed), with a login-like environment
in_bare_root() {
	dir=$1
	shift
	# shellcheck disable=SC2016
	env -i PATH=/bin HOME=/ XDG_CACHE_HOME=/cache TMPDIR=/tmp unshare -rm sh -c \
		'mount --bind /dev/null "$1/dev/null" && root=$1 && shift && exec "$@"' sh "$dir" \
		"$(PATH=$PATH:/usr/sbin:/sbin command -v chroot)" "$dir" "$@"
}
