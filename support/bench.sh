#!/bin/sh
# shellcheck disable=SC2317,SC2016 # step functions are called through median/pair_row; guest snippets are quoted whole
# umlkit benchmarks: medians and ratios against the raw tools.
# Usage: bench.sh [mkimage] [debpkg] [boot] [guest] [net] [lab] [labparts] [build] [static] [kunit] [cibundle] [pytest] [peers] ...
#        (default: all but kunit, which builds two KUnit kernels from scratch)
# Environment: TOPDIR, O (an output dir with a built default config),
# RUNS (repetitions for cheap steps, default 5), CLEAN_RUNS (default 1).
set -eu

: "${TOPDIR:?run through make bench}"
: "${O:?run through make bench}"
RUNS=${RUNS:-5}
CLEAN_RUNS=${CLEAN_RUNS:-1}
MKIMAGE=$O/build/host/mkimage
export LC_ALL=C
work=$(mktemp -d "${TMPDIR:-/tmp}/umlkit-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }

# wall time of one run of "$@" (in seconds), appended to file $1
time_into() {
	out=$1
	shift
	# no run pays for the previous one's writeback
	sync
	t0=$(now)
	"$@" >/dev/null 2>&1 </dev/null
	t1=$(now)
	echo "$t1 - $t0" | bc -l >>"$out"
}

median_of() {
	sort -n "$1" | awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.3f", m }'
}

# median of the wall times of RUNS runs of "$@"
median() {
	runs=$1
	shift
	: >"$work/times"
	i=0
	while [ $i -lt "$runs" ]; do
		time_into "$work/times" "$@"
		i=$((i + 1))
	done
	median_of "$work/times"
}

# one row: label $1, medians of RUNS runs each of commands $2 (umlkit) and
# $3 (raw), no arguments (name a function), run in turns so that both see
# the same load
pair_row() {
	: >"$work/times-a"
	: >"$work/times-b"
	i=0
	while [ $i -lt "$RUNS" ]; do
		time_into "$work/times-a" "$2"
		time_into "$work/times-b" "$3"
		i=$((i + 1))
	done
	row "$1" "$(median_of "$work/times-a")" "$(median_of "$work/times-b")"
}

row() { printf "%-44s %10s s %10s s %7.3f\n" "$1" "$2" "$3" "$(echo "$2 / $3" | bc -l)"; }
header() { printf '\n%s\n%-44s %12s %12s %7s\n' "$1" "step" "umlkit" "raw" "ratio"; }

bench_mkimage() {
	header "mkimage: 10,000 files, 200 MiB (raw: the tool run directly on the same tree)"
	tree=$work/tree
	i=0
	while [ $i -lt 100 ]; do
		mkdir -p "$tree/d$i"
		j=0
		while [ $j -lt 100 ]; do
			head -c 20971 /dev/urandom >"$tree/d$i/f$j"
			j=$((j + 1))
		done
		i=$((i + 1))
	done
	echo "tree / $tree" >"$work/tree.recipe"
	# the same size for both: what mkimage chooses automatically
	"$MKIMAGE" -t ext2 -o "$work/m.ext2" "$work/tree.recipe"
	blocks=$(( $(wc -c <"$work/m.ext2") / 4096 ))
	inodes=$(debugfs -R stats "$work/m.ext2" 2>/dev/null | sed -n 's/^Inode count: *//p')
	mk_ext2() { "$MKIMAGE" -t ext2 -o "$work/m.ext2" "$work/tree.recipe"; }
	raw_ext2() { genext2fs -B 4096 -b "$blocks" -N "$inodes" -d "$tree" "$work/g.ext2"; }
	mk_squashfs() { "$MKIMAGE" -t squashfs -o "$work/m.sqfs" "$work/tree.recipe"; }
	raw_squashfs() { mksquashfs "$tree" "$work/g.sqfs" -noappend -quiet -no-progress -no-xattrs -comp zstd; }
	pair_row "ext2 (genext2fs)" mk_ext2 raw_ext2
	pair_row "squashfs (mksquashfs)" mk_squashfs raw_squashfs
	bench_debian
}

# A real Debian tree (support/debian-tree.sh, made once): mkimage reads the
# tar as a recipe "tar / debian.tar"; the raw tools read the same tree
# extracted (as root, with owners and xattrs), at the same image size.
bench_debian() {
	tar=${DEBIAN_TREE:?run through make bench}
	if ! sh "$TOPDIR/support/debian-tree.sh" "$tar"; then
		echo "(no Debian tree: the Debian rows are skipped)"
		return 0
	fi
	header "mkimage: Debian 12 minbase tree, $(tar -tf "$tar" | wc -l) entries, $(($(wc -c <"$tar") / 1000000)) MB (raw: the tool on the extracted tree)"
	tree=$work/debian
	mkdir -p "$tree"
	tar --xattrs --xattrs-include='*' -xpf "$tar" -C "$tree" 2>/dev/null
	echo "tar / $tar" >"$work/debian.recipe"
	"$MKIMAGE" -t ext4 -o "$work/d.ext4" "$work/debian.recipe"
	"$MKIMAGE" -t ext2 -o "$work/d.ext2" "$work/debian.recipe"
	ext4_bytes=$(wc -c <"$work/d.ext4")
	ext2_blocks=$(($(wc -c <"$work/d.ext2") / 1024))
	ext2_inodes=$(dumpe2fs -h "$work/d.ext2" 2>/dev/null | sed -n 's/^Inode count: *//p')
	mk_d_ext4() { "$MKIMAGE" -t ext4 -o "$work/d.ext4" "$work/debian.recipe"; }
	raw_d_ext4() { rm -f "$work/r.ext4"; truncate -s "$ext4_bytes" "$work/r.ext4" &&
		mke2fs -q -F -t ext4 -d "$tree" "$work/r.ext4"; }
	mk_d_ext2() { "$MKIMAGE" -t ext2 -o "$work/d.ext2" "$work/debian.recipe"; }
	raw_d_ext2() { genext2fs -B 1024 -b "$ext2_blocks" -N "$ext2_inodes" -d "$tree" "$work/r.ext2"; }
	mk_d_sqfs() { "$MKIMAGE" -t squashfs -o "$work/d.sqfs" "$work/debian.recipe"; }
	raw_d_sqfs() { mksquashfs "$tree" "$work/r.sqfs" -noappend -quiet -no-progress -comp zstd; }
	pair_row "ext4 (mke2fs -t ext4 -d)" mk_d_ext4 raw_d_ext4
	pair_row "ext2 (genext2fs -d)" mk_d_ext2 raw_d_ext2
	pair_row "squashfs, zstd (mksquashfs)" mk_d_sqfs raw_d_sqfs
	# issue 27's target: 1.2x or less, uncompressed as mkimage writes it
	mk_d_erofs() { "$MKIMAGE" -t erofs -o "$work/d.erofs" "$work/debian.recipe"; }
	raw_d_erofs() { mkfs.erofs --quiet "$work/r.erofs" "$tree" >/dev/null; }
	pair_row "erofs, uncompressed (mkfs.erofs; target 1.2x)" mk_d_erofs raw_d_erofs
	rm -rf "$tree"
}

# 'debian' recipe lines against mmdebstrap, cold: the same package set
# from the same mirror, downloads included (umlkit: an empty cache of its
# own; mmdebstrap always downloads), to a configured tree in a tar archive.
# umlkit resolves with apt, unpacks the essential set with mkimage and
# configures in UML; mmdebstrap needs root or subordinate ids for this.
BENCH_DEBIAN_PACKAGES=${BENCH_DEBIAN_PACKAGES:-iproute2 iputils-ping frr python3-pytest openssh-server}
bench_debpkg() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "(debpkg: mmdebstrap needs root here: the rows are skipped)"
		return 0
	fi
	header "Debian bookworm minbase + $BENCH_DEBIAN_PACKAGES, cold (raw: mmdebstrap --variant=minbase)"
	echo "bookworm $BENCH_DEBIAN_PACKAGES" >"$work/request"
	mk_debpkg() {
		rm -rf "$work/dcache" "$work/d.lock" "$work/d.tar"
		UMLKIT_DEBIAN_CACHE=$work/dcache sh "$TOPDIR/rootfs-recipes/debian.sh" resolve -l "$work/d.lock" -q "$work/request" &&
			UMLKIT_DEBIAN_CACHE=$work/dcache sh "$TOPDIR/rootfs-recipes/debian.sh" fetch -l "$work/d.lock" &&
			UMLKIT_DEBIAN_CACHE=$work/dcache sh "$TOPDIR/rootfs-recipes/debian.sh" tree -l "$work/d.lock" \
				-o "$work/d.tar" -k "$O/images/linux" -r "$O/build/runtime/umlkit-run" \
				-m "$MKIMAGE" -i "$O/build/target/umlkit-init"
	}
	raw_debpkg() {
		rm -f "$work/m.tar"
		mmdebstrap --quiet --mode=root --variant=minbase \
			--include="$(echo "$BENCH_DEBIAN_PACKAGES" | tr ' ' ',')" bookworm "$work/m.tar"
	}
	saved=$RUNS
	RUNS=$CLEAN_RUNS
	pair_row "cold: resolve, download, configure to a tar" mk_debpkg raw_debpkg
	RUNS=$saved
	mk_warm() { UMLKIT_DEBIAN_CACHE=$work/dcache sh "$TOPDIR/rootfs-recipes/debian.sh" tree -l "$work/d.lock" \
		-o "$work/d.tar" -k "$O/images/linux" -r "$O/build/runtime/umlkit-run" -m "$MKIMAGE" -i "$O/build/target/umlkit-init"; }
	echo "tree from the stage cache (no dpkg, no network): $(median "$RUNS" mk_warm) s"
	echo "packages: $(grep -cv -e '^#' -e '^request ' -e '^epoch ' "$work/d.lock"); tar: umlkit $(($(wc -c <"$work/d.tar") / 1000000)) MB, mmdebstrap $(($(wc -c <"$work/m.tar") / 1000000)) MB"
	rm -rf "$work/dcache" "$work/d.tar" "$work/m.tar"
}

