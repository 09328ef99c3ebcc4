#!/bin/sh
# Reproducible builds: a second build of the default configuration, from
# another checkout directory into another output directory, with another
# umask, locale and timezone, gives the same bytes for the kernel, every
# image and boot.sh. That build starts a day earlier (SOURCE_DATE_EPOCH) and
# is then rebuilt incrementally at the right time, so a timestamp that an
# incremental build fails to refresh shows up too. (This builds the kernel
# a second time, without the kernel cache, and so also proves that a kernel
# from the cache is the one a private build gives.)
. "$TOPDIR/tests/lib.sh"

test_a_build_elsewhere_and_later_is_bit_identical() {
	epoch=$(git -C "$TOPDIR" log -1 --format=%ct 2>/dev/null || echo 0)
	tree=$SCRATCH/another/checkout
	mkdir -p "$tree"
	(cd "$TOPDIR" && git ls-files -z 2>/dev/null | xargs -0 tar -cf - 2>/dev/null || tar -cf - --exclude=./output .) |
		tar -xf - -C "$tree"
	(
		umask 077
		# a private build (no kernel cache): the cached kernel the other
		# suites used must be the same bytes
		export TZ=America/New_York LC_ALL=C.UTF-8 SOURCE_DATE_EPOCH=$epoch KERNEL_CACHE_DIR=
		make -C "$tree" O="$SCRATCH/out2" defconfig >/dev/null &&
			SOURCE_DATE_EPOCH=$((epoch - 86400)) make -C "$tree" O="$SCRATCH/out2" >"$SCRATCH/build.log" 2>&1 &&
			make -C "$tree" O="$SCRATCH/out2" >"$SCRATCH/build.log" 2>&1
	) || fail "second build: $(tail -5 "$SCRATCH/build.log")"
	for f in linux rootfs.ext2 data.ext4 boot.sh; do
		a=$(sha256sum <"$CHECK_O/images/$f" | cut -d' ' -f1)
		b=$(sha256sum <"$SCRATCH/out2/images/$f" | cut -d' ' -f1)
		assertEquals "$f" "$a" "$b"
	done
	assertEquals "--info prints the same digest" \
		"$("$CHECK_O/images/boot.sh" --info | grep '^digest')" \
		"$("$SCRATCH/out2/images/boot.sh" --info | grep '^digest')"
}

. shunit2
