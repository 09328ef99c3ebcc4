#!/bin/sh
# One payload segment of boot.sh: FILE as a tar member (no end-of-archive
# blocks), compressed on its own. The payload is the segments one after the
# other plus a compressed end block: decompressors read concatenated streams
# and tar sees one archive, while a rebuild recompresses only what changed.
# Writes OUT and OUT.info ("NAME SIZE SHA256" a file) for the manifest.
# Usage: mksegment.sh -c xz|gzip|zstd|store [-s] -o OUT FILE...   (or -e: the end block)
# Several FILEs (all in one directory) make one segment, in that order.
# -s compresses smaller but slower: for the kernel, rebuilt rarely; images,
# rebuilt on every recipe edit, get the fast presets. -c store: one FILE
# that is compressed already (a squashfs image), copied as it is; its
# .info line ends in "stored", and mkbundle.sh puts it after the
# compressed stream, where boot.sh copies it out instead of decompressing.
set -eu

comp=xz out='' end='' small=''
while getopts c:o:es opt; do
	case $opt in
	c) comp=$OPTARG ;;
	o) out=$OPTARG ;;
	e) end=1 ;;
	s) small=1 ;;
	*) echo "usage: mksegment.sh -c ALG [-s] -o OUT FILE | -e" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
case $comp/$small in
xz/1) compress="xz -T1 -6 -c" ;;
xz/) compress="xz -T1 -1 -c" ;;
gzip/1) compress="gzip -n -9 -c" ;;
gzip/) compress="gzip -n -1 -c" ;;
zstd/1) compress="zstd -q -T1 -19 -c" ;;
zstd/) compress="zstd -q -T1 -3 -c" ;;
store/*) compress='' ;;
*) echo "mksegment.sh: unknown compression '$comp'" >&2; exit 2 ;;
esac
[ -z "$compress" ] && [ -n "$end" ] && { echo "mksegment.sh: -c store has no end block" >&2; exit 2; }

if [ -n "$end" ]; then
	# shellcheck disable=SC2086 # $compress is a command line
	head -c 1024 /dev/zero | $compress >"$out.tmp"
	mv "$out.tmp" "$out"
	exit 0
fi

[ $# -ge 1 ] || { echo "mksegment.sh: no file" >&2; exit 2; }
if [ "$comp" = store ]; then
	[ $# -eq 1 ] || { echo "mksegment.sh: -c store takes one file" >&2; exit 2; }
	case ${1##*/} in *[!A-Za-z0-9._+-]*) echo "mksegment.sh: '$1': a name with blanks or other odd characters" >&2; exit 2 ;; esac
	[ -f "$1" ] || { echo "mksegment.sh: $1: no such file" >&2; exit 1; }
	printf '%s %s %s stored\n' "${1##*/}" "$(wc -c <"$1")" "$(sha256sum <"$1" | cut -d' ' -f1)" >"$out.info.tmp"
	cp "$1" "$out.tmp"
	mv "$out.info.tmp" "$out.info"
	mv "$out.tmp" "$out"
	exit 0
fi
dir=$(dirname "$1")
: >"$out.info.tmp"
names=
for file in "$@"; do
	[ "$(dirname "$file")" = "$dir" ] || { echo "mksegment.sh: $file is not in $dir" >&2; exit 2; }
	case ${file##*/} in *[!A-Za-z0-9._+-]*) echo "mksegment.sh: '$file': a name with blanks or other odd characters" >&2; exit 2 ;; esac
	[ -f "$file" ] || { echo "mksegment.sh: $file: no such file" >&2; rm -f "$out.info.tmp"; exit 1; }
	names="$names ${file##*/}"
	printf '%s %s %s\n' "${file##*/}" "$(wc -c <"$file")" "$(sha256sum <"$file" | cut -d' ' -f1)" >>"$out.info.tmp"
done
# 512-byte records, so the members end right before the two zero blocks;
# a pipeline's status is its last command's, so tar's failure is noted
rm -f "$out.failed"
# shellcheck disable=SC2086 # $names: plain names, checked above
{ tar -C "$dir" -b 1 --format=ustar --owner=0 --group=0 --numeric-owner \
	--mtime="@${SOURCE_DATE_EPOCH:-0}" --mode=u=rwX,go=rX -cf - $names || : >"$out.failed"; } |
	head -c -1024 | $compress >"$out.tmp"
if [ -e "$out.failed" ]; then
	rm -f "$out.failed" "$out.tmp" "$out.info.tmp"
	echo "mksegment.sh: tar failed on$names" >&2
	exit 1
fi
mv "$out.info.tmp" "$out.info"
mv "$out.tmp" "$out"
