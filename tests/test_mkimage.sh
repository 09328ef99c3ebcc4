#!/bin/sh
# mkimage: the same recipe gives the same content in every format of
# 'mkimage --formats' (read back by each format's lister in listing.sh:
# debugfs, unsquashfs, cpio, fsck.erofs), every error is reported with
# FILE:LINE and leaves no output, and output is reproducible.
# MKIMAGE may name the ASan/UBSan build.
. "$TOPDIR/tests/lib.sh"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1

R=$SCRATCH/recipes
# every format mkimage writes, and what each keeps (mkimage/formats.def)
FORMATS=$("$MKIMAGE" --formats | awk '{ print $1 }')
keeps() { "$MKIMAGE" --formats | awk -v f="$1" -v k="$2" '$1 == f && $4 ~ k { y = 1 } END { exit !y }'; }
CAP=0100000200200000000000000000000000000000 # cap_net_raw+ep

oneTimeSetUp() {
	mkdir -p "$R/host/deep" "$R/tree/sub"
	# content: empty, small, several MiB, non-ASCII and long names, deep
	: >"$R/host/empty"
	echo "small file" >"$R/host/small"
	head -c 3000000 /dev/urandom >"$R/host/big"
	d=$R/host/deep
	for i in 1 2 3 4 5 6 7 8 9 10 11 12; do d=$d/level$i; done
	mkdir -p "$d" && echo bottom >"$d/file"
	long=$(printf 'n%.0s' $(seq 1 200))
	echo long >"$R/tree/$long"
	echo "ünï" >"$R/tree/sub/ünïcödé name"
	echo linked >"$R/tree/sub/a" && ln "$R/tree/sub/a" "$R/tree/sub/b"
	ln -s ../sub/a "$R/tree/sub/rel-link"
	chmod 0750 "$R/tree/sub"
	cat >"$R/full.recipe" <<RECIPE
# every directive type
dir /etc 0755 0 0
file /etc/empty host/empty 0644 0 0
file /bin/su host/small 4755 0 0 /bin/su-hardlink /usr/bin/su
file /var/big host/big 0600 1000 100
text /etc/motd 0644 0 0 Hello\\nWorld\\n
text "/etc/with space" 2755 0 0 "quoted \\"text\\""
slink /etc/localtime /usr/share/zoneinfo/UTC 0777 0 0
nod /dev/null 0666 0 0 c 1 3
nod /dev/ubda 0660 0 6 b 98 0
pipe /run/fifo 0600 0 0
tree /opt/tree tree
tree /deep host/deep
include more.recipe
user root 0 0 /root /bin/sh ""
user daemon 1 1 /usr/sbin /usr/sbin/nologin
group root 0
remove /deep/level1/level2/level3/level4/level5/level6/level7/level8/level9/level10/level11/level12/file
RECIPE
	printf 'dir /srv 1777 0 0\nfile /srv/override host/small 0644 0 0\nfile /srv/override host/empty 0640 0 0\n' >"$R/more.recipe"
	# only for the formats that keep sockets
	printf 'sock /run/socket 0755 0 0\n' >"$R/sock.recipe"
	# owned by root whoever runs the tests: the listings below expect 0:0
	(cd "$R" && tar --owner=0 --group=0 --numeric-owner -cf tarball.tar -C tree . && gzip -k tarball.tar)
	printf 'tar /from-tar tarball.tar.gz\n' >"$R/tar.recipe"
}

build() {
	sock=$R/sock.recipe
	keeps "$1" sockets || sock=
	"$MKIMAGE" -t "$1" -o "$2" "$R/full.recipe" "$R/tar.recipe" $sock 2>"$SCRATCH/mkimage.err"
}

