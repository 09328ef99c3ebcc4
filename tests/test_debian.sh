#!/bin/sh
# A real merged-/usr Debian tree (Debian 12 minbase and a few packages, made
# once by support/debian-tree.sh: 'make debian-tree') goes into every image
# format unchanged by a one-line recipe, keeps ping's file capability and
# its packages' times, merges accounts, and boots: ping as an ordinary user
# (the capability at work, loopback only) and python3.
. "$TOPDIR/tests/lib.sh"

TAR=${DEBIAN_TREE:-}
# a day after os.py's package was built (older times stay), before the
# tree was made (newer ones are clamped): see oneTimeSetUp
EPOCH=
PY=/usr/lib/python3.11/os.py
FORMATS=$("$MKIMAGE" --formats | awk '{ print $1 }')
keeps() { "$MKIMAGE" --formats | awk -v f="$1" -v k="$2" '$1 == f && $4 ~ k { y = 1 } END { exit !y }'; }
CAP=0100000200200000000000000000000000000000 # cap_net_raw+ep

# seconds since 1970 of PATH's mtime in the tree's tar
tar_mtime() {
	date -u -d "$(tar -tvf "$TAR" --full-time ".$1" | awk '{ print $4 " " $5 }') UTC" +%s
}

need_tree() {
	[ -n "$TAR" ] && [ -s "$TAR" ] && return 0
	echo "SKIP: no Debian tree at '${TAR:-unset}': run 'make debian-tree' (mmdebstrap: root, or subordinate ids)"
	startSkipping
	return 1
}

oneTimeSetUp() {
	[ -n "$TAR" ] && [ -s "$TAR" ] || return 0
	EPOCH=$(($(tar_mtime $PY) + 86400))
	printf 'tar / %s\n' "$TAR" >"$SCRATCH/debian.recipe"
	echo "probe" >"$SCRATCH/probe"
	# what umlkit's configuration adds, through the /sbin symlink
	printf 'text /etc/hostname 0644 0 0 "guest\\n"\nfile /sbin/umlkit-probe %s/probe 0755 0 0\n' \
		"$SCRATCH" >"$SCRATCH/config.recipe"
	list_tar "$TAR" | grep -v '^/etc/hostname ' >"$SCRATCH/l.tar"
	for t in $FORMATS; do
		# cpio uncompressed: gzip -9 of 200 MB would be most of the time
		z=
		[ "$t" = cpio ] && z='-z none'
		# shellcheck disable=SC2086 # $z: options
		SOURCE_DATE_EPOCH=$EPOCH "$MKIMAGE" -t $t $z -o "$SCRATCH/d.$t" "$SCRATCH/debian.recipe" \
			-c "$SCRATCH/config.recipe" 2>"$SCRATCH/err.$t" || echo "$t failed: $(cat "$SCRATCH/err.$t")"
	done
}

test_every_format_holds_the_tree_unchanged() {
	need_tree || return 0
	probe=$(sha256sum <"$SCRATCH/probe" | cut -d' ' -f1)
	guest=$(printf 'guest\n' | sha256sum | cut -d' ' -f1)
	for fmt in $FORMATS; do
		l=$SCRATCH/l.$fmt
		list_$fmt "$SCRATCH/d.$fmt" >"$l"
		assertTrue "$fmt: the added file is in /usr/sbin" \
			"grep -qxF '/usr/sbin/umlkit-probe f 0755 0 0 6 - $probe' '$l'"
		assertTrue "$fmt: /sbin is still the link" "grep -qxF '/sbin l 0777 0 0 - usr/sbin -' '$l'"
		assertTrue "$fmt: the configured hostname" "grep -q '^/etc/hostname f 0644 0 0 6 - $guest' '$l'"
		grep -v -e '^/usr/sbin/umlkit-probe ' -e '^/etc/hostname ' "$l" >"$l.rest"
		assertTrue "$fmt equals the tar: $(diff "$SCRATCH/l.tar" "$l.rest" | head -5)" \
			"cmp -s '$SCRATCH/l.tar' '$l.rest'"
		assertEquals "$fmt: entries" "$(($(wc -l <"$SCRATCH/l.tar") + 2))" "$(wc -l <"$l")"
	done
	assertTrue "the replaced hostname is noted: $(cat "$SCRATCH/err.ext4")" \
		"grep -q 'note: .*config.recipe:1: /etc/hostname replaces the file from .*debian.recipe:1' '$SCRATCH/err.ext4'"
}

