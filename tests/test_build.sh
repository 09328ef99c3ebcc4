#!/bin/sh
# The build pipeline: errors for bad input, exact dependencies, no root.
. "$TOPDIR/tests/lib.sh"

test_a_config_without_a_root_format_is_an_error() {
	O_DIR=$SCRATCH/noformat
	prebuilt_config "$O_DIR"
	sed -i '/^UMLKIT_ROOTFS_EXT2=y/d' "$O_DIR/.config"
	umlkit_make O="$O_DIR"
	assertEquals "make fails (2)" 2 $?
	assertTrue "names the table and the fix: $(cat "$SCRATCH/make.log")" \
		"grep -q 'no root filesystem format of mkimage/formats.def (ext2 ext4 squashfs cpio erofs) is chosen' '$SCRATCH/make.log'"
}

test_missing_kernel_source_names_path_and_package() {
	O_DIR=$SCRATCH/o
	umlkit_make O="$O_DIR" defconfig
	sed -i 's|^UMLKIT_KERNEL_TARBALL=.*|UMLKIT_KERNEL_TARBALL="/nonexistent/linux.tar.xz"|' "$O_DIR/.config"
	umlkit_make O="$O_DIR" kernel
	assertEquals "make fails (2)" 2 $?
	assertTrue "names the path and the package: $(cat "$SCRATCH/make.log")" \
		"grep -q 'kernel source /nonexistent/linux.tar.xz not found: install Debian package linux-source-6.12' '$SCRATCH/make.log'"
}

test_another_kernel_source_is_unpacked_again() {
	# two tiny "kernel sources"; the second is older than the first tree
	for v in a b; do
		mkdir -p "$SCRATCH/src-$v/linux-$v" && echo "$v" >"$SCRATCH/src-$v/linux-$v/version"
		tar -C "$SCRATCH/src-$v" -cf "$SCRATCH/linux-$v.tar" "linux-$v"
	done
	touch -d '2001-01-01' "$SCRATCH/linux-b.tar"
	O_DIR=$SCRATCH/src
	umlkit_make O="$O_DIR" defconfig
	for v in a b; do
		sed -i -e '/^UMLKIT_KERNEL_TARBALL=/d' -e '/^UMLKIT_KERNEL_PATCHES=/d' -e '/^UMLKIT_KERNEL_SOURCE_/d' "$O_DIR/.config"
		printf 'UMLKIT_KERNEL_SOURCE_OTHER=y\nUMLKIT_KERNEL_TARBALL="%s"\nUMLKIT_KERNEL_PATCHES=""\n' \
			"$SCRATCH/linux-$v.tar" >>"$O_DIR/.config"
		umlkit_make O="$O_DIR" olddefconfig
		umlkit_make O="$O_DIR" "$O_DIR/build/linux-src/.umlkit-unpacked" || fail "unpack $v: $(cat "$SCRATCH/make.log")"
		assertEquals "the tree is $v's" "$v" "$(cat "$O_DIR/build/linux-src/version")"
	done
}

test_recipe_with_missing_host_file_fails_with_file_and_line() {
	O_DIR=$SCRATCH/o
	printf '# bad\ndir /etc 0755 0 0\nfile /etc/x %s/missing 0644 0 0\n' "$SCRATCH" >"$SCRATCH/bad.recipe"
	prebuilt_config "$O_DIR" "UMLKIT_ROOTFS_RECIPES=\"$SCRATCH/bad.recipe\""
	umlkit_make O="$O_DIR" rootfs
	assertEquals "make fails (2)" 2 $?
	assertTrue "error has file:line: $(cat "$SCRATCH/make.log")" \
		"grep -q 'mkimage: $SCRATCH/bad.recipe:3: host file .$SCRATCH/missing.: No such file' '$SCRATCH/make.log'"
	assertFalse "no image left" "ls '$O_DIR/images/' 2>/dev/null | grep -q rootfs"
}

test_every_shipped_configuration_reaches_a_noop() {
	for f in "$TOPDIR"/configs/*_defconfig; do
		name=${f##*/}
		CONFIG_NAME=$name
		prebuilt_config "$SCRATCH/o-$name"
		CONFIG_NAME=
		umlkit_make O="$SCRATCH/o-$name" || fail "$name: $(tail -5 "$SCRATCH/make.log")"
		umlkit_make O="$SCRATCH/o-$name"
		assertFalse "$name: the second make does nothing: $(cat "$SCRATCH/make.log")" \
			"grep -q '>>>' '$SCRATCH/make.log'"
	done
}

test_another_configuration_takes_the_kernel_from_the_cache() {
	# ci_defconfig asks for the kernel the tested configuration built
	umlkit_make O="$SCRATCH/ci" ci_defconfig || fail "ci_defconfig"
	umlkit_make O="$SCRATCH/ci" || fail "make: $(tail -5 "$SCRATCH/make.log")"
	assertTrue "from the cache: $(grep '>>> kernel' "$SCRATCH/make.log")" \
		"grep -q 'kernel: from the kernel cache' '$SCRATCH/make.log'"
	assertFalse "no kernel build" "grep -q 'kernel: build\|kernel: unpack' '$SCRATCH/make.log'"
	assertTrue "the same kernel" "cmp -s '$SCRATCH/ci/images/linux' '$KERNEL'"
}