test_every_format_holds_the_same_content() {
	assertTrue "at least the five formats: $FORMATS" "[ $(echo $FORMATS | wc -w) -ge 5 ]"
	for t in $FORMATS; do
		build $t "$SCRATCH/img.$t" || fail "$t: $(cat "$SCRATCH/mkimage.err")"
		list_$t "$SCRATCH/img.$t" >"$SCRATCH/l.$t"
	done
	grep -v '^/run/socket ' "$SCRATCH/l.ext2" >"$SCRATCH/l.nosock"
	for t in $FORMATS; do
		want=$SCRATCH/l.ext2
		keeps $t sockets || want=$SCRATCH/l.nosock
		assertTrue "$t listing equals ext2's: $(diff "$want" "$SCRATCH/l.$t" | head -5)" \
			"cmp -s '$want' '$SCRATCH/l.$t'"
	done
	# what the recipe declares, written out by hand
	l=$SCRATCH/l.ext2
	big=$(sha256sum <"$R/host/big" | cut -d' ' -f1)
	small=$(sha256sum <"$R/host/small" | cut -d' ' -f1)
	empty=$(sha256sum </dev/null | cut -d' ' -f1)
	for want in \
		"/bin/su f 4755 0 0 11 - $small" \
		"/bin/su-hardlink f 4755 0 0 11 - $small" \
		"/usr/bin/su f 4755 0 0 11 - $small" \
		"/var/big f 0600 1000 100 3000000 - $big" \
		"/etc/empty f 0644 0 0 0 - $empty" \
		"/etc/motd f 0644 0 0 12 - $(printf 'Hello\nWorld\n' | sha256sum | cut -d' ' -f1)" \
		"/etc/with space f 2755 0 0 13 - $(printf 'quoted "text"' | sha256sum | cut -d' ' -f1)" \
		"/etc/localtime l 0777 0 0 - /usr/share/zoneinfo/UTC -" \
		"/dev/null c 0666 0 0 1,3 - -" \
		"/dev/ubda b 0660 0 6 98,0 - -" \
		"/run/fifo p 0600 0 0 - - -" \
		"/run/socket s 0755 0 0 - - -" \
		"/opt/tree/sub d 0750 0 0 - - -" \
		"/opt/tree/sub/rel-link l 0777 0 0 - ../sub/a -" \
		"/opt/tree/sub/ünïcödé name f 0644 0 0 6 - $(echo 'ünï' | sha256sum | cut -d' ' -f1)" \
		"/srv d 1777 0 0 - - -" \
		"/srv/override f 0640 0 0 0 - $empty" \
		"/from-tar/sub/b f 0644 0 0 7 - $(echo linked | sha256sum | cut -d' ' -f1)" \
		"/etc/passwd f 0644 0 0 78 - $(printf 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n' | sha256sum | cut -d' ' -f1)"
	do
		assertTrue "declared: $want" "grep -qxF '$want' '$l'"
	done
	assertFalse "removed file is gone" "grep -q 'level12/file' '$l'"
	assertTrue "deep tree kept" "grep -q '^/deep/level1/.*/level12 d' '$l'"
	long=$(printf 'n%.0s' $(seq 1 200))
	assertTrue "200-byte name" "grep -q '^/opt/tree/$long f 0644 0 0 5 ' '$l'"
}

test_hard_links_share_one_inode() {
	build ext2 "$SCRATCH/h.ext2" || fail "build"
	a=$(debugfs -R 'stat /bin/su' "$SCRATCH/h.ext2" 2>/dev/null | sed -n 's/^Inode: \([0-9]*\).*Links: \([0-9]*\).*/\1 \2/p; s/^Inode: \([0-9]*\).*/\1/p' | head -n 1)
	b=$(debugfs -R 'stat /usr/bin/su' "$SCRATCH/h.ext2" 2>/dev/null | sed -n 's/^Inode: \([0-9]*\).*/\1/p')
	assertEquals "same inode" "${a%% *}" "$b"
	assertTrue "3 links" "debugfs -R 'stat /bin/su' '$SCRATCH/h.ext2' 2>/dev/null | grep -q 'Links: 3'"
}

test_ext_images_pass_fsck() {
	for t in ext2 ext4; do
		build $t "$SCRATCH/f.$t" || fail "build $t"
		assertTrue "e2fsck -fn $t" "e2fsck -fn '$SCRATCH/f.$t' >/dev/null 2>&1"
	done
	"$MKIMAGE" -t ext4 -s 100M -o "$SCRATCH/empty.ext4" || fail "empty"
	assertTrue "empty 100M ext4" "e2fsck -fn '$SCRATCH/empty.ext4' >/dev/null 2>&1"
	assertEquals "size" 104857600 "$(wc -c <"$SCRATCH/empty.ext4")"
}

