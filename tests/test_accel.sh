#!/bin/sh
# Build acceleration, for real: a kernel built through ccache (cold, then
# warm after removing the kernel's objects) and distcc (a distccd started
# here, on 127.0.0.1 only) is the same bytes as the tested one, distccd's
# log shows the compiles went through it, and the warm build hit ccache.
# (Two kernel builds, both without the kernel cache.)
. "$TOPDIR/tests/lib.sh"

port=$((30000 + $$ % 20000))

oneTimeSetUp() {
	# distccd started as root runs as the user "distcc"
	: >"$SCRATCH/distccd.log"
	chmod 0666 "$SCRATCH/distccd.log"
	distccd --daemon --no-detach --allow 127.0.0.1 --listen 127.0.0.1 --port $port --jobs 2 \
		--log-file "$SCRATCH/distccd.log" --log-level info &
	distccd_pid=$!
}

oneTimeTearDown() {
	kill "$distccd_pid" 2>/dev/null
	pkill -f "distccd .*--port $port" 2>/dev/null || :
}

# make O=$1 kernel without the kernel cache
private_kernel_make() {
	env KERNEL_CACHE_DIR= make -C "$TOPDIR" --no-print-directory O="$1" kernel >"$SCRATCH/make.log" 2>&1
}

accel_config() {
	umlkit_make O="$1" defconfig || fail "defconfig"
	cat >>"$1/.config" <<CONFIG
UMLKIT_CCACHE=y
UMLKIT_CCACHE_DIR="$SCRATCH/ccache"
UMLKIT_DISTCC=y
UMLKIT_DISTCC_HOSTS="127.0.0.1:$port/2"
UMLKIT_DISTCC_JOBS=2
CONFIG
	umlkit_make O="$1" olddefconfig || fail "olddefconfig"
}

test_ccache_and_distcc_give_the_same_kernel() {
	o=$SCRATCH/accel
	accel_config "$o"
	private_kernel_make "$o"
	assertEquals "cold build: $(tail -5 "$SCRATCH/make.log")" 0 $?
	assertTrue "the same kernel" "cmp -s '$o/images/linux' '$KERNEL'"
	compiled=$(grep -c 'COMPILE_OK' "$SCRATCH/distccd.log" || :)
	assertTrue "compiles went through distccd ($compiled)" "[ '$compiled' -gt 500 ]"
	CCACHE_DIR=$SCRATCH/ccache ccache -z >/dev/null
	rm -rf "$o/build/linux-obj" "$o/images/linux"
	private_kernel_make "$o"
	assertEquals "warm build: $(tail -5 "$SCRATCH/make.log")" 0 $?
	assertTrue "the same kernel again" "cmp -s '$o/images/linux' '$KERNEL'"
	hits=$(CCACHE_DIR=$SCRATCH/ccache ccache --print-stats | awk '$1 ~ /^(direct|preprocessed)_cache_hit$/ { n += $2 } END { print n + 0 }')
	assertTrue "the warm build hit ccache ($hits)" "[ '$hits' -gt 500 ]"
}

. shunit2
