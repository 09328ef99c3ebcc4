#!/bin/sh
# Configuration targets: defconfig loading, savedefconfig round trips,
# O= directories side by side, host tool checks, help.
. "$TOPDIR/tests/lib.sh"

test_defconfig_savedefconfig_round_trip() {
	umlkit_make O="$SCRATCH/o" ci_defconfig || fail "ci_defconfig failed"
	umlkit_make O="$SCRATCH/o" savedefconfig DEFCONFIG="$SCRATCH/saved" || fail "savedefconfig failed"
	grep -v '^#' "$TOPDIR/configs/ci_defconfig" >"$SCRATCH/want"
	grep -v '^#' "$SCRATCH/saved" >"$SCRATCH/got"
	assertTrue "savedefconfig gives back configs/ci_defconfig: $(diff "$SCRATCH/want" "$SCRATCH/got")" \
		"cmp -s '$SCRATCH/want' '$SCRATCH/got'"
}

test_savedefconfig_writes_to_the_loaded_defconfig() {
	cp "$TOPDIR/configs/ci_defconfig" "$SCRATCH/mine_defconfig"
	# load a defconfig file from outside configs/ through the origin record
	umlkit_make O="$SCRATCH/o2" ci_defconfig
	printf '%s\n' "$SCRATCH/mine_defconfig" >"$SCRATCH/o2/.defconfig"
	sed -i 's/^UMLKIT_BOOT_MEM=.*/UMLKIT_BOOT_MEM="256M"/' "$SCRATCH/o2/.config"
	umlkit_make O="$SCRATCH/o2" savedefconfig || fail "savedefconfig failed"
	assertTrue "the changed value is written back" "grep -qx 'UMLKIT_BOOT_MEM=\"256M\"' '$SCRATCH/mine_defconfig'"
	assertTrue "the first comment line is kept" "head -n 1 '$SCRATCH/mine_defconfig' | grep -q '^# A CI runner'"
}

test_defconfig_loads_a_defconfig_from_outside_the_tree() {
	printf '%s\n' 'UMLKIT_BOOT_COMMAND=y' 'UMLKIT_HOSTNAME="myproject"' >"$SCRATCH/project_defconfig"
	umlkit_make O="$SCRATCH/o3" defconfig DEFCONFIG="$SCRATCH/project_defconfig" || fail "$(cat "$SCRATCH/make.log")"
	assertTrue "the project's setting: $(grep HOSTNAME "$SCRATCH/o3/.config")" \
		"grep -qx 'UMLKIT_HOSTNAME=\"myproject\"' '$SCRATCH/o3/.config'"
	assertTrue "says where from" "grep -q 'from $SCRATCH/project_defconfig' '$SCRATCH/make.log'"
	# the project's own recipe, beside its defconfig, and one of umlkit's
	mkdir -p "$SCRATCH/project"
	printf 'text /etc/project 0644 0 0 "yes\\n"\n' >"$SCRATCH/project/ci.recipe"
	printf '%s\n' 'UMLKIT_BOOT_COMMAND=y' 'UMLKIT_ROOTFS_RECIPES="rootfs-recipes/default.recipe ci.recipe"' \
		>"$SCRATCH/project/umlkit_defconfig"
	umlkit_make O="$SCRATCH/o4" defconfig DEFCONFIG="$SCRATCH/project/umlkit_defconfig" || fail "$(cat "$SCRATCH/make.log")"
	assertEquals "a path beside the defconfig is made absolute; umlkit's stays" \
		"UMLKIT_ROOTFS_RECIPES=\"rootfs-recipes/default.recipe $SCRATCH/project/ci.recipe\"" \
		"$(grep '^UMLKIT_ROOTFS_RECIPES=' "$SCRATCH/o4/.config")"
	umlkit_make O="$SCRATCH/o3" defconfig DEFCONFIG="$SCRATCH/none_defconfig"
	assertNotEquals "a missing one is an error" 0 $?
	assertTrue "named: $(cat "$SCRATCH/make.log")" "grep -q '$SCRATCH/none_defconfig: no such defconfig' '$SCRATCH/make.log'"
}

test_unknown_defconfig_is_an_error() {
	umlkit_make O="$SCRATCH/o" nosuch_defconfig
	assertEquals "make fails (2)" 2 $?
	assertTrue "message names the target" "grep -q 'nosuch_defconfig' '$SCRATCH/make.log'"
}

