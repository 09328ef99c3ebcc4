#!/bin/sh
# One boot per root filesystem format: ext4 on a ubd disk, squashfs and
# EROFS read-only under a tmpfs overlay, an initramfs through initrd= (ext2
# is the default configuration, booted by the other suites). All reuse the
# kernel built for the tests.
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

# A read-only image under the overlay: the guest writes anywhere, removes
# what the image has, and the next run starts from the image again.
check_overlay_root() {
	bundle=$SCRATCH/$1/images/boot.sh
	out=$("$bundle" -- sh -c 'echo new >/etc/added && rm /etc/hostname && mkdir -p /usr/x &&
		cat /etc/added && ls /etc/hostname 2>&1; grep -c "^overlay / " /proc/mounts' </dev/null 2>&1)
	assertEquals "written, removed, one overlay on /" \
		"$(printf 'new\nls: /etc/hostname: No such file or directory\n1')" "$out"
	assertEquals "the next run sees the image" "umlkit" "$("$bundle" -- sh -c 'cat /etc/hostname; cat /etc/added 2>/dev/null' </dev/null)"
	"$bundle" --persist "$SCRATCH/$1-kept" -- true </dev/null 2>"$SCRATCH/err"
	assertTrue "--persist says the root keeps nothing: $(cat "$SCRATCH/err")" \
		"grep -q 'note: --persist: this bundle.s root image is read-only under a tmpfs overlay' '$SCRATCH/err'"
}

test_ext4_root() {
	boot_format ext4
	assertEquals "$(printf 'umlkit\next4')" "$(cat "$SCRATCH/ext4.out")"
}

test_squashfs_root() {
	boot_format squashfs
	assertEquals "$(printf 'umlkit\noverlay')" "$(cat "$SCRATCH/squashfs.out")"
	check_overlay_root squashfs
	# compressed already: stored in the bundle byte for byte, at its end
	o=$SCRATCH/squashfs
	assertTrue "listed as stored" "'$o/images/boot.sh' --list | grep -q '^rootfs.squashfs [0-9]* bytes, stored as it is\$'"
	assertTrue "the image is the bundle's last bytes" \
		"tail -c $(wc -c <"$o/images/rootfs.squashfs") '$o/images/boot.sh' | cmp -s - '$o/images/rootfs.squashfs'"
}

test_erofs_root() {
	boot_format erofs
	assertEquals "$(printf 'umlkit\noverlay')" "$(cat "$SCRATCH/erofs.out")"
	check_overlay_root erofs
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