# Guest workloads against the host, side by side: the time a loop takes
# inside the guest (read from the guest's /proc/uptime, so boot is not
# counted) and on the host, with the same BusyBox sh. A bundle with a
# 256 MiB root disk and 256 MiB of memory, the kernel from the cache.
bench_guest() {
	header "guest workloads (umlkit: inside the guest; raw: the same on the host)"
	g=$work/guest
	make -C "$TOPDIR" O="$g" defconfig >/dev/null
	sed -i -e '/^UMLKIT_ROOTFS_SIZE=/d' -e '/^UMLKIT_BOOT_MEM=/d' -e '/UMLKIT_BUNDLE_/d' "$g/.config"
	printf 'UMLKIT_ROOTFS_SIZE="256M"\nUMLKIT_BOOT_MEM="256M"\nUMLKIT_BUNDLE_ZSTD=y\n' >>"$g/.config"
	make -C "$TOPDIR" O="$g" olddefconfig >/dev/null && make -C "$TOPDIR" O="$g" >/dev/null
	# a 50 MB tree of 2,000 files to untar and checksum
	mkdir -p "$work/share/tree"
	i=0
	while [ $i -lt 2000 ]; do
		head -c 25000 /dev/urandom >"$work/share/tree/f$i"
		i=$((i + 1))
	done
	tar -cf "$work/share/tree.tar" -C "$work/share" tree && rm -rf "$work/share/tree"
	forks='i=0; while [ $i -lt 1000 ]; do /bin/true; i=$((i + 1)); done'
	cpu='i=0; while [ $i -lt 200000 ]; do i=$((i + 1)); done'
	files() { echo "mkdir -p $1/x && tar -xf $2/tree.tar -C $1/x && find $1/x -type f | xargs sha256sum >/dev/null && rm -rf $1/x"; }
	# seconds a shell snippet takes in the guest (uptime before and after)
	in_guest() {
		"$g/images/boot.sh" --share "$work/share:/mnt/share" -- sh -c \
			"read a _ </proc/uptime; $1; read b _ </proc/uptime; echo \$b \$a | awk '{ print \$1 - \$2 }'" </dev/null
	}
	on_host() {
		t0=$(now)
		busybox sh -c "$1" >/dev/null 2>&1 </dev/null
		t1=$(now)
		echo "$t1 - $t0" | bc -l
	}
	guest_row() {
		: >"$work/times-a"
		: >"$work/times-b"
		i=0
		while [ $i -lt "$RUNS" ]; do
			in_guest "$2" >>"$work/times-a"
			on_host "$3" >>"$work/times-b"
			i=$((i + 1))
		done
		row "$1" "$(median_of "$work/times-a")" "$(median_of "$work/times-b")"
	}
	mkdir -p "$work/host"
	# an lmbench-style table: a system call, a fork, a fork+exec
	syscalls='dd if=/dev/zero of=/dev/null bs=1 count=100000 2>/dev/null'
	forkexit='i=0; while [ $i -lt 1000 ]; do (:); i=$((i + 1)); done'
	guest_row "100,000 read+write system calls (dd bs=1)" "$syscalls" "$syscalls"
	guest_row "1,000 fork+exit (a subshell)" "$forkexit" "$forkexit"
	guest_row "1,000 fork+exec of /bin/true (target: 3x)" "$forks" "$forks"
	guest_row "CPU: 200,000 shell loop iterations" "$cpu" "$cpu"
	guest_row "untar + sha256 50 MB, root disk" "$(files /root /mnt/share)" "$(files "$work/host" "$work/share")"
	guest_row "untar + sha256 50 MB, data disk" "$(files /mnt/data /mnt/share)" "$(files "$work/host" "$work/share")"
	rm -rf "$g"
}

