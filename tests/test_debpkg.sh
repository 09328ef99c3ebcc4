#!/bin/sh
# 'debian' recipe lines end to end, with real packages from the mirror the
# host's apt uses: resolved by apt (no root), pinned in a lock beside the
# recipe, fetched into the shared cache (UMLKIT_DEBIAN_CACHE, kept between
# runs like the Debian tree), configured in UML by the packages' own
# maintainer scripts; then booted. And each way it can fail: one line, its
# documented status.
. "$TOPDIR/tests/lib.sh"

DEBIAN_SH=$TOPDIR/rootfs-recipes/debian.sh
# a port nothing listens on: the mirror "cannot be reached", at once
NO_MIRROR=http://127.0.0.1:9/debian
CAP=0100000200200000000000000000000000000000 # cap_net_raw+ep

oneTimeSetUp() {
	mkdir -p "$SCRATCH/r"
	printf '%s\n' "debian bookworm iputils-ping" "debian bookworm openssh-server" \
		'user root 0 0 /root /bin/bash ""' >"$SCRATCH/r/small.recipe"
	O_DIR=$SCRATCH/o
	prebuilt_config "$O_DIR" "UMLKIT_ROOTFS_RECIPES=\"$SCRATCH/r/small.recipe\"" \
		UMLKIT_ROOTFS_EXT4=y UMLKIT_BOOT_COMMAND=y 'UMLKIT_BOOT_MEM="256M"' >/dev/null
	sed -i '/^UMLKIT_ROOTFS_EXT2=y/d; /^UMLKIT_DATA_DISK=y/d' "$O_DIR/.config"
	umlkit_make O="$O_DIR" olddefconfig
	BUILT=1
	umlkit_make O="$O_DIR" || BUILT=0
	cp "$SCRATCH/make.log" "$SCRATCH/first.log"
}

need_build() {
	[ "$BUILT" = 1 ] && return 0
	fail "the first build failed: $(tail -n 15 "$SCRATCH/first.log")"
	startSkipping
	return 1
}

test_the_lock_is_written_beside_the_recipe() {
	need_build || return 0
	lock=$SCRATCH/r/small.lock
	assertTrue "a lock" "[ -s '$lock' ]"
	assertEquals "the request" "request bookworm iputils-ping openssh-server" "$(grep '^request ' "$lock")"
	assertTrue "pins iputils-ping with a sha256" \
		"grep -Eq '^iputils-ping [^ ]+ amd64 [0-9]+ [0-9a-f]{64} apt\$' '$lock'"
	assertTrue "minbase's essential set" "grep -Eq '^dpkg [^ ]+ amd64 [0-9]+ [0-9a-f]{64} essential\$' '$lock'"
	# a merged /usr from the start, as mmdebstrap makes it: usr-is-merged,
	# not usrmerge and the whole of perl it pulls in
	assertTrue "usr-is-merged" "grep -q '^usr-is-merged ' '$lock'"
	assertFalse "no usrmerge, no perl" "grep -Eq '^(usrmerge|perl) ' '$lock'"
}

test_the_guest_has_every_package_configured() {
	need_build || return 0
	"$O_DIR/images/boot.sh" -- sh -c '
		dpkg-query -W -f "\${db:Status-Abbrev}\n" | sort | uniq -c
		getent passwd sshd | cut -d: -f1
		setpriv --reuid 65534 --regid 65534 --clear-groups ping -c 1 -W 5 127.0.0.1 >/dev/null && echo ping-ok
		ls /etc/ssh/ | grep -c "^ssh_host_.*_key\$"' </dev/null >"$SCRATCH/out" 2>"$SCRATCH/err"
	assertEquals "boot: $(cat "$SCRATCH/err")" 0 $?
	packages=$(grep -cv -e '^#' -e '^request ' -e '^epoch ' "$SCRATCH/r/small.lock")
	assertEquals "every locked package ii" "$packages ii" "$(sed -n 1p "$SCRATCH/out" | awk '{ print $1 " " $2 }')"
	assertEquals "sshd made by openssh-server's maintainer script" "sshd" "$(sed -n 2p "$SCRATCH/out")"
	assertEquals "ping as nobody: the file capability iputils-ping's postinst set" "ping-ok" "$(sed -n 3p "$SCRATCH/out")"
	assertTrue "host keys made at boot" "[ \"\$(sed -n 4p '$SCRATCH/out')\" -ge 1 ]"
}

test_the_image_holds_no_host_keys_and_the_capability() {
	need_build || return 0
	list_ext4 "$O_DIR/images/rootfs.ext4" >"$SCRATCH/l"
	assertFalse "no SSH host key in the image" "grep -q '^/etc/ssh/ssh_host_' '$SCRATCH/l'"
	assertTrue "sshd_config is" "grep -q '^/etc/ssh/sshd_config f ' '$SCRATCH/l'"
	assertFalse "no policy-rc.d left" "grep -q '^/usr/sbin/policy-rc.d ' '$SCRATCH/l'"
	assertFalse "no apt lists" "grep -q '^/var/lib/apt/lists/[^ ]*_Packages ' '$SCRATCH/l'"
	assertEquals "ping's capability" "/usr/bin/ping security.capability=$CAP" \
		"$(xattrs_ext4 "$O_DIR/images/rootfs.ext4" /usr/bin/ping)"
}

