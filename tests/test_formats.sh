#!/bin/sh
# One boot per root filesystem format: ext4 and squashfs on a ubd disk, an
# initramfs through initrd= (ext2 is the default configuration, booted by
# the other suites). All reuse the kernel built for the tests.
. "$TOPDIR/tests/lib.sh"

# Build a bundle with root format $1 (mkimage/formats.def's name), boot it
# and print the hostname and the root's filesystem type into $SCRATCH/$1.out
# (not in a subshell: a failure here fails the test).
boot_format() {
	o=$SCRATCH/$1
	umlkit_make O="$o" defconfig || fail "defconfig"
	sed -i -e '/^UMLKIT_KERNEL_FROM_TARBALL=y/d' -e '/^UMLKIT_KERNEL_TARBALL=/d' \
		-e '/^UMLKIT_ROOTFS_EXT2=y/d' "$o/.config"
	printf 'UMLKIT_KERNEL_PREBUILT=y\nUMLKIT_KERNEL_PREBUILT_PATH="%s"\nUMLKIT_ROOTFS_%s=y\n' \
		"$KERNEL" "$(echo "$1" | tr a-z A-Z)" >>"$o/.config"
	: >"$SCRATCH/$1.out"
	if ! umlkit_make O="$o" olddefconfig || ! umlkit_make O="$o"; then
		fail "build $1: $(tail -5 "$SCRATCH/make.log")"
		return
	fi
	"$o/images/boot.sh" -- sh -c 'cat /etc/hostname; grep " / " /proc/mounts | cut -d" " -f3' \
		</dev/null >"$SCRATCH/$1.out"
}

test_ext4_root() {
	boot_format ext4
	assertEquals "$(printf 'umlkit\next4')" "$(cat "$SCRATCH/ext4.out")"
}

test_squashfs_root() {
	boot_format squashfs
	assertEquals "$(printf 'umlkit\nsquashfs')" "$(cat "$SCRATCH/squashfs.out")"
}

test_erofs_root() {
	boot_format erofs
	assertEquals "$(printf 'umlkit\nerofs')" "$(cat "$SCRATCH/erofs.out")"
}

test_initramfs_root() {
	boot_format cpio
	assertEquals "$(printf 'umlkit\nrootfs')" "$(cat "$SCRATCH/cpio.out")"
}

test_every_format_has_a_test_here() {
	for f in $("$MKIMAGE" --formats | awk '{ print $1 }'); do
		[ "$f" = ext2 ] && continue # the default configuration: every other suite boots it
		assertTrue "a boot test for $f" "grep -q '^test_.*' '$TOPDIR/tests/test_formats.sh' && grep -q 'boot_format $f\$' '$TOPDIR/tests/test_formats.sh'"
	done
}

. shunit2