# Networking (docs/net.md): throughput in MB/s, medians of RUNS, timed
# inside the guest (from /proc/uptime) or on the host around the transfer.
# Traffic stays on 127.0.0.1 and between the bench's own guests.
bench_net() {
	bundle=$O/images/boot.sh
	mb=200
	mkdir -p "$work/www"
	head -c $((mb * 1000000)) /dev/zero >"$work/www/big"
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	busybox httpd -f -p "127.0.0.1:$port" -h "$work/www" &
	httpd=$!
	# seconds of a guest snippet, by the guest's clock
	timed() { echo "read a _ </proc/uptime; $1; read b _ </proc/uptime; echo \$b \$a | awk '{ print \$1 - \$2 }'"; }
	rate() { awk -v mb="$mb" -v t="$1" 'BEGIN { printf "%.0f", mb / t }'; }
	net_row() { printf "%-44s %7s MB/s %7s MB/s %7.2f\n" "$1" "$2" "$3" "$(echo "$2 / $3" | bc -l)"; }
	fetch="wget -q -O /dev/null http://10.0.2.2:$port/big"
	legacy_setup="ifconfig eth0 10.0.2.15 up && route add default gw 10.0.2.2"
	# issue 27's targets are at Ethernet's MTU (a lab's); bundles use 16384
	mtu1500="ifconfig eth0 mtu 1500"
	: >"$work/a" && : >"$work/b" && : >"$work/c"
	i=0
	while [ $i -lt "$RUNS" ]; do
		"$bundle" --net user -- sh -c "$(timed "$fetch")" </dev/null >>"$work/a"
		"$bundle" --net user -- sh -c "$mtu1500 && $(timed "$fetch")" </dev/null >>"$work/c"
		# the floor: Debian's slirp (1.0.17, 2006) on UML's slirp transport
		"$bundle" --sandbox off --append "eth0=slirp,,/usr/bin/slirp-fullbolt" -- \
			sh -c "$legacy_setup && $(timed "$fetch")" </dev/null >>"$work/b" 2>/dev/null
		i=$((i + 1))
	done
	header "network: $mb MB transfers (MB/s; the floor or ceiling beside it)"
	net_row "guest fetches from host HTTP (raw: slirp)" "$(rate "$(median_of "$work/a")")" "$(rate "$(median_of "$work/b")")"
	net_row "  the same at MTU 1500 (target: 500 MB/s)" "$(rate "$(median_of "$work/c")")" "$(rate "$(median_of "$work/b")")"
	kill "$httpd"
	# the host reads from the guest through --forward (raw: host loopback)
	host_read() {
		python3 - "$1" "$mb" <<'PY'
import socket, sys, time
# through --forward, a connection made before the guest listens ends
# empty; the clock starts at the first byte (not at the guest's boot)
for _ in range(200):
    try:
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
        s.settimeout(60)
    except OSError:
        time.sleep(0.05)
        continue
    t0, n = None, 0
    while True:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        if t0 is None:
            t0 = time.monotonic()
        n += len(chunk)
    if n:
        break
    time.sleep(0.05)
assert n == int(sys.argv[2]) * 1000000, n
t = time.monotonic() - t0
print(t)
PY
	}
	serve="nc -l -p 5000 -e dd if=/dev/zero bs=1000000 count=$mb"
	: >"$work/a" && : >"$work/b" && : >"$work/c"
	i=0
	while [ $i -lt "$RUNS" ]; do
		fport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
		"$bundle" --net user --forward "$fport:5000" -- sh -c "$serve" </dev/null >/dev/null 2>&1 &
		host_read "$fport" >>"$work/a"
		wait $!
		fport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
		"$bundle" --net user --forward "$fport:5000" -- sh -c "$mtu1500 && $serve" </dev/null >/dev/null 2>&1 &
		host_read "$fport" >>"$work/c"
		wait $!
		fport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
		python3 -c "import socket
s = socket.socket(); s.bind(('127.0.0.1', $fport)); s.listen(1); c = s.accept()[0]; buf = bytes(1000000)
for _ in range($mb): c.sendall(buf)
c.close()" &
		host_read "$fport" >>"$work/b"
		wait $!
		i=$((i + 1))
	done
	net_row "host fetches via --forward (raw: loopback)" "$(rate "$(median_of "$work/a")")" "$(rate "$(median_of "$work/b")")"
	net_row "  the same at MTU 1500 (target: 500 MB/s)" "$(rate "$(median_of "$work/c")")" "$(rate "$(median_of "$work/b")")"
	# guest to guest over a switch (raw: the same nc pair on one guest's lo)
	sw=bench$$
	send="i=0; until nc 192.168.90.1 5000 -e dd if=/dev/zero bs=1000000 count=$mb 2>/dev/null; do
		i=\$((i + 1)); [ \$i -lt 100 ] || exit 1; sleep 0.1; done"
	: >"$work/a" && : >"$work/b" && : >"$work/c" && : >"$work/p"
	i=0
	while [ $i -lt "$RUNS" ]; do
		"$bundle" --switch "$sw" --ip 192.168.90.1/24 --timeout 120 -- nc -l -p 5000 -e dd of=/dev/null bs=1000000 \
			</dev/null >/dev/null 2>&1 &
		"$bundle" --switch "$sw" --ip 192.168.90.2/24 --timeout 120 -- sh -c "$(timed "$send")" </dev/null \
			2>/dev/null | tail -n 1 >>"$work/a"
		wait $!
		"$bundle" --switch "$sw" --ip 192.168.90.1/24 --timeout 120 -- sh -c \
			"$mtu1500 && nc -l -p 5000 -e dd of=/dev/null bs=1000000" </dev/null >/dev/null 2>&1 &
		"$bundle" --switch "$sw" --ip 192.168.90.2/24 --timeout 120 -- sh -c "$mtu1500 && $(timed "$send")" \
			</dev/null 2>/dev/null | tail -n 1 >>"$work/c"
		wait $!
		# round trips: 20 pings after one that finds the peer
		"$bundle" --switch "$sw" --ip 192.168.90.1/24 --timeout 60 -- sleep 8 </dev/null >/dev/null 2>&1 &
		"$bundle" --switch "$sw" --ip 192.168.90.2/24 --timeout 60 -- sh -c \
			"i=0; until ping -c 1 -W 1 192.168.90.1 >/dev/null; do i=\$((i + 1)); [ \$i -lt 50 ] || exit 1; done;
			ping -q -c 20 -i 0.1 192.168.90.1" </dev/null 2>/dev/null |
			sed -n 's|.*min/avg/max = [0-9.]*/\([0-9.]*\)/.*|\1|p' >>"$work/p"
		wait $!
		"$bundle" -- sh -c "(nc -l -p 5000 -e dd of=/dev/null bs=1000000 2>/dev/null &);
			$(timed "$(echo "$send" | sed 's/192.168.90.1/127.0.0.1/')")" </dev/null 2>/dev/null | tail -n 1 >>"$work/b"
		i=$((i + 1))
	done
	net_row "guest to guest over a switch (raw: one guest's lo)" "$(rate "$(median_of "$work/a")")" "$(rate "$(median_of "$work/b")")"
	net_row "  the same at MTU 1500 (target: 500 MB/s)" "$(rate "$(median_of "$work/c")")" "$(rate "$(median_of "$work/b")")"
	printf "%-44s %7s ms (target: 0.2 ms)\n" "ping guest to guest over a switch, average" "$(median_of "$work/p")"
	header "network: boot cost (raw: boot.sh -- true)"
	bundle_true() { "$bundle" -- true; }
	bundle_user() { "$bundle" --net user -- true; }
	bundle_switch() { "$bundle" --switch "$sw" -- true; }
	# boots are short and noisy: at least 11 pairs
	runs=$RUNS
	[ "$RUNS" -ge 11 ] || RUNS=11
	pair_row "boot.sh --net user -- true" bundle_user bundle_true
	pair_row "boot.sh --switch NAME -- true" bundle_switch bundle_true
	RUNS=$runs
}

# Labs (docs/lab.md): a generated lab of N machines on one collision
# domain (a router and N-1 hosts, addresses from their startup scripts).
lab_of() {
	d=$work/lab$1
	mkdir -p "$d"
	printf 'LAB_NAME="bench%s"\n' "$1" >"$d/lab.conf"
	i=1
	while [ "$i" -le "$1" ]; do
		printf 'm%s[0]="lan"\n' "$i" >>"$d/lab.conf"
		printf 'ip addr add 10.77.%s.%s/16 dev eth0\n' $((i / 200)) $((i % 200 + 1)) >"$d/m$i.startup"
		i=$((i + 1))
	done
	lab_bundle_of "$d" "$work/o-lab$1"
}

# the bundle of lab directory $1, built in $2 (lab_defconfig, zstd); its path
lab_bundle_of() {
	make -C "$TOPDIR" O="$2" lab_defconfig >/dev/null
	sed -i -e '/^UMLKIT_LAB_DIR=/d' -e '/UMLKIT_BUNDLE_/d' "$2/.config"
	printf 'UMLKIT_LAB_DIR="%s"\nUMLKIT_BUNDLE_ZSTD=y\n' "$1" >>"$2/.config"
	make -C "$TOPDIR" O="$2" olddefconfig >/dev/null && make -C "$TOPDIR" O="$2" >/dev/null
	echo "$2/images/boot.sh"
}

# proportional set size, in KiB, of process $1 and all its descendants;
# UML's helper threads are processes sharing its memory (CLONE_VM), so
# processes with one memory map (kcmp KCMP_VM) count once
pss_tree() {
	[ -f "$work/pss.py" ] || cat >"$work/pss.py" <<'PY'
import ctypes, os, sys
root = int(sys.argv[1])
parent = {}
for p in os.listdir("/proc"):
    if p.isdigit():
        try:
            parent[int(p)] = int(open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[1])
        except OSError:
            pass
def under(p):
    while p not in (0, 1, root) and p in parent:
        p = parent[p]
    return p == root
libc = ctypes.CDLL(None, use_errno=True)
seen, total = [], 0
for p in sorted(q for q in parent if under(q)):
    if any(libc.syscall(312, p, q, 1, 0, 0) == 0 for q in seen):
        continue
    try:
        total += next(int(l.split()[1]) for l in open(f"/proc/{p}/smaps_rollup") if l.startswith("Pss:"))
        seen.append(p)
    except (OSError, StopIteration):
        pass
print(total)
PY
	python3 "$work/pss.py" "$1"
}