test_reproducible_across_dirs_umask_order_and_mtimes() {
	for t in $FORMATS; do
		SOURCE_DATE_EPOCH=1700000000 build $t "$SCRATCH/r1.$t" || fail "$t"
	done
	# the same recipes from another directory, other umask and mtimes
	# (newer than SOURCE_DATE_EPOCH: clamped to it)
	cp -a "$R" "$SCRATCH/copy"
	touch -d '2030-01-01' "$SCRATCH/copy/host/big" "$SCRATCH/copy/tree/sub/a"
	mkdir -p "$SCRATCH/out2"
	for t in $FORMATS; do
		sock=$SCRATCH/copy/sock.recipe
		keeps $t sockets || sock=
		(umask 077; cd /; R=$SCRATCH/copy SOURCE_DATE_EPOCH=1700000000 TZ=Asia/Tokyo LC_ALL=C.UTF-8 \
			"$MKIMAGE" -t $t -o "$SCRATCH/out2/r1.$t" "$SCRATCH/copy/full.recipe" "$SCRATCH/copy/tar.recipe" \
			$sock) ||
			fail "$t copy"
		assertTrue "$t bit-identical" "cmp '$SCRATCH/r1.$t' '$SCRATCH/out2/r1.$t'"
	done
	# many block groups: backup superblocks must match too
	"$MKIMAGE" -t ext4 -s 100M -o "$SCRATCH/big.ext4" && "$MKIMAGE" -t ext4 -s 100M -o "$SCRATCH/out2/big.ext4"
	assertTrue "100M ext4 bit-identical" "cmp '$SCRATCH/big.ext4' '$SCRATCH/out2/big.ext4'"
}

test_rootless_output_equals_root_output() {
	need_root "compare root-built and uid-65534-built images"
	chmod -R a+rX "$R"
	for t in $FORMATS; do
		build $t "$SCRATCH/x.$t" || fail "$t"
		mkdir -p "$SCRATCH/nb" && chown 65534 "$SCRATCH/nb"
		sock=$R/sock.recipe
		keeps $t sockets || sock=
		as_nobody "$MKIMAGE" -t $t -o "$SCRATCH/nb/x.$t" "$R/full.recipe" "$R/tar.recipe" $sock 2>"$SCRATCH/err"
		assertEquals "$t as uid 65534: $(cat "$SCRATCH/err")" 0 $?
		assertTrue "$t identical: $(cmp -l "$SCRATCH/x.$t" "$SCRATCH/nb/x.$t" | head -3)" "cmp -s '$SCRATCH/x.$t' '$SCRATCH/nb/x.$t'"
	done
}

# $1: expected message (grep pattern); recipe on stdin
expect_error() {
	cat >"$SCRATCH/e.recipe"
	rm -f "$SCRATCH/e.img"*
	"$MKIMAGE" -t "${TYPE:-ext2}" -o "$SCRATCH/e.img" ${SIZE:+-s $SIZE} ${REQUIRE:+-r "$REQUIRE"} \
		"$SCRATCH/e.recipe" 2>"$SCRATCH/err"
	assertEquals "exit status for '$1'" 1 $?
	assertTrue "message '$1' in: $(cat "$SCRATCH/err")" "grep -q -- \"$1\" '$SCRATCH/err'"
	assertEquals "no output left for '$1'" "" "$(find "$SCRATCH" -maxdepth 1 -name 'e.img*')"
}

