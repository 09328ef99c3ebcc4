#!/bin/sh
# Assemble boot.sh: the template's shell header, a settings block and the
# payload (the segments from mksegment.sh: the runtime umlkit-run, the
# bundle's settings bundle.conf, the kernel and images, then the end
# segment; after that compressed stream, the stored segments, images
# compressed already, byte for byte), with a sha256 over every line but
# its own (line 3).
# Reproducible: owners and times fixed, compressors pinned.
set -eu

usage() {
	cat <<USAGE
Usage: mkbundle.sh -o OUT -t TEMPLATE -s SEGDIR -k KERNEL {-r ROOT_IMAGE | -M kunit} [options]
  -s SEGDIR    where mksegment.sh wrote NAME.seg and NAME.seg.info for
               umlkit-run and each image, and end.seg
  -R HOW       how the guest mounts the root image: disk-rw (default),
               overlay (read-only, under a tmpfs overlay) or initrd
               (mkimage --formats says for each format)
  -M kunit     a KUnit kernel: no root image, booted as kunit.py boots it
  -d IMAGE     a data disk image (repeatable, in ubd order after the root)
  -c ALG       payload compression: xz (default), gzip, zstd
  -m MEM       default guest memory
  -a ARGS      extra kernel command line
  -x COMMAND   default command (command mode); without it: login prompt
  -n NAME      configuration name for --info
  -S NAME      an extra segment SEGDIR/NAME.seg, of the files its .info lists
               (repeatable; the network helpers)
  -C KEY=VALUE an extra bundle.conf setting (repeatable)
  -K KEY       sign the bundle with this SSH key (boot/sign.sh)
USAGE
}

out='' template='' kernel='' root='' datas='' comp=xz mem=64M append='' command='' name=umlkit segs=''
root_mount=disk-rw extra_segs='' mode='' nl='
'
extra_conf='' sign_key=''
while getopts o:t:s:k:r:R:M:d:c:m:a:x:n:S:C:K:h opt; do
	case $opt in
	s) segs=$OPTARG ;;
	o) out=$OPTARG ;;
	t) template=$OPTARG ;;
	k) kernel=$OPTARG ;;
	r) root=$OPTARG ;;
	R) root_mount=$OPTARG ;;
	M) mode=$OPTARG ;;
	d) datas="$datas $OPTARG" ;;
	c) comp=$OPTARG ;;
	m) mem=$OPTARG ;;
	a) append=$OPTARG ;;
	x) command=$OPTARG ;;
	n) name=$OPTARG ;;
	S) extra_segs="$extra_segs $OPTARG" ;;
	C)
		key=${OPTARG%%=*}
		case $key in '' | *[!a-z_]*) key=$OPTARG ;; esac
		case $OPTARG in *"$nl"*) key=$OPTARG ;; esac
		if [ "$key" = "$OPTARG" ]; then
			echo "mkbundle.sh: -C '$OPTARG': use KEY=VALUE on one line" >&2
			exit 2
		fi
		extra_conf=$extra_conf$OPTARG$nl ;;
	K) sign_key=$OPTARG ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
[ -n "$out" ] && [ -n "$template" ] && [ -n "$segs" ] && [ -n "$kernel" ] || { usage >&2; exit 2; }
case $mode in
kunit) [ -z "$root$datas" ] || { echo "mkbundle.sh: -M kunit takes no images" >&2; exit 2; } ;;
'') [ -n "$root" ] || { usage >&2; exit 2; } ;;
*) echo "mkbundle.sh: -M '$mode': the only mode is kunit" >&2; exit 2 ;;
esac
[ -n "$command" ] && [ -z "$mode" ] && mode='command'
: "${mode:=login}"

epoch=${SOURCE_DATE_EPOCH:-0}
case $comp in
xz) decompress="xz -dc" ;;
gzip) decompress="gzip -dc" ;;
zstd) decompress="zstd -qdc" ;;
*) echo "mkbundle.sh: unknown compression '$comp'" >&2; exit 2 ;;
esac

# shell-quote for the settings block
q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

work=$(mktemp -d "${out}.work.XXXXXX")
trap 'rm -rf "$work"' EXIT

root_name=${root##*/}
images=$root_name
# kunit.py's command line (kunit_kernel.py); mem comes from -m
[ "$mode" = kunit ] && root_mount=kunit images=''
case $root_mount in
kunit) disk_images='' initrd_image='' cmdline="kunit.enable=1 console=tty kunit_shutdown=halt" ;;
initrd) disk_images='' initrd_image=$root_name cmdline="rdinit=/sbin/umlkit-init" ;;
overlay) disk_images=$root_name initrd_image='' cmdline="root=/dev/ubda ro init=/sbin/umlkit-init umlkit.overlay" ;;
disk-rw) disk_images=$root_name initrd_image='' cmdline="root=/dev/ubda rw init=/sbin/umlkit-init" ;;
*) echo "mkbundle.sh: -R '$root_mount': use disk-rw, overlay or initrd" >&2; exit 2 ;;
esac
for d in $datas; do
	images="$images ${d##*/}"
	disk_images="$disk_images ${d##*/}"
done
[ -n "$append" ] && cmdline="$cmdline $append"

version=$("$kernel" --version 2>/dev/null | head -n 1 || echo unknown)