bench_lab() {
	header "labs (umlkit: boot.sh start to every startup script done)"
	b=$(lab_of 10)
	start10() { "$b" start && "$b" stop; }
	printf '%-44s %10s s\n' "10-machine lab: start + stop" "$(median "$RUNS" start10)"
	t0=$(now)
	"$b" start >/dev/null
	t1=$(now)
	printf '%-44s %10s s\n' "10-machine lab: start alone" "$(echo "$t1 - $t0" | bc -l | awk '{ printf "%.3f", $1 }')"
	sleep 5
	inst=$(ls -d "${XDG_RUNTIME_DIR:-/nonexistent}"/umlkit-labs/bench10.default \
		/tmp/umlkit-labs-"$(id -u)"/bench10.default 2>/dev/null | head -n 1)
	mem=0
	for m in $(seq 1 10); do
		mem=$((mem + $(pss_tree "$(cat "$inst/m$m.pid")")))
	done
	mem=$((mem / 1024))
	printf '%-44s %10s MiB\n' "idle memory a machine (PSS; 64M guests)" $((mem / 10))
	"$b" stop
	b=$(lab_of 50)
	t0=$(now)
	"$b" start >/dev/null
	t1=$(now)
	ok=0
	for m in $(seq 1 50); do
		[ "$("$b" exec "m$m" -- hostname </dev/null)" = "m$m" ] && ok=$((ok + 1))
	done
	t2=$(now)
	printf '%-44s %10s s\n' "50-machine lab: start" "$(echo "$t1 - $t0" | bc -l | awk '{ printf "%.3f", $1 }')"
	printf '%-44s %10s s  (%d of 50 answered)\n' "50-machine lab: exec hostname on each" \
		"$(echo "$t2 - $t1" | bc -l | awk '{ printf "%.3f", $1 }')" "$ok"
	"$b" stop
}

# BENCH_FRR_ROUTERS (default 30) kathara/frr routers in a chain running
# OSPF, and 5 kathara/base hosts: start, convergence (r1 has a route to
# every other router's loopback), idle memory (PSS) of a router and a host.
bench_frrchain() {
	n=${BENCH_FRR_ROUTERS:-30}
	header "$n FRR routers in a chain, OSPF (kathara/frr), and 5 kathara/base hosts"
	d=$work/frrchain
	mkdir -p "$d"
	printf 'LAB_NAME="frrchain"\n' >"$d/lab.conf"
	i=1
	while [ "$i" -le "$n" ]; do
		k=0
		if [ "$i" -gt 1 ]; then
			printf 'r%s[%s]="l%s"\n' "$i" "$k" $((i - 1)) >>"$d/lab.conf"
			printf 'ip addr add 10.1.%s.2/24 dev eth%s\n' $((i - 1)) "$k" >"$d/r$i.startup"
			k=1
		fi
		if [ "$i" -lt "$n" ]; then
			printf 'r%s[%s]="l%s"\n' "$i" "$k" "$i" >>"$d/lab.conf"
			printf 'ip addr add 10.1.%s.1/24 dev eth%s\n' "$i" "$k" >>"$d/r$i.startup"
		fi
		printf 'r%s[image]="kathara/frr"\n' "$i" >>"$d/lab.conf"
		cat >>"$d/r$i.startup" <<EOF
ip addr add 10.255.0.$i/32 dev lo
sed -i 's/^ospfd=no/ospfd=yes/' /etc/frr/daemons
printf 'router ospf\n ospf router-id 10.255.0.$i\n network 10.0.0.0/8 area 0\n' >/etc/frr/frr.conf
systemctl start frr
EOF
		i=$((i + 1))
	done
	for h in 1 2 3 4 5; do
		printf 'h%s[0]="hosts"\nh%s[image]="kathara/base"\n' "$h" "$h" >>"$d/lab.conf"
		printf 'ip addr add 10.2.0.%s/24 dev eth0\n' "$h" >"$d/h$h.startup"
	done
	o=$work/o-frrchain
	make -C "$TOPDIR" O="$o" lab_defconfig >/dev/null
	sed -i -e '/^UMLKIT_LAB_DIR=/d' -e '/^UMLKIT_KERNEL_/d' "$o/.config"
	# the kernel built in O
	printf 'UMLKIT_LAB_DIR="%s"\nUMLKIT_KERNEL_PREBUILT=y\nUMLKIT_KERNEL_PREBUILT_PATH="%s"\n' "$d" "$O/images/linux" \
		>>"$o/.config"
	make -C "$TOPDIR" O="$o" olddefconfig >/dev/null && make -C "$TOPDIR" O="$o" >"$work/frrchain.log" 2>&1 ||
		{ tail "$work/frrchain.log"; return 1; }
	b=$o/images/boot.sh
	t0=$(now)
	"$b" start >/dev/null || echo "frrchain: a startup failed (see $b status)"
	t1=$(now)
	tries=0
	until [ "$("$b" exec r1 -- sh -c 'ip route | grep -c "^10\.255\.0\."' </dev/null)" -ge $((n - 1)) ] ||
		[ $tries -ge 600 ]; do
		sleep 1
		tries=$((tries + 1))
	done
	t2=$(now)
	printf '%-44s %10s s\n' "start ($n routers, 5 hosts)" "$(echo "$t1 - $t0" | bc -l | awk '{ printf "%.3f", $1 }')"
	printf '%-44s %10s s%s\n' "then OSPF converged (r1 routes to all)" \
		"$(echo "$t2 - $t1" | bc -l | awk '{ printf "%.3f", $1 }')" "$([ $tries -lt 600 ] || echo '  (NOT in 600 s)')"
	sleep 10
	inst=$(ls -d "${XDG_RUNTIME_DIR:-/nonexistent}"/umlkit-labs/frrchain.default \
		/tmp/umlkit-labs-"$(id -u)"/frrchain.default 2>/dev/null | head -n 1)
	routers=0 hosts=0
	i=1
	while [ "$i" -le "$n" ]; do
		routers=$((routers + $(pss_tree "$(cat "$inst/r$i.pid")")))
		i=$((i + 1))
	done
	for h in 1 2 3 4 5; do
		hosts=$((hosts + $(pss_tree "$(cat "$inst/h$h.pid")")))
	done
	printf '%-44s %10s MiB  (target 32)\n' "idle memory a FRR router (PSS)" $((routers / 1024 / n))
	printf '%-44s %10s MiB  (target 20)\n' "idle memory a kathara/base host (PSS)" $((hosts / 1024 / 5))
	"$b" stop
}

# A lab across hosts (docs/lab.md): a chain of BENCH_CHAIN (default 60)
# machines, link k (10.100.k.0/24) between mk and mk+1, m1 routing to the
# far end, first whole on this host, then in 3 parts (contiguous thirds,
# NAME[part]) on 3 hosts (network namespaces, support/nethosts.sh): start
# until every startup script is done, idle memory a machine (PSS; in parts
# the trunks counted too), a ping end to end, and 100 MB from m20 to m21
# (in parts: across a trunk).
chain_lab() {
	n=$1
	d=$work/chain
	mkdir -p "$d"
	printf 'LAB_NAME="chain"\n' >"$d/lab.conf"
	i=1
	while [ "$i" -le "$n" ]; do
		k=0
		: >"$d/m$i.startup"
		if [ "$i" -gt 1 ]; then
			printf 'm%s[0]="l%s"\n' "$i" $((i - 1)) >>"$d/lab.conf"
			printf 'ip addr add 10.100.%s.2/24 dev eth0\nip link set eth0 up\n' $((i - 1)) >>"$d/m$i.startup"
			k=1
		fi
		if [ "$i" -lt "$n" ]; then
			printf 'm%s[%s]="l%s"\n' "$i" "$k" "$i" >>"$d/lab.conf"
			printf 'ip addr add 10.100.%s.1/24 dev eth%s\nip link set eth%s up\n' "$i" "$k" "$k" >>"$d/m$i.startup"
			printf 'ip route add default via 10.100.%s.2\n' "$i" >>"$d/m$i.startup"
		fi
		[ "$i" -lt 3 ] || printf 'ip route add 10.100.1.0/24 via 10.100.%s.1\n' $((i - 1)) >>"$d/m$i.startup"
		printf 'm%s[part]=%s\n' "$i" $(((i - 1) * 3 / n + 1)) >>"$d/lab.conf"
		i=$((i + 1))
	done
	lab_bundle_of "$d" "$work/o-chain"
}