test_errors_name_file_and_line_and_leave_nothing() {
	f=$SCRATCH/e.recipe
	printf 'dir /a 0755 0 0\nbogus /x\n' | expect_error "$f:2: unknown directive 'bogus'"
	printf 'dir /a 0755 0\n' | expect_error "$f:1: 'dir' takes 4 fields"
	printf 'dir /a 0855 0 0\n' | expect_error "$f:1: bad mode '0855'"
	printf 'dir /a 0755 x 0\n' | expect_error "$f:1: bad uid 'x'"
	printf 'nod /n 0644 0 0 c 1 99999999\n' | expect_error "$f:1: bad minor number"
	printf '\nfile /a /nonexistent/file 0644 0 0\n' | expect_error "$f:2: host file '/nonexistent/file'"
	printf 'file /a %s 0644 0 0\n' "$SCRATCH" | expect_error "$f:1: host file .* is not a regular file"
	printf 'dir /a/../../etc 0755 0 0\n' | expect_error "$f:1: path '/a/../../etc' escapes the image"
	printf 'text /etc 0644 0 0 x\nfile /etc/passwd %s/recipes/host/small 0644 0 0\n' "$SCRATCH" |
		expect_error "$f:2: '/etc/passwd': '/etc' is a file, not a directory"
	printf 'slink /a b 0777 0 0\nslink /b a 0777 0 0\ndir /a/x 0755 0 0\n' |
		expect_error "$f:3: '/a/x': too many levels of symbolic links"
	printf 'file / %s/recipes/host/small 0644 0 0\n' "$SCRATCH" |
		expect_error "$f:1: the image root '/' can only be a directory"
	printf 'dir /%s 0755 0 0\n' "$(printf 'n%.0s' $(seq 1 256))" |
		expect_error "$f:1: .*a name is 256 bytes long; the limit is 255"
	printf 'xattr /nothing user.a b\n' | expect_error "$f:1: xattr '/nothing': nothing at that path"
	printf 'dir /a 0755 0 0\nxattr /a system.posix_acl_access b\n' | expect_error "$f:2: bad attribute name"
	printf 'dir /a 0755 0 0\nxattr /a user.x 0xabc\n' | expect_error "$f:2: bad value '0xabc'"
	printf 'include e.recipe\n' | expect_error "include cycle"
	printf 'dir /a 0755 0 0\nfile /a/x %s/recipes/host/small 0644 0 0 /a/y\nremove /a/x\n' "$SCRATCH" |
		expect_error "$f:2: hard link '/a/y' to '/a/x': no such file"
	printf 'dir /d 0755 0 0\nslink /s d 0777 0 0\nfile /x %s/recipes/host/small 0644 0 0\nremove /x\nfile /x %s/recipes/host/small 0644 0 0 /y\nremove /x\ndir /x 0755 0 0\n' "$SCRATCH" "$SCRATCH" |
		expect_error "hard link '/y' to '/x': not a regular file"
	printf 'text /a 0644 0 0 "unterminated\n' | expect_error "$f:1: unterminated quoted field"
	printf 'file /a ${UMLKIT_TEST_UNSET}/x 0644 0 0\n' | expect_error "$f:1: environment variable 'UMLKIT_TEST_UNSET' is not set"
	printf 'tar /t %s/recipes/host/small\n' "$SCRATCH" | expect_error "$f:1: .*host/small: truncated archive"
	printf 'remove /nothing\n' | expect_error "$f:1: remove '/nothing': nothing at that path"
	printf 'prune /nothing\n' | expect_error "$f:1: prune '/nothing': nothing at that path"
	printf 'text /a 0644 0 0 x\nprune /a\n' | expect_error "$f:2: prune '/a': not a directory"
	printf 'dir /a 0755 0 0\nprune /a b/c\n' | expect_error "$f:2: bad name 'b/c': one path component"
	printf 'file /big %s/recipes/host/big 0644 0 0\n' "$SCRATCH" | SIZE=1M expect_error "image too small"
	printf 'busybox /etc/passwd\n' | expect_error "$f:1: '/etc/passwd' is not an executable file"
}

# a tar whose one member's size field is base-256 INT64_MAX
huge_size_tar() {
	printf x >"$SCRATCH/one" && tar -cf "$1" -C "$SCRATCH" one
	printf '\200\177\377\377\377\377\377\377\377\377\377\377' |
		dd of="$1" bs=1 seek=124 conv=notrunc 2>/dev/null
	printf '        ' | dd of="$1" bs=1 seek=148 conv=notrunc 2>/dev/null
	sum=$(head -c 512 "$1" | od -An -v -tu1 | tr -s ' ' '\n' | awk '{ s += $1 } END { print s }')
	printf '%06o\000 ' "$sum" | dd of="$1" bs=1 seek=148 conv=notrunc 2>/dev/null
}

test_bad_inputs_fail_fast_with_file_and_line() {
	f=$SCRATCH/e.recipe
	mkfifo "$SCRATCH/fifo"
	# a FIFO as a source is refused, not waited on
	printf 'file /x %s/fifo 0644 0 0\n' "$SCRATCH" | expect_error "$f:1: host file .*fifo' is not a regular file"
	printf 'include %s/fifo\n' "$SCRATCH" | expect_error "$f:1: recipe .*fifo': not a regular file"
	printf 'tar / %s/fifo\n' "$SCRATCH" | expect_error "$f:1: .*fifo: not a regular file"
	# an include chain 2,000 deep
	i=0
	while [ $i -lt 2000 ]; do
		printf 'include c%d.recipe\n' $((i + 1)) >"$SCRATCH/c$i.recipe"
		i=$((i + 1))
	done
	: >"$SCRATCH/c2000.recipe"
	printf 'include c0.recipe\n' | expect_error "includes nest deeper than 64"
	huge_size_tar "$SCRATCH/huge.tar"
	printf 'tar / huge.tar\n' | expect_error "$f:1: .*huge.tar: bad number in tar header"
	# sparse members, GNU and pax
	truncate -s 1M "$SCRATCH/sparse" && echo end >>"$SCRATCH/sparse"
	tar -C "$SCRATCH" --sparse --format=gnu -cf "$SCRATCH/sparse-gnu.tar" sparse
	tar -C "$SCRATCH" --sparse --format=pax -cf "$SCRATCH/sparse-pax.tar" sparse
	printf 'tar / sparse-gnu.tar\n' | expect_error "$f:1: .*GNU sparse file"
	printf 'tar / sparse-pax.tar\n' | expect_error "$f:1: .*sparse file (pax GNU.sparse)"
	printf 'sock /s 0755 0 0\n' | TYPE=squashfs expect_error "$f:1: '/s' is a socket, which a squashfs image"
	printf 'dir /usr/bin 0755 0 0\n' | TYPE=ext4 REQUIRE=/sbin/init=why expect_error "the image has no executable /sbin/init: why"
}