test_extended_attributes_survive() {
	need_tree || return 0
	for fmt in $FORMATS; do
		keeps "$fmt" xattrs || continue
		assertEquals "$fmt" "/usr/bin/ping security.capability=$CAP" \
			"$(xattrs_$fmt "$SCRATCH/d.$fmt" /usr/bin/ping)"
	done
	assertTrue "cpio names what it loses: $(cat "$SCRATCH/err.cpio")" \
		"grep -q 'warning: cpio cannot hold extended attributes: /usr/bin/ping loses security.capability' '$SCRATCH/err.cpio'"
}

test_ext4_is_what_mke2fs_makes() {
	need_tree || return 0
	assertTrue "e2fsck ext4" "e2fsck -fn '$SCRATCH/d.ext4' >/dev/null 2>&1"
	assertTrue "e2fsck ext2" "e2fsck -fn '$SCRATCH/d.ext2' >/dev/null 2>&1"
	for t in ext4 ext2; do
		SOURCE_DATE_EPOCH=$EPOCH "$MKIMAGE" -t $t -s 2G -o "$SCRATCH/big.$t" "$SCRATCH/debian.recipe" ||
			fail "$t 2G"
		truncate -s 2G "$SCRATCH/mke2fs.$t"
		mke2fs -q -F -t $t "$SCRATCH/mke2fs.$t" || fail "mke2fs"
		for field in 'Filesystem features' 'Inode size' 'Inode count' 'Block size' 'Journal size' 'Reserved GDT blocks'; do
			assertEquals "$t: $field" "$(dumpe2fs -h "$SCRATCH/mke2fs.$t" 2>/dev/null | grep "^$field:")" \
				"$(dumpe2fs -h "$SCRATCH/big.$t" 2>/dev/null | grep "^$field:")"
		done
		rm -f "$SCRATCH/big.$t" "$SCRATCH/mke2fs.$t"
	done
}

# seconds since 1970 of PATH's mtime in an ext image
ext_mtime() {
	debugfs -R "stat \"$2\"" "$1" 2>/dev/null | sed -n 's/^ mtime: 0x\([0-9a-f]*\).*/\1/p' |
		while read -r hex; do echo $((0x$hex)); done
}

test_times_are_clamped_not_forced() {
	need_tree || return 0
	assertEquals "a package's time is kept" "$(tar_mtime $PY)" "$(ext_mtime "$SCRATCH/d.ext4" $PY)"
	if [ "$(tar_mtime /etc/passwd)" -gt "$EPOCH" ]; then
		assertEquals "a newer one is clamped" "$EPOCH" "$(ext_mtime "$SCRATCH/d.ext4" /etc/passwd)"
	fi
	mkdir -p "$SCRATCH/again"
	SOURCE_DATE_EPOCH=$EPOCH "$MKIMAGE" -t ext4 -o "$SCRATCH/again/d.ext4" "$SCRATCH/debian.recipe" \
		-c "$SCRATCH/config.recipe" 2>/dev/null
	assertTrue "reproducible" "cmp -s '$SCRATCH/again/d.ext4' '$SCRATCH/d.ext4'"
	rm -rf "$SCRATCH/again"
}

test_accounts_merge_into_the_trees_files() {
	need_tree || return 0
	printf 'user alice 1000 1000 /home/alice /bin/sh\ngroup lab 1000 alice\n' >"$SCRATCH/acct.recipe"
	"$MKIMAGE" -t cpio -z none -o "$SCRATCH/acct.cpio" "$SCRATCH/debian.recipe" "$SCRATCH/acct.recipe" \
		2>/dev/null || fail "build"
	mkdir -p "$SCRATCH/acct" && (cd "$SCRATCH/acct" && cpio -id --quiet etc/passwd etc/shadow etc/group etc/gshadow <"$SCRATCH/acct.cpio")
	tar -xf "$TAR" -C "$SCRATCH" ./etc/passwd
	assertEquals "every account kept, one added" "$(($(wc -l <"$SCRATCH/etc/passwd") + 1))" "$(wc -l <"$SCRATCH/acct/etc/passwd")"
	for name in root _apt sshd nobody alice; do
		assertTrue "passwd has $name" "grep -q '^$name:' '$SCRATCH/acct/etc/passwd'"
	done
	assertTrue "group lab" "grep -qx 'lab:x:1000:alice' '$SCRATCH/acct/etc/group'"
	assertTrue "gshadow lab" "grep -q '^lab:' '$SCRATCH/acct/etc/gshadow'"
	assertEquals "shadow keeps mode and group" "/etc/shadow f 0640 0 42" \
		"$(list_cpio "$SCRATCH/acct.cpio" | grep '^/etc/shadow ' | cut -d' ' -f1-5)"
}