test_two_output_directories_side_by_side() {
	umlkit_make O="$SCRATCH/a" defconfig && umlkit_make O="$SCRATCH/b" ci_defconfig
	assertTrue "a is interactive" "grep -qx 'UMLKIT_BOOT_INTERACTIVE=y' '$SCRATCH/a/.config'"
	assertTrue "b is command mode" "grep -qx 'UMLKIT_BOOT_COMMAND=y' '$SCRATCH/b/.config'"
}

test_build_without_config_says_what_to_do() {
	umlkit_make O="$SCRATCH/empty" all
	assertEquals "make fails (2)" 2 $?
	assertTrue "tells to run make defconfig" "grep -q \"run 'make defconfig'\" '$SCRATCH/make.log'"
}

test_missing_host_tool_names_the_package() {
	# a PATH with everything but tar2sqfs, which a squashfs root needs (its
	# row in mkimage/formats.def names the tool and the package)
	mkdir -p "$SCRATCH/bin"
	for f in /usr/bin/* /usr/sbin/* /bin/* /sbin/*; do
		n=${f##*/}
		[ "$n" = tar2sqfs ] || [ -e "$SCRATCH/bin/$n" ] || ln -s "$f" "$SCRATCH/bin/$n"
	done
	umlkit_make O="$SCRATCH/o" defconfig
	sed -i '/^UMLKIT_ROOTFS_EXT2=y/d' "$SCRATCH/o/.config"
	echo 'UMLKIT_ROOTFS_SQUASHFS=y' >>"$SCRATCH/o/.config"
	umlkit_make O="$SCRATCH/o" olddefconfig
	PATH=$SCRATCH/bin make -C "$TOPDIR" O="$SCRATCH/o" rootfs >"$SCRATCH/make.log" 2>&1
	assertEquals "make fails (2)" 2 $?
	assertTrue "names tar2sqfs and its package: $(cat "$SCRATCH/make.log")" \
		"grep -q \"host tool 'tar2sqfs' not found: install Debian package squashfs-tools-ng\" '$SCRATCH/make.log'"
	assertFalse "no work started" "[ -d '$SCRATCH/o/build/host' ]"
}

test_a_login_path_without_sbin_finds_the_e2fsprogs_tools() {
	# a Debian account's login PATH: /usr/sbin (tune2fs, mke2fs) is not on it
	umlkit_make O="$SCRATCH/o" defconfig
	env -i HOME="$SCRATCH" PATH=/usr/local/bin:/usr/bin:/bin make -C "$TOPDIR" O="$SCRATCH/o" check-host \
		>"$SCRATCH/make.log" 2>&1
	assertEquals "check-host: $(cat "$SCRATCH/make.log")" 0 $?
	env -i HOME="$SCRATCH" PATH=/usr/local/bin:/usr/bin:/bin make -C "$TOPDIR" O="$SCRATCH/o" -n rootfs \
		>"$SCRATCH/make.log" 2>&1
	assertEquals "a build starts: $(cat "$SCRATCH/make.log")" 0 $?
}

test_menuconfig_opens_on_a_terminal() {
	umlkit_make O="$SCRATCH/o" defconfig
	term_start "make -C '$TOPDIR' O='$SCRATCH/o' menuconfig; echo exit=\$? >'$SCRATCH/status'; sleep 60" 100 30
	term_wait 'umlkit configuration' 10
	screen=$(term_screen)
	term_keys Escape Escape
	sleep 1
	term_keys Escape Escape
	i=0
	until [ -s "$SCRATCH/status" ] || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
	term_stop
	assertTrue "the menu is shown: $screen" "echo '$screen' | grep -q 'umlkit configuration'"
	assertEquals "exits cleanly" "exit=0" "$(cat "$SCRATCH/status" 2>/dev/null)"
}

test_help_lists_targets_and_variables() {
	make -C "$TOPDIR" -s help >"$SCRATCH/help"
	for word in defconfig menuconfig savedefconfig kernel-menuconfig kernel-rebuild check clean distclean 'O=DIR' 'V=1'; do
		assertTrue "help mentions $word" "grep -qF -- '$word' '$SCRATCH/help'"
	done
}

. shunit2