# $1 signal, $2 its number: a slow build (xz of 40 MB of noise) is stopped by it
interrupted_build_leaves_nothing() {
	head -c 40000000 /dev/urandom >"$SCRATCH/noise"
	printf 'file /noise %s/noise 0644 0 0\n' "$SCRATCH" >"$SCRATCH/slow.recipe"
	"$MKIMAGE" -t cpio -z xz -o "$SCRATCH/slow.img" -d "$SCRATCH/slow.d" "$SCRATCH/slow.recipe" &
	pid=$!
	sleep 1
	kill -"$1" $pid
	wait $pid
	assertEquals "$1: dies of it" $((128 + $2)) $?
	assertEquals "$1: nothing left" "" "$(find "$SCRATCH" -maxdepth 1 -name 'slow.img*' -o -name 'slow.d*')"
	sleep 0.2
	assertEquals "$1: no xz left running" "" "$(pgrep -f "xz -T1 --check=crc32" || :)"
}

test_sigterm_and_sigint_leave_nothing_behind() {
	interrupted_build_leaves_nothing TERM 15
	interrupted_build_leaves_nothing INT 2
}

test_extended_attributes_from_every_source() {
	echo data >"$SCRATCH/xa"
	if ! setfattr -n user.origin -v host "$SCRATCH/xa" 2>/dev/null; then
		echo "SKIP: $SCRATCH's filesystem has no user extended attributes"
		startSkipping
		return
	fi
	mkdir -p "$SCRATCH/xt" && cp -a "$SCRATCH/xa" "$SCRATCH/xt/in-tree"
	tar --xattrs --xattrs-include='user.*' -C "$SCRATCH/xt" -cf "$SCRATCH/xa.tar" in-tree
	cat >"$SCRATCH/xa.recipe" <<RECIPE
file /from-file $SCRATCH/xa 0755 0 0
tree /tree $SCRATCH/xt
tar /tar $SCRATCH/xa.tar
file /bin/ping $SCRATCH/xa 0755 0 0
xattr /bin/ping security.capability 0x$CAP
xattr /bin/ping user.text "a b"
RECIPE
	for t in $FORMATS; do
		keeps $t xattrs || continue
		"$MKIMAGE" -t $t -o "$SCRATCH/xa.$t" "$SCRATCH/xa.recipe" || fail "$t"
		list=xattrs_$t
		for p in /from-file /tree/in-tree /tar/in-tree; do
			assertEquals "$t $p" "$p user.origin=686f7374" "$($list "$SCRATCH/xa.$t" $p)"
		done
		assertEquals "$t directive" "$(printf '/bin/ping security.capability=%s\n/bin/ping user.origin=686f7374\n/bin/ping user.text=612062' "$CAP")" \
			"$($list "$SCRATCH/xa.$t" /bin/ping | sort)"
	done
	"$MKIMAGE" -t cpio -o "$SCRATCH/xa.cpio" "$SCRATCH/xa.recipe" 2>"$SCRATCH/err" || fail cpio
	assertTrue "cpio warns: $(cat "$SCRATCH/err")" "grep -q 'cpio cannot hold extended attributes: /bin/ping loses security.capability and more' '$SCRATCH/err'"
}

# Attribute names come from recipes, tar pax records and host files: no
# writer may hand one to a shell (the EROFS writer once ran them).
test_attribute_names_with_shell_syntax_are_only_names() {
	evil1="user.\$(touch\${IFS}$SCRATCH/pwned1)"
	evil2="user.a;touch\${IFS}$SCRATCH/pwned2;\`touch\${IFS}$SCRATCH/pwned3\`"
	printf 'dir /etc 0755 0 0\ntext /etc/a 0644 0 0 x\nxattr /etc/a %s 0x41\nxattr /etc/a %s 0x42\n' \
		"$evil1" "$evil2" >"$SCRATCH/evil.recipe"
	for t in $FORMATS; do
		keeps $t xattrs || continue
		"$MKIMAGE" -t $t -o "$SCRATCH/evil.$t" "$SCRATCH/evil.recipe" 2>"$SCRATCH/err"
		assertEquals "$t builds: $(cat "$SCRATCH/err")" 0 $?
		assertFalse "$t ran nothing" "ls '$SCRATCH'/pwned* 2>/dev/null"
		assertEquals "$t keeps both names" 2 "$(xattrs_$t "$SCRATCH/evil.$t" /etc/a | grep -c 'touch')"
	done
}