# the chain's measurements, as KEY=VALUE lines; run in each part's
# setting: $1 the bundle, $2 the command prefix of each part (1 to 3)
chain_script() {
	cat <<'SCRIPT'
now() { date +%s.%N; }
on() { part=$1; shift; eval "pre=\$ON$part"; $pre env XDG_RUNTIME_DIR="$HOSTS/h$part" "$CHAIN" "$@"; }
P=$H1,$H2,$H3
t0=$(now)
if [ "$PARTS" = 3 ]; then
	for k in 1 2 3; do
		on "$k" start --part "$k/3" --peers "$P" </dev/null >/dev/null 2>&1 &
		eval "starting$k=\$!"
	done
	# shellcheck disable=SC2154 # set by the eval
	wait "$starting1" "$starting2" "$starting3"	# not nethosts.sh's own
else
	on 1 start </dev/null >/dev/null 2>&1
fi
t1=$(now)
echo "start=$(echo "$t1 - $t0" | bc -l)"
sleep 5
pss=0
for k in 1 2 3; do
	for f in "$HOSTS/h$k"/umlkit-labs/chain.default/*.pid; do
		[ -f "$f" ] && pss=$((pss + $(python3 "$PSS" "$(cat "$f")")))
	done
done
echo "pss=$pss"
part_of() { [ "$PARTS" = 3 ] && echo $((($1 - 1) * 3 / N + 1)) || echo 1; }
echo "ping=$(on 1 exec m1 -- ping -q -c 5 -i 0.2 -W 5 "10.100.$((N - 1)).2" </dev/null 2>&1 |
	sed -n 's|.*min/avg/max = [0-9.]*/\([0-9.]*\)/.*|\1|p')"
on "$(part_of 21)" exec m21 -- nc -l -p 5000 -e dd of=/dev/null bs=1000000 </dev/null >/dev/null 2>&1 &
listener=$!
sleep 2
echo "transfer=$(on "$(part_of 20)" exec m20 -- sh -c 'read a _ </proc/uptime
	nc 10.100.20.2 5000 -e dd if=/dev/zero bs=1000000 count=100 2>/dev/null || exit 1
	read b _ </proc/uptime; echo $b $a | awk "{ print \$1 - \$2 }"' </dev/null 2>/dev/null)"
wait "$listener"
on 1 stop </dev/null >/dev/null 2>&1
SCRIPT
}

bench_labparts() {
	n=${BENCH_CHAIN:-60}
	chain=$(chain_lab "$n")
	pss_tree 1 >/dev/null	# writes $work/pss.py
	chain_script >"$work/chain.sh"
	for parts in 1 3; do
		rm -rf "$work/h1" "$work/h2" "$work/h3"
		mkdir -p "$work/h1" "$work/h2" "$work/h3" && chmod 700 "$work/h1" "$work/h2" "$work/h3"
		CHAIN=$chain HOSTS=$work PARTS=$parts N=$n PSS=$work/pss.py \
			UMLKIT_LAB_SECRET=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n') \
			unshare --user --map-root-user --net sh "$TOPDIR/support/nethosts.sh" 3 "$work/chain.sh" \
			>"$work/chain-$parts.out" 2>&1
	done
	value() { sed -n "s/^$1=//p" "$work/chain-$2.out"; }
	header "a $n-machine chain: one host, then 3 parts on 3 hosts (network namespaces)"
	printf '%-44s %10.2f s %10.2f s %7.2f\n' "start, until every startup script is done" "$(value start 3)" \
		"$(value start 1)" "$(echo "$(value start 3) / $(value start 1)" | bc -l)"
	printf '%-44s %8s MiB %8s MiB %7.2f\n' "idle memory a machine (PSS; parts: + trunks)" \
		"$(($(value pss 3) / 1024 / n))" "$(($(value pss 1) / 1024 / n))" \
		"$(echo "$(value pss 3) / $(value pss 1)" | bc -l)"
	printf '%-44s %9s ms %9s ms\n' "ping m1 to m$n, average ($((n - 1)) hops)" "$(value ping 3)" "$(value ping 1)"
	rate() { [ -n "$1" ] && awk -v t="$1" 'BEGIN { printf "%.0f", 100 / t }' || echo "failed"; }
	printf '%-44s %7s MB/s %7s MB/s\n' "100 MB m20 to m21 (parts: across a trunk)" "$(rate "$(value transfer 3)")" \
		"$(rate "$(value transfer 1)")"
}

