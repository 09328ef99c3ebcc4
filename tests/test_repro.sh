#!/bin/sh
# Reproducible builds: a second clean build of the default configuration,
# from another checkout directory into another output directory, with
# another umask, locale and timezone, gives the same bytes for the kernel,
# every image and boot.sh. (This builds the kernel a second time.)
. "$TOPDIR/tests/lib.sh"

test_two_clean_builds_are_bit_identical() {
	epoch=$(git -C "$TOPDIR" log -1 --format=%ct 2>/dev/null || echo 0)
	tree=$SCRATCH/another/checkout
	mkdir -p "$tree"
	(cd "$TOPDIR" && git ls-files -z 2>/dev/null | xargs -0 tar -cf - 2>/dev/null || tar -cf - --exclude=./output .) |
		tar -xf - -C "$tree"
	(
		umask 077
		export TZ=America/New_York LC_ALL=C.UTF-8 SOURCE_DATE_EPOCH=$epoch
		make -C "$tree" O="$SCRATCH/out2" defconfig >/dev/null &&
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
