#!/bin/sh
# The kernel cache (kernel/kernel.mk): a hit copies the cached kernel to
# OUT (no unpacking, no configuring); a miss runs MAKE on OBJDIR/linux
# (incrementally if this O= built before), strips it into OUT and stores it
# with its configuration under the key, renamed into place so concurrent
# builds keep one copy.
# Usage: cache.sh CACHE OUT OBJDIR MAKE -- TARBALL NAME EPOCH FILE...
#        (the key's inputs: see cache-key.sh)
set -eu
[ $# -ge 8 ] && [ "$5" = -- ] || { echo "usage: cache.sh CACHE OUT OBJDIR MAKE -- TARBALL NAME EPOCH FILE..." >&2; exit 2; }
cache=$1 out=$2 objdir=$3 make=$4
shift 5
mkdir -p "$cache"
tarball=$1 name=$2 epoch=$3
shift 3
key=$(sh "$(dirname "$0")/cache-key.sh" "$tarball" "$name" "$epoch" -- "$@")
entry=$cache/$key
if [ -f "$entry/linux" ]; then
	printf '>>> kernel: from the kernel cache %s\n' "$entry"
	cp "$entry/linux" "$out.tmp" && mv "$out.tmp" "$out"
	exit 0
fi
# shellcheck disable=SC2086 # $make is a command line (make and its flags)
$make --no-print-directory "$objdir/linux"
printf '>>> kernel: strip, store in %s\n' "$entry"
strip -o "$out.tmp" "$objdir/linux"
tmp=$entry.tmp.$$
rm -rf "$tmp" && mkdir "$tmp"
cp "$out.tmp" "$tmp/linux" && cp "$objdir/.config" "$tmp/config"
mv -T "$tmp" "$entry" 2>/dev/null || rm -rf "$tmp"
mv "$out.tmp" "$out"