test_a_fresh_output_directory_builds_offline_to_the_same_bytes() {
	need_build || return 0
	O2=$SCRATCH/o2
	cp "$O_DIR/.config" "$SCRATCH/config2"
	mkdir -p "$O2" && cp "$SCRATCH/config2" "$O2/.config"
	printf 'UMLKIT_DEBIAN_MIRROR="%s"\n' "$NO_MIRROR" >>"$O2/.config"
	umlkit_make O="$O2" olddefconfig
	umlkit_make O="$O2" || fail "offline build: $(tail -n 5 "$SCRATCH/make.log")"
	assertFalse "nothing downloaded or staged: $(grep '>>> debian' "$SCRATCH/make.log")" \
		"grep -q 'apt-get update\|configure in UML' '$SCRATCH/make.log'"
	assertTrue "the same image bytes" "cmp -s '$O_DIR/images/rootfs.ext4' '$O2/images/rootfs.ext4'"
}

test_a_recipe_edit_outside_debian_lines_does_not_rerun_dpkg() {
	need_build || return 0
	cp "$SCRATCH/r/small.recipe" "$SCRATCH/r/small.recipe.orig"
	printf '%s\n' 'text /etc/motd 0644 0 0 "edited\n"' >>"$SCRATCH/r/small.recipe"
	umlkit_make O="$O_DIR" || fail "rebuild: $(tail -n 5 "$SCRATCH/make.log")"
	assertTrue "the root image is rebuilt" "grep -q '>>> rootfs' '$SCRATCH/make.log'"
	assertFalse "no stage: $(cat "$SCRATCH/make.log")" "grep -q 'debian: ' '$SCRATCH/make.log'"
	mv "$SCRATCH/r/small.recipe.orig" "$SCRATCH/r/small.recipe"
	umlkit_make O="$O_DIR"
	# the lock touched: the tree rule runs again and finds its tree in place
	touch "$SCRATCH/r/small.lock"
	umlkit_make O="$O_DIR" || fail "after touching the lock: $(tail -n 5 "$SCRATCH/make.log")"
	assertFalse "no stage for the same lock: $(cat "$SCRATCH/make.log")" "grep -q 'configure in UML' '$SCRATCH/make.log'"
	umlkit_make O="$O_DIR"
	assertFalse "then make does nothing: $(cat "$SCRATCH/make.log")" "grep -q '>>>' '$SCRATCH/make.log'"
}

# debian.sh STATUS-WANTED MESSAGE-PATTERN ARGS...: one line on stderr
expect_failure() {
	want=$1 pattern=$2
	shift 2
	sh "$DEBIAN_SH" "$@" >"$SCRATCH/out" 2>"$SCRATCH/err"
	assertEquals "status: $(cat "$SCRATCH/err")" "$want" $?
	assertTrue "the message: $(cat "$SCRATCH/err")" "grep -q -- '$pattern' '$SCRATCH/err'"
	assertEquals "one error line: $(cat "$SCRATCH/err")" 1 "$(grep -cv '^>>> ' "$SCRATCH/err")"
}

test_an_unknown_package_is_named() {
	echo "bookworm iputils-ping no-such-package-umlkit" >"$SCRATCH/req"
	expect_failure 3 "apt cannot install the recipe.s packages: Unable to locate package no-such-package-umlkit" \
		resolve -l "$SCRATCH/bad.lock" -q "$SCRATCH/req"
	assertFalse "no lock written" "[ -e '$SCRATCH/bad.lock' ]"
}

test_a_hash_that_differs_from_the_lock_stops_the_fetch() {
	need_build || return 0
	shared=$UMLKIT_DEBIAN_CACHE
	# a private copy of the cache without iputils-ping: one real download
	mkdir -p "$SCRATCH/cache-forged"
	cp -al "$shared/debs" "$SCRATCH/cache-forged/" 2>/dev/null || cp -a "$shared/debs" "$SCRATCH/cache-forged/"
	real=$(awk '$1 == "iputils-ping" { print $5 }' "$SCRATCH/r/small.lock")
	rm -f "$SCRATCH/cache-forged/debs/$real.deb"
	awk '$1 == "iputils-ping" { $5 = "0000000000000000000000000000000000000000000000000000000000000000" } { print }' \
		"$SCRATCH/r/small.lock" >"$SCRATCH/forged.lock"
	UMLKIT_DEBIAN_CACHE=$SCRATCH/cache-forged
	expect_failure 5 "iputils-ping .*: the mirror.s file does not have the sha256 .*forged.lock pins" \
		fetch -l "$SCRATCH/forged.lock"
	UMLKIT_DEBIAN_CACHE=$shared
}