test_second_make_does_nothing() {
	make -C "$TOPDIR" O="$CHECK_O" >"$SCRATCH/make.log" 2>&1 || fail "make failed"
	before=$(stat -c %Y.%i "$BUNDLE")
	make -C "$TOPDIR" O="$CHECK_O" >"$SCRATCH/make.log" 2>&1 || fail "make failed"
	assertFalse "no stage ran: $(cat "$SCRATCH/make.log")" "grep -q '>>>' '$SCRATCH/make.log'"
	assertEquals "boot.sh untouched" "$before" "$(stat -c %Y.%i "$BUNDLE")"
}

# Builds in O_DIR=$SCRATCH/o the default recipe plus /etc/motd from the
# host file $SCRATCH/motd, for tests that edit that file.
build_with_motd() {
	O_DIR=$SCRATCH/o
	cp "$TOPDIR/rootfs-recipes/default.recipe" "$SCRATCH/my.recipe"
	echo "hello" >"$SCRATCH/motd"
	echo "file /etc/motd $SCRATCH/motd 0644 0 0" >>"$SCRATCH/my.recipe"
	prebuilt_config "$O_DIR" "UMLKIT_ROOTFS_RECIPES=\"$SCRATCH/my.recipe\""
	umlkit_make O="$O_DIR" || fail "first build: $(tail -5 "$SCRATCH/make.log")"
}

test_recipe_edit_rebuilds_only_rootfs_and_bundle() {
	build_with_motd
	sleep 1
	echo "changed" >"$SCRATCH/motd"
	umlkit_make O="$O_DIR" || fail "rebuild"
	assertTrue "rootfs rebuilt after a referenced file changed" "grep -q '>>> rootfs' '$SCRATCH/make.log'"
	assertTrue "bundle rebuilt" "grep -q '>>> bundle' '$SCRATCH/make.log'"
	assertFalse "data disk not rebuilt" "grep -q '>>> data disk' '$SCRATCH/make.log'"
	assertFalse "kernel not touched" "grep -q '>>> kernel' '$SCRATCH/make.log'"
	assertEquals "the guest sees the change" "changed" "$("$O_DIR/images/boot.sh" -- cat /etc/motd </dev/null)"
}

# Apply configuration lines (NAME=VALUE, or NAME= to unset) to $O_DIR,
# make, and print the sorted '>>>' stages that ran.
flip() {
	for line in "$@"; do
		sed -i "/^${line%%=*}=/d; /^# ${line%%=*} is not set/d" "$O_DIR/.config"
		case $line in *=) echo "# ${line%=} is not set" ;; *) echo "$line" ;; esac >>"$O_DIR/.config"
	done
	umlkit_make O="$O_DIR" olddefconfig || fail "olddefconfig"
	umlkit_make O="$O_DIR" || fail "make after $*: $(tail -5 "$SCRATCH/make.log")"
	grep '^>>>' "$SCRATCH/make.log" | sed 's/^>>> //' | sort | tr '\n' ';'
}

# $1 the configuration lines (space-separated), $2 the stages expected
expect_rebuild() {
	# shellcheck disable=SC2086 # one word a line
	got=$(flip $1)
	assertEquals "after $1" "$2" "$got"
	umlkit_make O="$O_DIR" || fail "second make"
	assertEquals "then a no-op after $1" "" "$(grep '^>>>' "$SCRATCH/make.log")"
}