# build a bundle of the Debian tree with the tests' kernel; $1 format, $2 more config
# $1: the root format; $2: more .config lines; $3: the recipe (default: the tree)
debian_bundle() {
	o=$SCRATCH/o-$1
	umlkit_make O="$o" defconfig || fail "defconfig"
	sed -i -e '/^UMLKIT_KERNEL_FROM_TARBALL=y/d' -e '/^UMLKIT_KERNEL_TARBALL=/d' \
		-e '/^UMLKIT_ROOTFS_EXT2=y/d' -e '/^UMLKIT_ROOTFS_RECIPES=/d' -e '/^UMLKIT_BOOT_/d' \
		-e '/^UMLKIT_BUNDLE_/d' "$o/.config"
	printf 'UMLKIT_KERNEL_PREBUILT=y\nUMLKIT_KERNEL_PREBUILT_PATH="%s"\nUMLKIT_ROOTFS_%s=y\n' "$KERNEL" "$1" >>"$o/.config"
	printf 'UMLKIT_ROOTFS_RECIPES="%s"\nUMLKIT_BUNDLE_ZSTD=y\nUMLKIT_BOOT_MEM="256M"\n%s\n' \
		"${3:-$SCRATCH/debian.recipe}" "$2" >>"$o/.config"
	umlkit_make O="$o" olddefconfig && umlkit_make O="$o"
}

test_login_mode_without_init_fails_at_build_time() {
	need_tree || return 0
	debian_bundle EXT4 'UMLKIT_BOOT_INTERACTIVE=y'
	assertEquals "make fails (2)" 2 $?
	assertTrue "says why: $(tail -3 "$SCRATCH/make.log")" \
		"grep -q 'mkimage: the image has no executable /sbin/init: login mode (BOOT_INTERACTIVE) starts it' '$SCRATCH/make.log'"
	assertFalse "no image" "[ -e '$SCRATCH/o-EXT4/images/rootfs.ext4' ]"
}

boot_debian() {
	debian_bundle "$1" 'UMLKIT_BOOT_COMMAND=y' || { fail "build $1: $(tail -5 "$SCRATCH/make.log")"; return; }
	# lo up as root; ping as nobody needs its file capability (no ICMP
	# sockets for that group: net.ipv4.ping_group_range is "1 0")
	"$SCRATCH/o-$1/images/boot.sh" -- sh -c 'ip link set lo up &&
		setpriv --reuid=65534 --regid=65534 --clear-groups ping -c1 -W5 127.0.0.1 >/dev/null && echo ping-ok
		python3 -c "import os, sys; print(6 * 7)"; cat /etc/hostname' </dev/null 2>"$SCRATCH/boot.err"
}

# $1: the root format (ROOTFS_$1); $2 "keep": leave the build for more tests
assert_debian_boots() {
	out=$(boot_debian "$1")
	assertEquals "$1: $(stderr_of "$SCRATCH/boot.err")" "$(printf 'ping-ok\n42\numlkit')" "$out"
	[ "${2:-}" = keep ] || rm -rf "$SCRATCH/o-$1"
}