bench_boot() {
	header "boot: boot.sh -- true, warm cache (raw: the extracted kernel booted directly)"
	bundle=$O/images/boot.sh
	"$bundle" -- true </dev/null
	cache=${XDG_CACHE_HOME:-$HOME/.cache}/umlkit/$(sed -n '3s/^# umlkit-digest: //p' "$bundle")
	run=$work/run
	mkdir -p "$run"
	echo command >"$run/mode"
	printf 'true\0' >"$run/args"
	echo "0 0 0" >"$run/ttys"
	: >"$run/stdin"
	# a hung direct boot (see the watchdog in boot/boot.sh.in) is killed
	# after 30 s and counts as such, one slow sample for the median; its
	# helper processes would keep the output pipe open, hence the pkill
	direct() {
		rm -f "$run"/*.cow "$run/status"
		TMPDIR=/dev/shm GLIBC_TUNABLES=glibc.pthread.rseq=0 timeout -s KILL 30 "${kernel:-$cache/linux}" mem=64M ubd0="$run/r.cow,$cache/rootfs.ext2" \
			ubd1="$run/d.cow,$cache/data.ext4" root=/dev/ubda rw init=/sbin/umlkit-init \
			con=null con0=null con2=null,fd:1 con3=null,fd:2 ssl=null noreboot fb_tunnels=none quiet \
			uml_dir="$run" umid=bench umlkit.run="$run" "$@" ||
			pkill -KILL -f "uml_dir=$run " || :
	}
	bundle_true() { "$bundle" -- true; }
	bundle_tt_true() { "$bundle" --time-travel -- true; }
	bundle_unconfined() { "$bundle" --sandbox off -- true; }
	direct_tt() { direct time-travel=inf-cpu; }
	pair_row "boot.sh -- true" bundle_true direct
	pair_row "boot.sh --time-travel -- true" bundle_tt_true direct_tt
	# issue 27's second target: against the bare floor of a kernel that
	# calibrates its delay loop (one built without kernel patch 0005),
	# booted directly with the same command line and images
	if [ -n "${BENCH_BASELINE_KERNEL:-}" ]; then
		direct_baseline() { kernel=$BENCH_BASELINE_KERNEL direct; }
		pair_row "boot.sh -- true (raw: BENCH_BASELINE_KERNEL)" bundle_true direct_baseline
	fi
	header "boot: the sandbox's cost (raw: boot.sh --sandbox off -- true)"
	pair_row "boot.sh -- true (Landlock, confined hostfs)" bundle_true bundle_unconfined
	printf '%-44s %10s bytes\n' "bundle size" "$(wc -c <"$bundle")"
}

# The kernel's own make with umlkit's environment (the same flags, so it
# has nothing to do after umlkit's build).
raw_kernel_make() {
	KBUILD_BUILD_USER=umlkit KBUILD_BUILD_HOST=umlkit KBUILD_BUILD_VERSION=1 \
	KBUILD_BUILD_TIMESTAMP="$(LC_ALL=C date -u -d "@$epoch")" \
	KCFLAGS="-ffile-prefix-map=$o/build/linux-src/= -ffile-prefix-map=$o/build/linux-obj/=" \
	LC_ALL=C TZ=UTC make -C "$o/build/linux-src" O="$o/build/linux-obj" ARCH=um -s linux
}

bench_build() {
	header "build (raw: the kernel's own make / genext2fs alone)"
	if [ "$CLEAN_RUNS" -gt 0 ]; then
		# clean builds of a copy of the tree
		src=$work/umlkit o=$work/o
		git -C "$TOPDIR" ls-files -z | (cd "$TOPDIR" && xargs -0 tar -cf -) |
			(mkdir -p "$src" && tar -xf - -C "$src")
		clean() { rm -rf "$o" && make -C "$src" O="$o" defconfig && make -C "$src" O="$o"; }
		full=$(median "$CLEAN_RUNS" clean)
		printf '%-44s %10s s\n' "full clean build (defconfig + make)" "$full"
	else
		# the existing build in $O; edited files are restored at exit
		src=$TOPDIR o=$O
		cp "$src/rootfs-recipes/default.recipe" "$work/recipe.orig"
		cp "$src/kernel/umlkit.config" "$work/fragment.orig"
		trap 'cp "$work/recipe.orig" "$src/rootfs-recipes/default.recipe";
			cp "$work/fragment.orig" "$src/kernel/umlkit.config"; rm -rf "$work"' EXIT
		make -C "$src" O="$o" >/dev/null
	fi
	epoch=$(cat "$o/build/kernel-build.opts")
	noop=$(median "$RUNS" make -C "$src" O="$o")
	kraw=$(median "$RUNS" raw_kernel_make)
	row "no-op make (raw: kernel make, nothing to do)" "$noop" "$kraw"
	edit() { echo "# $(now)" >>"$src/rootfs-recipes/default.recipe"; make -C "$src" O="$o"; }
	redit=$(median "$RUNS" edit)
	mkdir -p "$work/rootfs-tree"
	debugfs -R "rdump / $work/rootfs-tree" "$o/images/rootfs.ext2" >/dev/null 2>&1
	size=$(( $(wc -c <"$o/images/rootfs.ext2") / 1024 ))
	genraw=$(median "$RUNS" genext2fs -b "$size" -N 2048 -d "$work/rootfs-tree" "$work/g.img")
	row "recipe edit rebuild (raw: genext2fs alone)" "$redit" "$genraw"
	# a clean build (no kernel cache) with ccache: once to fill it, then timed
	ccache_clean() {
		rm -rf "$work/o3" && make -C "$src" O="$work/o3" defconfig &&
			printf 'UMLKIT_CCACHE=y\nUMLKIT_CCACHE_DIR="%s"\n' "$work/ccache" >>"$work/o3/.config" &&
			make -C "$src" O="$work/o3" olddefconfig && KERNEL_CACHE_DIR='' make -C "$src" O="$work/o3"
	}
	ccache_clean >/dev/null 2>&1
	printf '%-44s %10s s\n' "clean build, warm ccache, no kernel cache" "$(median 1 ccache_clean)"
	second() { rm -rf "$work/o2" && make -C "$src" O="$work/o2" ci_defconfig && make -C "$src" O="$work/o2"; }
	printf '%-44s %10s s\n' "second configuration, kernel from the cache" "$(median "$RUNS" second)"
	fedit() { echo "# $(now)" >>"$src/kernel/umlkit.config"; make -C "$src" O="$o"; }
	kedit=$(median "$RUNS" fedit)
	printf '%-44s %10s s\n' "kernel fragment edit rebuild" "$kedit"
}

# boot.sh -- true and the bundle's size against the same configuration
# built in $work/$1 with kernel fragments $2 instead
fragments_rows() {
	other=$work/$1
	make -C "$TOPDIR" O="$other" defconfig >/dev/null
	sed -i "s|^UMLKIT_KERNEL_FRAGMENTS=.*|UMLKIT_KERNEL_FRAGMENTS=\"$2\"|" "$other/.config"
	make -C "$TOPDIR" O="$other" >"$other.log" 2>&1 || { tail "$other.log"; return 1; }
	ours_true() { "$O/images/boot.sh" -- true; }
	other_true() { "$other/images/boot.sh" -- true; }
	ours_true </dev/null >/dev/null 2>&1 && other_true </dev/null >/dev/null 2>&1
	pair_row "boot.sh -- true" ours_true other_true
	a=$(wc -c <"$O/images/boot.sh") b=$(wc -c <"$other/images/boot.sh")
	printf "%-44s %10s B %10s B %7.3f\n" "bundle size" "$a" "$b" "$(echo "$a / $b" | bc -l)"
}

# The static kernel (kernel/static.config, the 6.12 default) against the
# same configuration linked dynamically: boot time and bundle size.
bench_static() {
	header "static kernel (raw: the same configuration, kernel linked dynamically)"
	fragments_rows dynamic "kernel/umlkit.config kernel/lab.config"
}

# The network features labs use (kernel/lab.config, in the 6.12 default)
# against the same kernel without them: boot time and bundle size.
bench_netkernel() {
	header "lab network features (raw: the kernel without kernel/lab.config)"
	fragments_rows no-lab-config "kernel/umlkit.config kernel/static.config"
}

# KUnit against kunit.py on the same source and kunitconfig, side by side:
# the same tests with the same results (kunit.py exec's JSON against
# boot.sh's), clean builds, an unchanged make + run against an unchanged
# kunit.py run, and boot.sh's run + parse against the bare kernel's
# boot-to-halt. BENCH_KUNIT_TARBALL (default: linux-source-6.1, where the
# reference figures come from), BENCH_KUNITCONFIG (default: default.config;
# all_tests.config for the long run).
bench_kunit() {
	tarball=${BENCH_KUNIT_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
	kunitconfig=${BENCH_KUNITCONFIG:-default.config}
	header "KUnit, $kunitconfig on ${tarball##*/} (raw: kunit.py)"
	ko=$work/kunit kpy=$work/kunit.py.tree kbuild=$work/kunit.py.build
	make -C "$TOPDIR" O="$ko" kunit_defconfig >/dev/null
	sed -i -e '/^UMLKIT_KERNEL_SOURCE_6_12=/d' -e '/^UMLKIT_KERNEL_TARBALL=/d' -e '/^UMLKIT_KERNEL_PATCHES=/d' "$ko/.config"
	case ${tarball##*/} in
	linux-source-6.1.tar.xz) echo 'UMLKIT_KERNEL_SOURCE_6_1=y' >>"$ko/.config" ;;
	*) printf 'UMLKIT_KERNEL_SOURCE_OTHER=y
UMLKIT_KERNEL_TARBALL="%s"
' "$tarball" >>"$ko/.config" ;;
	esac
	echo "UMLKIT_KUNITCONFIG=\"$kunitconfig\"" >>"$ko/.config"
	make -C "$TOPDIR" O="$ko" olddefconfig >/dev/null 2>&1
	mkdir -p "$kpy"
	tar -xf "$tarball" -C "$kpy" --strip-components=1
	kunit_py() { (cd "$kpy" && python3 tools/testing/kunit/kunit.py "$@" --build_dir="$kbuild"); }
	build_umlkit() { KERNEL_CACHE_DIR='' make -C "$TOPDIR" O="$ko"; }
	build_kunit_py() { kunit_py build --kunitconfig="tools/testing/kunit/configs/$kunitconfig" --jobs="$(nproc)"; }
	t0=$(now); build_umlkit >"$work/kunit-build.log" 2>&1; t1=$(now)
	build_kunit_py >"$work/kunit-py-build.log" 2>&1; t2=$(now)
	row "clean build" "$(echo "$t1 - $t0" | bc -l | awk '{ printf "%.1f", $1 }')" \
		"$(echo "$t2 - $t1" | bc -l | awk '{ printf "%.1f", $1 }')"
	bundle=$ko/images/boot.sh
	"$bundle" --json "$work/umlkit.json" >"$work/umlkit.out" 2>&1 || :
	kunit_py exec --json="$work/kunit-py.json" >"$work/kunit-py.out" 2>&1 || :
	printf '%-44s %s\n' "umlkit:" "$(tail -n 1 "$work/umlkit.out")"
	printf '%-44s %s\n' "kunit.py:" "$(sed -n 's/^\[[0-9:]*\] \(Testing complete\.\)/\1/p' "$work/kunit-py.out")"
	python3 - "$work/kunit-py.json" "$work/umlkit.json" <<'PY'
import json, sys
def theirs(g, path, out):
    for c in g.get("test_cases", []):
        out.add(("/".join(path), c["name"], {"ERROR": "CRASHED"}.get(c["status"], c["status"])))
    for s in g.get("sub_groups", []):
        theirs(s, path + [s["name"]], out)
def ours(ts, path, out):
    for t in ts:
        if t.get("tests"):
            ours(t["tests"], path + [t["name"]], out)
        else:
            out.add(("/".join(path), t["name"], t["status"]))