# what the runtime reads (boot/run/conf.c): one key=value a line
{
	printf 'name=%s\n' "$name"
	printf 'kernel=Linux %s\n' "$version"
	printf 'mode=%s\n' "$mode"
	printf 'command=%s\n' "$command"
	printf 'mem=%s\n' "$mem"
	printf 'cmdline=%s\n' "$cmdline"
	printf 'disks=%s\n' "$disk_images"
	printf 'initrd=%s\n' "$initrd_image"
	printf '%s' "$extra_conf"
} >"$work/bundle.conf"
sh "$(dirname "$0")/mksegment.sh" -c "$comp" -o "$work/bundle.conf.seg" "$work/bundle.conf"

# a segment's files, as its .info lists them
seg_files() { while read -r file _; do printf '%s ' "$file"; done <"$1.info"; }
# a stored segment (mksegment.sh -c store): "NAME SIZE" from its .info
seg_stored() { while read -r file size _ how; do [ "$how" = stored ] && printf '%s %s ' "$file" "$size"; done <"$1.info"; }

members="umlkit-run bundle.conf linux $images"
for s in $extra_segs; do
	[ -f "$segs/$s.seg.info" ] || { echo "mkbundle.sh: missing segment $segs/$s.seg" >&2; exit 1; }
	members="$members $(seg_files "$segs/$s.seg")"
done
# the compressed stream, then the stored segments in the same order
stored='' stored_segs=''
for f in umlkit-run bundle.conf linux $images $extra_segs end; do
	seg=$segs/$f.seg
	[ "$f" = bundle.conf ] && seg=$work/$f.seg
	[ -f "$seg" ] || { echo "mkbundle.sh: missing segment $seg" >&2; exit 1; }
	if [ -f "$seg.info" ] && [ -n "$(seg_stored "$seg")" ]; then
		stored="$stored$(seg_stored "$seg")"
		stored_segs="$stored_segs $seg"
		continue
	fi
	cat "$seg"
done >"$work/payload.bin"
payload_size=$(wc -c <"$work/payload.bin")
# shellcheck disable=SC2086 # plain paths made above
[ -z "$stored_segs" ] || cat $stored_segs >>"$work/payload.bin"
manifest=$(
	printf 'config:     %s\n' "$name"
	printf 'kernel:     Linux %s (User Mode Linux)\n' "$version"
	printf 'built:      %s (SOURCE_DATE_EPOCH=%s)\n' "$(LC_ALL=C date -u -d "@$epoch" '+%Y-%m-%d %H:%M:%S UTC')" "$epoch"
	case $mode in
	kunit) printf 'command:    (KUnit: the kernel runs its tests)\n' ;;
	*) printf 'command:    %s\n' "${command:-(login prompt)}" ;;
	esac
	printf 'cmdline:    %s\n' "$cmdline"
	printf 'memory:     %s\n' "$mem"
	printf 'payload:    %s, %s bytes' "$comp" "$payload_size"
	[ -z "$stored" ] || printf ', then %s bytes stored as they are' "$(($(wc -c <"$work/payload.bin") - payload_size))"
	echo
	for f in umlkit-run bundle.conf linux $images $extra_segs; do
		info=$segs/$f.seg.info
		[ "$f" = bundle.conf ] && info=$work/$f.seg.info
		while read -r file size sum _; do
			printf 'file:       %-20s %10s bytes  sha256 %s\n' "$file" "$size" "$sum"
		done <"$info"
	done
)

settings() {
	cat <<SETTINGS
files=$(q "$members")
decompress=$(q "$decompress")
manifest=$(q "$manifest")
payload_size=$payload_size
stored=$(q "${stored% }")
payload_offset=$1
SETTINGS
}

# The header ends with the script; its length is the payload offset, padded
# with spaces (not zeros: sh arithmetic reads a leading 0 as octal).
zeros=0000000000000000000000000000000000000000000000000000000000000000
header() {
	settings "$1" >"$work/settings"
	sed -e "3s/@DIGEST@/$zeros/" -e "4s/@SIGNATURE@/$(sh "$(dirname "$0")/sign.sh" --unsigned-slot)/" \
		-e "/^# @SETTINGS@\$/{r $work/settings" -e 'd;}' "$template"
}
header "$(printf '%-10d' 0)" >"$work/header"
offset=$(wc -c <"$work/header")
header "$(printf '%-10d' "$offset")" >"$work/header"
[ "$(wc -c <"$work/header")" -eq "$offset" ] || { echo "mkbundle.sh: header length changed" >&2; exit 1; }

cat "$work/header" "$work/payload.bin" >"$work/bundle"
digest=$( { head -n 2 "$work/bundle"; tail -n +5 "$work/bundle"; } | sha256sum | cut -d' ' -f1)
sed -i "3s/$zeros/$digest/" "$work/header"
cat "$work/header" "$work/payload.bin" >"$work/bundle"
[ "$(sed -n '3s/^# umlkit-digest: //p' "$work/bundle")" = "$digest" ] || { echo "mkbundle.sh: bad header layout" >&2; exit 1; }
chmod 0755 "$work/bundle"
[ -z "$sign_key" ] || sh "$(dirname "$0")/sign.sh" "$work/bundle" "$sign_key"
mv "$work/bundle" "$out"
