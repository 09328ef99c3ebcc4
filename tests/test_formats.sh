#!/bin/sh
# One boot per root filesystem format: ext4 and squashfs on a ubd disk, an
# initramfs through initrd= (ext2 is the default configuration, booted by
# the other suites). All reuse the kernel built for the tests.
. "$TOPDIR/tests/lib.sh"

boot_format() {
	o=$SCRATCH/$1
	umlkit_make O="$o" defconfig || fail "defconfig"
	sed -i -e '/^UMLKIT_KERNEL_FROM_TARBALL=y/d' -e '/^UMLKIT_KERNEL_TARBALL=/d' \
		-e '/^UMLKIT_ROOTFS_EXT2=y/d' "$o/.config"
	printf 'UMLKIT_KERNEL_PREBUILT=y\nUMLKIT_KERNEL_PREBUILT_PATH="%s"\n%s=y\n' "$KERNEL" "$2" >>"$o/.config"
	umlkit_make O="$o" olddefconfig && umlkit_make O="$o" || fail "build $1: $(tail -5 "$SCRATCH/make.log")"
	"$o/images/boot.sh" -- sh -c 'cat /etc/hostname; grep " / " /proc/mounts | cut -d" " -f3' </dev/null
}

test_ext4_root() {
	assertEquals "$(printf 'umlkit\next4')" "$(boot_format ext4 UMLKIT_ROOTFS_EXT4)"
}

test_squashfs_root() {
	assertEquals "$(printf 'umlkit\nsquashfs')" "$(boot_format squashfs UMLKIT_ROOTFS_SQUASHFS)"
}

test_initramfs_root() {
	assertEquals "$(printf 'umlkit\nrootfs')" "$(boot_format cpio UMLKIT_ROOTFS_CPIO)"
}

. shunit2