a, b = set(), set()
theirs(json.load(open(sys.argv[1])), [], a)
ours(json.load(open(sys.argv[2]))["tests"], [], b)
print("%-44s %s" % ("the same tests, the same results:", "yes, %d" % len(a) if a == b else "NO: %d differ" % len(a ^ b)))
for d in sorted(a ^ b)[:20]:
    print("   ", "kunit.py" if d in a else "umlkit", d)
PY
	bare() { "$ko/images/linux" kunit.enable=1 mem=1G console=tty kunit_shutdown=halt; }
	run_umlkit() { "$bundle"; }
	pair_row "run + parse (raw: the bare kernel, boot to halt)" run_umlkit bare
	run_kunit_py() { kunit_py exec; }
	pair_row "run + parse (raw: kunit.py exec)" run_umlkit run_kunit_py
	make_run() { make -C "$TOPDIR" O="$ko" && "$bundle"; }
	kunit_py_run() { kunit_py run --kunitconfig="tools/testing/kunit/configs/$kunitconfig" --jobs="$(nproc)"; }
	pair_row "unchanged make + run (raw: kunit.py run)" make_run kunit_py_run
}

# The Debian CI bundle (issue 25's targets): bookworm with python3-pytest,
# as a squashfs root stored in the bundle as it is (zstd, mkimage's
# default; xz; zstd:19 without manual pages, translations and changelogs,
# debian-slim.recipe; and debian_ci_defconfig's choice, slim in zstd:19
# with 1 MiB blocks), against the same tree as today's ext4 root compressed with xz. All from
# the same lock and the kernel of $O. Cold: a fresh cache directory each
# run (a new CI runner); warm: the cache kept. The command imports pytest,
# as a job's first would.
bench_cibundle() {
	header "Debian CI bundle, bookworm python3-pytest (raw: the same tree as ext4, xz-compressed)"
	printf 'include %s/rootfs-recipes/debian-minimal.recipe\ndebian bookworm python3-pytest\n' \
		"$TOPDIR" >"$work/pytest.recipe"
	cp "$work/pytest.recipe" "$work/slim.recipe"
	printf 'include %s/rootfs-recipes/debian-slim.recipe\n' "$TOPDIR" >>"$work/slim.recipe"
	# ci: what debian_ci_defconfig builds (slim, zstd:19 in 1 MiB blocks)
	for v in ext4 zstd xz slim ci; do
		co=$work/ci-$v recipe=$work/pytest.recipe fmt=SQUASHFS extra=
		case $v in
		ext4) fmt=EXT4 ;;
		zstd) extra='UMLKIT_ROOTFS_SQUASHFS_COMPRESSION="zstd"' ;;
		xz) extra='UMLKIT_ROOTFS_SQUASHFS_COMPRESSION="xz"' ;;
		slim) extra='UMLKIT_ROOTFS_SQUASHFS_COMPRESSION="zstd:19"' recipe=$work/slim.recipe ;;
		ci) recipe=$work/slim.recipe
			extra=$(grep '^UMLKIT_ROOTFS_SQUASHFS_COMPRESSION=' "$TOPDIR/configs/debian_ci_defconfig") ;;
		esac
		make -s -C "$TOPDIR" O="$co" debian_ci_defconfig >/dev/null
		sed -i -e '/^UMLKIT_KERNEL_/d' -e '/^UMLKIT_ROOTFS_/d' "$co/.config"
		printf 'UMLKIT_KERNEL_PREBUILT=y\nUMLKIT_KERNEL_PREBUILT_PATH="%s"\nUMLKIT_ROOTFS_RECIPES="%s"\nUMLKIT_DEBIAN_LOCK="%s"\nUMLKIT_ROOTFS_%s=y\n%s\n' \
			"$O/images/linux" "$recipe" "$work/pytest.lock" "$fmt" "$extra" >>"$co/.config"
		make -s -C "$TOPDIR" O="$co" olddefconfig >/dev/null 2>&1
		make -s -C "$TOPDIR" O="$co" >"$work/ci-$v.log" 2>&1 || { tail -5 "$work/ci-$v.log"; return 1; }
	done
	ext=$work/ci-ext4/images/boot.sh
	size() { echo "$(($(wc -c <"$1") / 1000000))"; }
	for v in zstd xz slim ci; do
		b=$work/ci-$v/images/boot.sh
		printf '%-44s %10s MB %10s MB %7.3f\n' "bundle size, squashfs $v (target: 45 MB)" \
			"$(size "$b")" "$(size "$ext")" "$(echo "$(wc -c <"$b") / $(wc -c <"$ext")" | bc -l)"
	done
	cold() { rm -rf "$work/cache"; XDG_CACHE_HOME=$work/cache "$1" -- python3 -m pytest --version; }
	warm() { XDG_CACHE_HOME=$work/cache-$2 "$1" -- python3 -m pytest --version; }
	cold_ext() { cold "$ext"; }
	warm_ext() { warm "$ext" ext4; }
	warm_ext >/dev/null 2>&1 </dev/null
	for v in zstd xz slim ci; do
		b=$work/ci-$v/images/boot.sh
		eval "cold_$v() { cold '$b'; }; warm_$v() { warm '$b' $v; }"
		"warm_$v" >/dev/null 2>&1 </dev/null
		pair_row "first run, cold cache, $v (target: 4 s)" "cold_$v" cold_ext
		pair_row "warm cache, $v (target: 2 s)" "warm_$v" warm_ext
	done
	rm -rf "$work"/cache* "$work"/ci-*
}

# Real test suites, guest against host (issue 25): Debian's python3-toolz
# and python3-networkx, which ship their tests, run by pytest in a squashfs
# guest (--cpu default, then --cpu all) and on the host from the same tree
# (its own loader and libraries: the same binaries). The time is pytest's
# own ("N passed in X s"), so boot and unpacking are not counted.
BENCH_PYTEST_SUITES=${BENCH_PYTEST_SUITES:-toolz networkx}
bench_pytest() {
	header "pytest suites (umlkit: in a squashfs guest, 512M; raw: the same tree's python3 on the host)"
	po=$work/pytest
	printf 'include %s/rootfs-recipes/debian-minimal.recipe\ndebian bookworm python3-pytest %s\n' \
		"$TOPDIR" "$(printf 'python3-%s ' $BENCH_PYTEST_SUITES)" >"$work/suites.recipe"
	make -s -C "$TOPDIR" O="$po" debian_ci_defconfig >/dev/null
	sed -i -e '/^UMLKIT_KERNEL_/d' -e '/^UMLKIT_ROOTFS_RECIPES/d' -e '/^UMLKIT_BOOT_MEM/d' "$po/.config"
	printf 'UMLKIT_KERNEL_PREBUILT=y\nUMLKIT_KERNEL_PREBUILT_PATH="%s"\nUMLKIT_ROOTFS_RECIPES="%s"\nUMLKIT_BOOT_MEM="512M"\n' \
		"$O/images/linux" "$work/suites.recipe" >>"$po/.config"
	make -s -C "$TOPDIR" O="$po" olddefconfig >/dev/null 2>&1
	make -s -C "$TOPDIR" O="$po" >"$work/pytest-build.log" 2>&1 || { tail -5 "$work/pytest-build.log"; return 1; }
	tree=$work/pytest-tree
	mkdir -p "$tree"
	tar -xf "$po/build/debian/rootfs/tree.tar" -C "$tree" --no-same-owner --no-same-permissions 2>/dev/null || :
	for suite in $BENCH_PYTEST_SUITES; do
		args="-q -p no:cacheprovider -x --pyargs $suite"
		# pytest's own time, from its last line
		took() { sed -n 's/.* in \([0-9.]*\)s.*/\1/p' "$1" | tail -n 1; }
		: >"$work/t-guest" && : >"$work/t-all" && : >"$work/t-host"
		i=0
		while [ $i -lt "$RUNS" ]; do
			# shellcheck disable=SC2086 # $args: words
			"$po/images/boot.sh" --timeout 1800 -- sh -c "cd /tmp && python3 -m pytest $args" \
				>"$work/out" 2>&1 </dev/null
			took "$work/out" >>"$work/t-guest"
			# shellcheck disable=SC2086
			"$po/images/boot.sh" --cpu all --timeout 1800 -- sh -c "cd /tmp && python3 -m pytest $args" \
				>"$work/out" 2>&1 </dev/null
			took "$work/out" >>"$work/t-all"
			# shellcheck disable=SC2086
			(cd "$work" && PYTHONHOME=$tree/usr PYTHONDONTWRITEBYTECODE=1 \
				"$tree/lib64/ld-linux-x86-64.so.2" --library-path "$tree/usr/lib/x86_64-linux-gnu" \
				"$tree/usr/bin/python3" -m pytest $args) >"$work/out-host" 2>&1 </dev/null
			took "$work/out-host" >>"$work/t-host"
			i=$((i + 1))
		done
		echo "$suite: guest: $(tail -n 1 "$work/out"); host: $(tail -n 1 "$work/out-host")"
		row "$suite, --cpu default" "$(median_of "$work/t-guest")" "$(median_of "$work/t-host")"
		row "$suite, --cpu all" "$(median_of "$work/t-all")" "$(median_of "$work/t-host")"
	done
	rm -rf "$tree" "$po"
}