test_an_unreachable_mirror_with_a_file_missing_from_the_cache() {
	need_build || return 0
	shared=$UMLKIT_DEBIAN_CACHE
	UMLKIT_DEBIAN_CACHE=$SCRATCH/cache-empty
	expect_failure 4 "cannot reach the mirror for .bookworm. (E: Failed to fetch http://127.0.0.1:9/" fetch -l "$SCRATCH/r/small.lock" -M "$NO_MIRROR"
	UMLKIT_DEBIAN_CACHE=$shared
}

# A real package whose postinst fails, built here by dpkg-deb, pinned by
# hand in a copy of the lock and put in a private copy of the cache under
# its sha256: the stage boots, apt runs the script in the guest, the build
# stops naming the package and the script, with the script's own words.
test_a_failing_maintainer_script_stops_the_stage() {
	need_build || return 0
	shared=$UMLKIT_DEBIAN_CACHE
	mkdir -p "$SCRATCH/fail/DEBIAN" "$SCRATCH/cache-fail"
	printf '%s\n' "Package: umlkit-fail-test" "Version: 1.0" "Architecture: all" \
		"Maintainer: umlkit tests <tests@localhost>" "Description: a postinst that fails" \
		>"$SCRATCH/fail/DEBIAN/control"
	printf '#!/bin/sh\necho "umlkit-fail-test: cannot configure, on purpose" >&2\nexit 1\n' \
		>"$SCRATCH/fail/DEBIAN/postinst"
	chmod 0755 "$SCRATCH/fail/DEBIAN/postinst"
	dpkg-deb --root-owner-group --build "$SCRATCH/fail" "$SCRATCH/fail.deb" >/dev/null || fail "dpkg-deb"
	sum=$(sha256sum "$SCRATCH/fail.deb" | cut -d' ' -f1)
	cp -al "$shared/debs" "$SCRATCH/cache-fail/" 2>/dev/null || cp -a "$shared/debs" "$SCRATCH/cache-fail/"
	cp "$SCRATCH/fail.deb" "$SCRATCH/cache-fail/debs/$sum.deb"
	{ cat "$SCRATCH/r/small.lock"; echo "umlkit-fail-test 1.0 all $(wc -c <"$SCRATCH/fail.deb") $sum apt"; } \
		>"$SCRATCH/fail.lock"
	UMLKIT_DEBIAN_CACHE=$SCRATCH/cache-fail sh "$DEBIAN_SH" tree -l "$SCRATCH/fail.lock" -o "$SCRATCH/fail.tar" \
		-k "$O_DIR/images/linux" -r "$O_DIR/build/runtime/umlkit-run" -m "$O_DIR/build/host/mkimage" \
		-i "$O_DIR/build/target/umlkit-init" >"$SCRATCH/out" 2>"$SCRATCH/err"
	assertEquals "status 6: $(tail -n 5 "$SCRATCH/err")" 6 $?
	assertTrue "names the package and the script: $(tail -n 3 "$SCRATCH/err")" \
		"grep -q '^debian.sh: maintainer script failed in the guest: package umlkit-fail-test, post-installation (full log: ' '$SCRATCH/err'"
	assertTrue "shows the script's output" "grep -q '  | umlkit-fail-test: cannot configure, on purpose' '$SCRATCH/err'"
	assertFalse "no tree" "[ -e '$SCRATCH/fail.tar' ]"
	left=$(find "$SCRATCH/cache-fail/trees" -mindepth 1 ! -name '*.log')
	assertEquals "no tree in the cache, no work directory" "" "$left"
}

test_a_bad_lock_line_names_the_fix() {
	need_build || return 0
	{ cat "$SCRATCH/r/small.lock"; echo "half a line"; } >"$SCRATCH/cut.lock"
	expect_failure 1 'cut.lock: line "half a line" is not "package version architecture size sha256 stage": run make debian-update' \
		fetch -l "$SCRATCH/cut.lock"
	# a name that apt-get would read as an option
	sed 's/^iputils-ping /-oDebug::pkgAcquire=1 /' "$SCRATCH/r/small.lock" >"$SCRATCH/opt.lock"
	expect_failure 1 'opt.lock: line "-oDebug::pkgAcquire=1 .*" is not "package version' fetch -l "$SCRATCH/opt.lock"
	sed 's/^request .*/request ..\/x iputils-ping/' "$SCRATCH/r/small.lock" >"$SCRATCH/req.lock"
	expect_failure 1 'req.lock: the request line is not' fetch -l "$SCRATCH/req.lock"
}

test_a_bad_package_name_in_a_recipe_is_a_recipe_error() {
	printf 'debian bookworm "iputils-ping; touch %s/ran"\n' "$SCRATCH" >"$SCRATCH/r/bad.recipe"
	"$MKIMAGE" --debian-request "$SCRATCH/r/bad.recipe" >"$SCRATCH/out" 2>"$SCRATCH/err"
	assertEquals "status 1" 1 $?
	assertTrue "file, line, fix: $(cat "$SCRATCH/err")" \
		"grep -q 'bad.recipe:1: bad Debian name .iputils-ping; touch' '$SCRATCH/err'"
	assertFalse "nothing ran" "[ -e '$SCRATCH/ran' ]"
}

. shunit2