# Real Debian packages (fetched once with apt-get download into
# $DEB_CACHE): the deb directive gives the files dpkg-deb lists.
test_a_debian_package_gives_the_files_dpkg_lists() {
	# run without make (tests/run.sh alone), DEB_CACHE is unset: downloads
	# go to the scratch directory, never into the working directory
	: "${DEB_CACHE:=$SCRATCH/debs}"
	mkdir -p "$DEB_CACHE"
	for pkg in busybox-static libc6; do
		ls "$DEB_CACHE/${pkg}_"*.deb >/dev/null 2>&1 ||
			(cd "$DEB_CACHE" && apt-get download "$pkg" >/dev/null 2>&1) || :
	done
	if ! ls "$DEB_CACHE"/libc6_*.deb "$DEB_CACHE"/busybox-static_*.deb >/dev/null 2>&1; then
		echo "SKIP: no Debian packages in $DEB_CACHE and apt-get download could not fetch them"
		startSkipping
		return
	fi
	for deb in "$DEB_CACHE"/busybox-static_*.deb "$DEB_CACHE"/libc6_*.deb; do
		name=${deb##*/}
		printf 'deb %s\n' "$deb" >"$SCRATCH/deb.recipe"
		SOURCE_DATE_EPOCH=2000000000 "$MKIMAGE" -t ext4 -o "$SCRATCH/deb.ext4" "$SCRATCH/deb.recipe" 2>"$SCRATCH/err"
		assertEquals "$name builds: $(cat "$SCRATCH/err")" 0 $?
		dpkg-deb --fsys-tarfile "$deb" >"$SCRATCH/data.tar"
		list_tar "$SCRATCH/data.tar" >"$SCRATCH/l.deb"
		list_ext "$SCRATCH/deb.ext4" >"$SCRATCH/l.img"
		assertEquals "$name: the image holds what dpkg-deb lists" "" \
			"$(diff "$SCRATCH/l.deb" "$SCRATCH/l.img" | head -5)"
	done
	printf 'not a package' >"$SCRATCH/fake.deb"
	printf 'deb %s\n' "$SCRATCH/fake.deb" >"$SCRATCH/deb.recipe"
	"$MKIMAGE" -t ext4 -o "$SCRATCH/deb.ext4" "$SCRATCH/deb.recipe" 2>"$SCRATCH/err"
	assertNotEquals "a file that is no package fails" 0 $?
	assertTrue "with file and line: $(cat "$SCRATCH/err")" \
		"grep -q 'deb.recipe:1: .*fake.deb. is not a Debian package' '$SCRATCH/err'"
	head -c 3000 "$DEB_CACHE"/busybox-static_*.deb >"$SCRATCH/cut.deb"
	printf 'deb %s\n' "$SCRATCH/cut.deb" >"$SCRATCH/deb.recipe"
	"$MKIMAGE" -t ext4 -o "$SCRATCH/deb.ext4" "$SCRATCH/deb.recipe" 2>"$SCRATCH/err"
	assertNotEquals "a cut package fails: $(cat "$SCRATCH/err")" 0 $?
}

test_merged_usr_symlinks_are_followed() {
	cat >"$SCRATCH/m.recipe" <<RECIPE
dir /usr/bin 0755 0 0
dir /usr/sbin 0755 0 0
slink /bin usr/bin 0777 0 0
slink /sbin /usr/sbin 0777 0 0
slink /up ../../.. 0777 0 0
file /sbin/init $R/host/small 0755 0 0
file /bin/sh $R/host/small 0755 0 0 /sbin/sh-link
dir /bin 0700 0 0
text /up/etc/motd 0644 0 0 hi
remove /sbin/sh-link
RECIPE
	"$MKIMAGE" -t ext4 -o "$SCRATCH/m.ext4" -r /sbin/init "$SCRATCH/m.recipe" || fail "build"
	l=$(list_ext "$SCRATCH/m.ext4" | cut -d' ' -f1-3,7)
	for want in "/usr/sbin/init f 0755 -" "/usr/bin/sh f 0755 -" "/sbin l 0777 /usr/sbin" \
		"/bin l 0777 usr/bin" "/usr/bin d 0700 -" "/etc/motd f 0644 -"; do
		assertTrue "$want in: $l" "echo '$l' | grep -qxF '$want'"
	done
	assertFalse "the removed link" "echo '$l' | grep -q sh-link"
}

test_recipe_error_keeps_the_previous_image() {
	printf 'dir /a 0755 0 0\n' >"$SCRATCH/k.recipe"
	"$MKIMAGE" -t ext2 -o "$SCRATCH/k.img" "$SCRATCH/k.recipe" || fail "first image"
	cp "$SCRATCH/k.img" "$SCRATCH/k.orig"
	printf 'bogus\n' >>"$SCRATCH/k.recipe"
	"$MKIMAGE" -t ext2 -o "$SCRATCH/k.img" "$SCRATCH/k.recipe" 2>/dev/null
	assertEquals "exit status" 1 $?
	assertTrue "the previous image is untouched" "cmp -s '$SCRATCH/k.orig' '$SCRATCH/k.img'"
}

test_output_that_cannot_be_replaced_is_an_error() {
	mkdir -p "$SCRATCH/taken/sub"
	printf 'dir /a 0755 0 0\n' >"$SCRATCH/taken.recipe"
	"$MKIMAGE" -t ext2 -o "$SCRATCH/taken" "$SCRATCH/taken.recipe" 2>"$SCRATCH/err"
	assertEquals "exit status" 1 $?
	assertTrue "names the output: $(cat "$SCRATCH/err")" \
		"grep -q 'mkimage: $SCRATCH/taken: Is a directory' '$SCRATCH/err'"
	assertTrue "the directory is untouched" "[ -d '$SCRATCH/taken/sub' ]"
	assertEquals "no temp file left" "" "$(find "$SCRATCH" -maxdepth 1 -name 'taken.tmp-*' -o -name 'taken.work-*')"
}

test_env_expansion_in_locations() {
	printf 'file /x ${UMLKIT_TEST_DIR}/small 0644 0 0\n' >"$SCRATCH/env.recipe"
	UMLKIT_TEST_DIR=$R/host "$MKIMAGE" -t cpio -z none -o "$SCRATCH/env.cpio" "$SCRATCH/env.recipe"
	assertEquals "status" 0 $?
	assertTrue "content" "cpio -i --to-stdout x <'$SCRATCH/env.cpio' 2>/dev/null | grep -qx 'small file'"
}

test_depfile_lists_every_input() {
	"$MKIMAGE" -t cpio -o "$SCRATCH/d.cpio" -d "$SCRATCH/d.d" "$R/full.recipe" "$R/tar.recipe" || fail "build"
	for f in full.recipe more.recipe tar.recipe tarball.tar.gz host/big host/small tree/sub; do
		assertTrue "depfile lists $f" "grep -q '$R/$f' '$SCRATCH/d.d'"
	done
}

test_gen_init_cpio_list_works_unchanged() {
	# the kernel's own example list (usr/default_cpio_list style)
	printf '# a kernel list\ndir /dev 0755 0 0\nnod /dev/console 0600 0 0 c 5 1\ndir /root 0700 0 0\n' >"$SCRATCH/k.list"
	"$MKIMAGE" -t cpio -z none -o "$SCRATCH/k.cpio" "$SCRATCH/k.list" || fail "build"
	assertTrue "console node" "list_cpio '$SCRATCH/k.cpio' | grep -qx '/dev/console c 0600 0 0 5,1 - -'"
}

# squashfs: zstd by default, xz in 1 MiB blocks with -z xz, a block size
# after a comma, the same content either way; no other compressor (the
# kernel reads these two)
test_squashfs_compression() {
	build squashfs "$SCRATCH/z.sqfs" || fail "zstd: $(cat "$SCRATCH/mkimage.err")"
	"$MKIMAGE" -t squashfs -z xz -o "$SCRATCH/x.sqfs" "$R/full.recipe" "$R/tar.recipe" 2>"$SCRATCH/mkimage.err" ||
		fail "xz: $(cat "$SCRATCH/mkimage.err")"
	assertEquals "default" "zstd 131072" "$(unsquashfs -s "$SCRATCH/z.sqfs" | awk '/^Compression/ { c = $2 } /^Block size/ { b = $3 } END { print c, b }')"
	assertEquals "-z xz" "xz 1048576" "$(unsquashfs -s "$SCRATCH/x.sqfs" | awk '/^Compression/ { c = $2 } /^Block size/ { b = $3 } END { print c, b }')"
	"$MKIMAGE" -t squashfs -z zstd:19 -o "$SCRATCH/l.sqfs" "$R/full.recipe" 2>"$SCRATCH/mkimage.err" ||
		fail "zstd:19: $(cat "$SCRATCH/mkimage.err")"
	assertTrue "-z zstd:19" "unsquashfs -s '$SCRATCH/l.sqfs' | grep -q 'compression-level 19'"
	"$MKIMAGE" -t squashfs -z zstd:19,1M -o "$SCRATCH/b.sqfs" "$R/full.recipe" "$R/tar.recipe" 2>"$SCRATCH/mkimage.err" ||
		fail "zstd:19,1M: $(cat "$SCRATCH/mkimage.err")"
	assertEquals "-z zstd:19,1M" "zstd 1048576" "$(unsquashfs -s "$SCRATCH/b.sqfs" | awk '/^Compression/ { c = $2 } /^Block size/ { b = $3 } END { print c, b }')"
	assertEquals "the same content in 1 MiB blocks" "$(list_squashfs "$SCRATCH/z.sqfs")" "$(list_squashfs "$SCRATCH/b.sqfs")"
	"$MKIMAGE" -t squashfs -z xz,64K -o "$SCRATCH/b.sqfs" "$R/full.recipe" 2>"$SCRATCH/mkimage.err" ||
		fail "xz,64K: $(cat "$SCRATCH/mkimage.err")"
	assertEquals "-z xz,64K" "xz 65536" "$(unsquashfs -s "$SCRATCH/b.sqfs" | awk '/^Compression/ { c = $2 } /^Block size/ { b = $3 } END { print c, b }')"
	for bad in zstd:23 zstd: zstd, zstd,2M zstd,100K zstd:19,1G xz:6 zstd19 'zstd,1M;true'; do
		"$MKIMAGE" -t squashfs -z "$bad" -o "$SCRATCH/g.sqfs" "$R/full.recipe" 2>/dev/null
		assertEquals "-z $bad refused" 2 $?
	done
	assertEquals "the same content" "$(list_squashfs "$SCRATCH/z.sqfs")" "$(list_squashfs "$SCRATCH/x.sqfs")"
	"$MKIMAGE" -t squashfs -z gzip -o "$SCRATCH/g.sqfs" "$R/full.recipe" 2>"$SCRATCH/err"
	assertEquals "-z gzip refused" 2 $?
	assertEquals "one line says why" "mkimage: -z 'gzip': squashfs images use zstd, zstd:LEVEL (1-22) or xz, each with an optional ,BLOCK (4K-1M, a power of two)" "$(cat "$SCRATCH/err")"
	assertFalse "nothing written" "[ -e '$SCRATCH/g.sqfs' ]"
}

# prune: everything below a directory goes except the names kept, and the
# directories that lead to them; a directory named like a kept file goes
# when it holds nothing kept
test_prune_keeps_the_named_files() {
	cat >"$SCRATCH/prune.recipe" <<EOF
dir /doc 0755 0 0
text /doc/a/copyright 0644 0 0 licence
text /doc/a/changelog 0644 0 0 log
text /doc/b/README 0644 0 0 readme
slink /doc/c a 0777 0 0
text /doc/d/e/copyright 0644 0 0 deep
dir /doc/copyright 0755 0 0
text /other/changelog 0644 0 0 stays
prune /doc copyright
EOF
	"$MKIMAGE" -t cpio -z none -o "$SCRATCH/prune.cpio" "$SCRATCH/prune.recipe" 2>"$SCRATCH/mkimage.err" ||
		fail "prune: $(cat "$SCRATCH/mkimage.err")"
	assertEquals "what is left" "/doc
/doc/a
/doc/a/copyright
/doc/d
/doc/d/e
/doc/d/e/copyright
/other
/other/changelog" "$(list_cpio "$SCRATCH/prune.cpio" | awk '$1 != "/" { print $1 }')"
}

test_help() {
	assertTrue "--help names --formats" "'$MKIMAGE' --help | grep -q -- '--formats'"
	"$MKIMAGE" -t nope -o "$SCRATCH/x" 2>"$SCRATCH/err"
	assertTrue "a bad type lists the formats: $(cat "$SCRATCH/err")" \
		"grep -qx \"mkimage: unknown image type 'nope': use ext2, ext4, squashfs, cpio or erofs\" '$SCRATCH/err'"
	"$MKIMAGE" -t nope -o "$SCRATCH/x" 2>/dev/null
	assertEquals "bad type" 2 $?
}

. shunit2