# Against QEMU TCG, what users run when KVM is missing (issue 27): Debian's
# qemu-system-x86 booting Debian's own kernel (linux-image-amd64, fetched
# once with apt-get download into the cache) with an initramfs of the same
# BusyBox, the modules for virtio-net, and 256M, one vCPU. The same
# workloads as BENCH=guest and BENCH=net, timed the same way; the QEMU
# network is its user mode (libslirp), to the same host HTTP server on
# 127.0.0.1. Skipped, saying so, when qemu-system-x86_64 is not installed.
PEERS_MODULES="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci failover net_failover virtio_net"
peers_kernel() {
	pk=${XDG_CACHE_HOME:-$HOME/.cache}/umlkit/bench-peers
	[ -s "$pk/vmlinuz" ] && return 0
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)/\1/p' | head -n 1)
	[ -n "$pkg" ] || return 1
	mkdir -p "$pk/deb" && (cd "$pk/deb" && apt-get download "$pkg" >/dev/null 2>&1) || return 1
	dpkg-deb -x "$pk/deb/$pkg"_*.deb "$pk/x" || return 1
	for m in $PEERS_MODULES; do
		find "$pk/x/lib/modules" -name "$m.ko" -exec cp {} "$pk/" \; || return 1
	done
	cp "$pk/x/boot/vmlinuz-"* "$pk/vmlinuz.tmp" && mv "$pk/vmlinuz.tmp" "$pk/vmlinuz"
	echo "$pkg" >"$pk/package"
	rm -rf "$pk/x" "$pk/deb"
}

bench_peers() {
	if ! command -v qemu-system-x86_64 >/dev/null; then
		echo "(peers: qemu-system-x86_64 is not installed (Debian's qemu-system-x86): the rows are skipped)"
		return 0
	fi
	if ! peers_kernel; then
		echo "(peers: no Debian kernel package could be fetched: the rows are skipped)"
		return 0
	fi
	pk=${XDG_CACHE_HOME:-$HOME/.cache}/umlkit/bench-peers
	bundle=$O/images/boot.sh
	mb=200
	# the workload is named on the kernel command line: w=NAME
	cat >"$work/peers-init" <<EOF
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $PEERS_MODULES; do insmod /lib/\$m.ko; done
ifconfig lo up
ifconfig eth0 10.0.2.15 up && route add default gw 10.0.2.2
w=\$(sed -n 's/.* w=\([^ ]*\).*/\1/p' /proc/cmdline)
. /w/\$w
poweroff -f
EOF
	{
		echo "busybox $(command -v busybox)"
		for m in $PEERS_MODULES; do echo "file /lib/$m.ko $pk/$m.ko 0644 0 0"; done
		echo "file /init $work/peers-init 0755 0 0"
		echo "nod /dev/console 0600 0 0 c 5 1"
		echo "dir /proc 0755 0 0"
		echo "dir /sys 0755 0 0"
		echo "dir /w 0755 0 0"
	} >"$work/peers.recipe"
	forks='i=0; while [ $i -lt 1000 ]; do /bin/true; i=$((i + 1)); done'
	# a T line only when the workload succeeded: a failed fetch is no figure
	timed() { echo "read a _ </proc/uptime; $1 && read b _ </proc/uptime && echo T \$b \$a | awk '{ print \$1, \$2 - \$3 }'"; }
	mkdir -p "$work/www" && head -c $((mb * 1000000)) /dev/zero >"$work/www/big"
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	fetch="wget -q -O /dev/null http://10.0.2.2:$port/big"
	printf 'true\n' >"$work/w-true"
	timed "$forks" >"$work/w-forks"
	timed "$fetch" >"$work/w-net"
	printf 'sleep 20\n' >"$work/w-idle"
	for w in true forks net idle; do echo "file /w/$w $work/w-$w 0644 0 0" >>"$work/peers.recipe"; done
	"$MKIMAGE" -t cpio -o "$work/peers.cpio" "$work/peers.recipe" || return 1
	qemu() {
		qemu-system-x86_64 -accel tcg -m 256M -smp 1 -nodefaults -display none -serial stdio -no-reboot \
			-kernel "$pk/vmlinuz" -initrd "$work/peers.cpio" -append "console=ttyS0 quiet panic=-1 w=$1" \
			-netdev user,id=n0 -device virtio-net-pci,netdev=n0 </dev/null
	}
	header "against QEMU TCG ($(qemu-system-x86_64 --version | head -n 1 | cut -d' ' -f1-4), Debian's $(cat "$pk/package"), 256M; raw: QEMU)"
	boot_umlkit() { "$bundle" --mem 256M -- true; }
	boot_qemu() { qemu true; }
	runs=$RUNS
	[ "$RUNS" -le 5 ] || RUNS=5
	pair_row "boot, run true, power off" boot_umlkit boot_qemu
	RUNS=$runs
	busybox httpd -f -p "127.0.0.1:$port" -h "$work/www" &
	httpd=$!
	for w in forks net; do
		: >"$work/a" && : >"$work/b"
		i=0
		while [ $i -lt "$RUNS" ]; do
			"$bundle" --mem 256M --net user -- sh -c "$(cat "$work/w-$w")" </dev/null 2>/dev/null | sed -n 's/^T //p' >>"$work/a"
			qemu "$w" 2>/dev/null | tr -d '\r' | sed -n 's/^T //p' >>"$work/b"
			i=$((i + 1))
		done
		if [ "$(wc -l <"$work/a")" -ne "$RUNS" ] || [ "$(wc -l <"$work/b")" -ne "$RUNS" ]; then
			echo "(peers: $w failed in a guest: umlkit $(wc -l <"$work/a"), QEMU $(wc -l <"$work/b") of $RUNS runs)"
			continue
		fi
		case $w in
		forks) row "1,000 fork+exec of /bin/true, in the guest" "$(median_of "$work/a")" "$(median_of "$work/b")" ;;
		net) printf "%-44s %7s MB/s %7s MB/s %7.2f\n" "guest fetches $mb MB from host HTTP (user net)" \
			"$(awk -v mb="$mb" -v t="$(median_of "$work/a")" 'BEGIN { printf "%.0f", mb / t }')" \
			"$(awk -v mb="$mb" -v t="$(median_of "$work/b")" 'BEGIN { printf "%.0f", mb / t }')" \
			"$(echo "$(median_of "$work/b") / $(median_of "$work/a")" | bc -l)" ;;
		esac
	done
	kill "$httpd"
	# idle memory: the whole process tree's PSS, 10 s after the start
	"$bundle" --mem 256M -- sleep 20 </dev/null >/dev/null 2>&1 &
	u=$!
	qemu idle >/dev/null 2>&1 &
	q=$!
	sleep 10
	printf "%-44s %7s MiB %7s MiB\n" "idle guest, PSS of its host processes" \
		$(($(pss_tree "$u") / 1024)) $(($(pss_tree "$q") / 1024))
	wait "$u" "$q"
}

[ $# -gt 0 ] || set -- mkimage debpkg boot guest net lab labparts build static netkernel cibundle peers
for b in "$@"; do "bench_$b"; done
