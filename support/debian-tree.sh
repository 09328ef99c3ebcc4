#!/bin/sh
# A real merged-/usr Debian tree for tests and benchmarks: Debian 12
# (bookworm) minbase plus a few packages, made once with mmdebstrap from
# Debian's archive and kept as a tar archive (10,000 entries, 200 MB,
# hard links, devices, setuid files, ping's file capability).
# Usage: debian-tree.sh OUT.tar     (nothing to do if OUT.tar exists)
# Exit status: 0 made or present, 2 cannot be made here (reason on stderr).
set -eu

out=${1:?usage: debian-tree.sh OUT.tar}
[ -s "$out" ] && exit 0

if ! command -v mmdebstrap >/dev/null 2>&1; then
	echo "debian-tree: mmdebstrap is missing: run 'make deps'" >&2
	exit 2
fi
if [ "$(id -u)" -eq 0 ]; then
	mode=root
elif grep -q "^$(id -un):" /etc/subuid 2>/dev/null && command -v newuidmap >/dev/null 2>&1; then
	mode=unshare
else
	echo "debian-tree: as $(id -un), mmdebstrap needs subordinate ids (/etc/subuid) and newuidmap; make $out as root once" >&2
	exit 2
fi

mkdir -p "$(dirname "$out")"
tmp=$out.tmp-$$.tar
trap 'rm -f "$tmp"' EXIT
echo ">>> debian-tree: mmdebstrap bookworm minbase into $out (once)"
mmdebstrap --quiet --mode="$mode" --variant=minbase \
	--include=iproute2,procps,python3-minimal,iputils-ping,openssh-server \
	bookworm "$tmp"
mv "$tmp" "$out"
trap - EXIT