test_each_option_rebuilds_exactly_what_it_affects() {
	O_DIR=$SCRATCH/flip
	prebuilt_config "$O_DIR"
	umlkit_make O="$O_DIR" || fail "first build: $(tail -5 "$SCRATCH/make.log")"
	root='bundle: boot.sh;bundle: compress rootfs.ext2;rootfs: ext2;'
	fstab='bundle: boot.sh;bundle: compress rootfs.ext2;rootfs: configuration recipe;rootfs: ext2;'
	data='bundle: boot.sh;bundle: compress data.ext4;data disk: data.ext4;'
	expect_rebuild 'UMLKIT_HOSTNAME="lab"' "$fstab"
	expect_rebuild 'UMLKIT_ROOTFS_HEADROOM=40' "$root"
	expect_rebuild 'UMLKIT_ROOTFS_SIZE="12M"' "$root"
	# the data disk off: the fstab and the bundle's image list change;
	# back on, its image (the same command) is reused
	expect_rebuild 'UMLKIT_DATA_DISK=' "$fstab"
	expect_rebuild 'UMLKIT_DATA_DISK=y' "$fstab"
	expect_rebuild 'UMLKIT_DATA_DISK_SIZE="50M"' "$data"
	expect_rebuild 'UMLKIT_DATA_DISK_MOUNTPOINT=""' "$fstab"
	expect_rebuild 'UMLKIT_BOOT_MEM="96M"' 'bundle: boot.sh;'
	expect_rebuild 'UMLKIT_BOOT_CMDLINE="quiet"' 'bundle: boot.sh;'
	expect_rebuild 'UMLKIT_BOOT_COMMAND=y UMLKIT_BOOT_INTERACTIVE=' "$root"
	expect_rebuild 'UMLKIT_BOOT_DEFAULT_COMMAND="uname"' 'bundle: boot.sh;'
	expect_rebuild 'UMLKIT_ROOTFS_EXT4=y UMLKIT_ROOTFS_EXT2=' \
		'bundle: boot.sh;bundle: compress rootfs.ext4;rootfs: ext4;'
	# the network defaults are bundle.conf lines; without the helpers
	# their segment is left out, and back in, reused
	expect_rebuild 'UMLKIT_NET_USER=y UMLKIT_NET_NONE=' 'bundle: boot.sh;'
	expect_rebuild 'UMLKIT_NET_FORWARDS="8080:80"' 'bundle: boot.sh;'
	expect_rebuild 'UMLKIT_NET_SWITCHES="lan=10.1.0.1/24"' 'bundle: boot.sh;'
	expect_rebuild 'UMLKIT_NET_HELPERS=' 'bundle: boot.sh;'
	expect_rebuild 'UMLKIT_NET_HELPERS=y' 'bundle: boot.sh;'
	all='bundle: boot.sh;bundle: compress data.ext4;bundle: compress linux;bundle: compress rootfs.ext4;bundle: compress the network helpers;bundle: compress umlkit-run;bundle: end segment;'
	expect_rebuild 'UMLKIT_BUNDLE_GZIP=y UMLKIT_BUNDLE_XZ=' "$all"
	expect_rebuild 'UMLKIT_SOURCE_DATE_EPOCH="1700000000"' "${all}data disk: data.ext4;rootfs: ext4;"
	# a compiler flag reaches mkimage, and through it the image
	umlkit_make O="$O_DIR" HOST_CFLAGS=-O1 || fail "HOST_CFLAGS"
	assertTrue "mkimage recompiled" "grep -q '^>>> mkimage: compile main.c' '$SCRATCH/make.log'"
	assertTrue "the image rebuilt" "grep -q '^>>> rootfs: ext4' '$SCRATCH/make.log'"
	umlkit_make O="$O_DIR" HOST_CFLAGS=-O1 || fail "HOST_CFLAGS again"
	assertEquals "then a no-op" "" "$(grep '^>>>' "$SCRATCH/make.log")"
}

partial_exists() {
	for f in "$O_DIR/images/$1"*; do
		[ -e "$f" ] && return 0
	done
	return 1
}

# Starts make O=$O_DIR in its own process group and SIGKILLs the whole group
# once a file matching $1 appears in $O_DIR/images; fails if make ended first.
kill_make_while_writing() {
	setsid make -C "$TOPDIR" O="$O_DIR" >"$SCRATCH/killed.log" 2>&1 &
	make_pid=$!
	while kill -0 "$make_pid" 2>/dev/null; do
		if partial_exists "$1"; then
			kill -KILL "-$make_pid"
			{ wait "$make_pid"; } 2>/dev/null
			return 0
		fi
		sleep 0.01
	done
	wait "$make_pid"
	return 1
}

test_make_killed_mid_write_then_rerun_gives_the_same_bytes() {
	build_with_motd
	(cd "$O_DIR/images" && sha256sum ./*) >"$SCRATCH/uninterrupted.sha256"
	for partial in 'rootfs.ext2.tmp-' 'boot.sh.work.'; do
		caught=no
		for attempt in 1 2 3 4 5; do
			sleep 1
			touch "$SCRATCH/motd"
			if kill_make_while_writing "$partial"; then
				caught=yes
				break
			fi
		done
		assertEquals "make killed while writing $partial (attempt $attempt)" yes "$caught"
		umlkit_make O="$O_DIR" || fail "make after the kill: $(tail -5 "$SCRATCH/make.log")"
		assertTrue "same bytes as the uninterrupted build after a kill at $partial" \
			"cd '$O_DIR/images' && sha256sum -c --quiet '$SCRATCH/uninterrupted.sha256'"
		assertFalse "nothing partial left in images/: $(ls "$O_DIR/images")" \
			"partial_exists rootfs.ext2.tmp- || partial_exists rootfs.ext2.work- || partial_exists boot.sh.work."
	done
}

test_build_as_unprivileged_user() {
	need_root "switch to uid 65534 (as an ordinary user, every test already runs unprivileged)"
	O_DIR=$SCRATCH/nobody-out
	mkdir -p "$O_DIR"
	prebuilt_config "$O_DIR"
	chown -R 65534:65534 "$O_DIR"
	as_nobody make -C "$TOPDIR" O="$O_DIR" >"$SCRATCH/make.log" 2>&1
	assertEquals "make as uid 65534: $(tail -5 "$SCRATCH/make.log")" 0 $?
	assertEquals "its bundle runs as uid 65534" "ok" \
		"$(as_nobody "$O_DIR/images/boot.sh" -- echo ok </dev/null)"
}

. shunit2