test_boots_from_ext4() {
	need_tree || return 0
	assert_debian_boots EXT4 keep
	# user networking with Debian's userland: iproute2 sees what init set
	# up, and python3 fetches a file from a server on the host's 127.0.0.1
	mkdir -p "$SCRATCH/www"
	head -c 1000000 /dev/urandom >"$SCRATCH/www/f"
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	python3 -m http.server --bind 127.0.0.1 --directory "$SCRATCH/www" "$port" >/dev/null 2>&1 &
	server=$!
	out=$("$SCRATCH/o-EXT4/images/boot.sh" --net user -- sh -c "ip -4 -o addr show eth0 | awk '{print \$4}'
		python3 -c '
import hashlib, socket, time
for _ in range(50):
    try:
        s = socket.create_connection((\"10.0.2.2\", $port), 5)
        break
    except OSError:
        time.sleep(0.2)
s.sendall(b\"GET /f HTTP/1.0\\r\\n\\r\\n\")
data = b\"\"
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
print(hashlib.sha256(data.split(b\"\\r\\n\\r\\n\", 1)[1]).hexdigest())
'" </dev/null 2>"$SCRATCH/boot.err")
	kill $server
	wait $server
	assertEquals "eth0, and the host's file: $(stderr_of "$SCRATCH/boot.err")" \
		"$(printf '10.0.2.15/24\n%s' "$(sha256sum <"$SCRATCH/www/f" | cut -d' ' -f1)")" "$out"
	rm -rf "$SCRATCH/o-EXT4"
}

test_boots_from_erofs() {
	need_tree || return 0
	assert_debian_boots EROFS
}

test_an_initramfs_root_too_big_for_memory_says_so() {
	need_tree || return 0
	debian_bundle CPIO 'UMLKIT_BOOT_COMMAND=y' || { fail "build: $(tail -5 "$SCRATCH/make.log")"; return; }
	b=$SCRATCH/o-CPIO/images/boot.sh
	# less than the unpacked tree: refused before booting
	"$b" --mem 100M -- true </dev/null 2>"$SCRATCH/err"
	assertEquals "refused: $(cat "$SCRATCH/err")" 125 $?
	assertTrue "says so" "grep -q 'the initramfs root unpacks to [0-9]* MiB .* more than the guest.s 100 MiB of memory: run with --mem [0-9]*M or more' '$SCRATCH/err'"
	# 300M holds it packed and unpacked, but not with a kernel: out of
	# memory while unpacking (it boots with 350M), and said so
	"$b" --mem 300M -- true </dev/null 2>"$SCRATCH/err"
	assertEquals "out of memory: $(cat "$SCRATCH/err")" 122 $?
	assertTrue "says so" "grep -q 'the guest ran out of its 300 MiB of memory with an initramfs root of [0-9]* MiB (unpacked): run with --mem [0-9]*M or more' '$SCRATCH/err'"
	# the size it names is enough
	hint=$(sed -n 's/.*run with --mem \([0-9]*M\) or more.*/\1/p' "$SCRATCH/err")
	assertEquals "with --mem $hint" "ok" "$("$b" --mem "$hint" -- echo ok </dev/null 2>"$SCRATCH/err")"
	rm -rf "$SCRATCH/o-CPIO"
}

# what debian_ci_defconfig builds: the tree slimmed by debian-slim.recipe,
# squashfs zstd:19 in 1 MiB blocks, under the tmpfs overlay
test_boots_from_squashfs() {
	need_tree || return 0
	printf 'include %s\ninclude %s/rootfs-recipes/debian-slim.recipe\n' "$SCRATCH/debian.recipe" "$TOPDIR" \
		>"$SCRATCH/slim.recipe"
	debian_bundle SQUASHFS "$(printf 'UMLKIT_BOOT_COMMAND=y\nUMLKIT_ROOTFS_SQUASHFS_COMPRESSION="zstd:19,1M"')" \
		"$SCRATCH/slim.recipe" || { fail "build: $(tail -5 "$SCRATCH/make.log")"; return; }
	assertEquals "zstd in 1 MiB blocks" "zstd 1048576" \
		"$(unsquashfs -s "$SCRATCH/o-SQUASHFS/images/rootfs.squashfs" | awk '/^Compression/ { c = $2 } /^Block size/ { b = $3 } END { print c, b }')"
	out=$("$SCRATCH/o-SQUASHFS/images/boot.sh" -- sh -c 'ip link set lo up &&
		setpriv --reuid=65534 --regid=65534 --clear-groups ping -c1 -W5 127.0.0.1 >/dev/null && echo ping-ok
		python3 -c "import os, sys; print(6 * 7)"; cat /etc/hostname
		ls /usr/share/doc/dpkg; ls -d /usr/share/man /usr/share/locale /usr/share/info 2>&1 | wc -l
		echo x >/usr/share/doc/dpkg/written && cat /usr/share/doc/dpkg/written' </dev/null 2>"$SCRATCH/boot.err")
	assertEquals "boots, slim, writable: $(stderr_of "$SCRATCH/boot.err")" \
		"$(printf 'ping-ok\n42\numlkit\ncopyright\n3\nx')" "$out"
	assertEquals "dpkg's licence is there" "$(tar -xOf "$TAR" ./usr/share/doc/dpkg/copyright | sha256sum)" \
		"$("$SCRATCH/o-SQUASHFS/images/boot.sh" -- cat /usr/share/doc/dpkg/copyright </dev/null 2>/dev/null | sha256sum)"
	rm -rf "$SCRATCH/o-SQUASHFS"
}

. shunit2
