#!/bin/sh
# Usage: apply-patches.sh SRCDIR [PATCH...]
# Brings the kernel tree SRCDIR to "pristine + PATCH... in order", as
# Buildroot's BR2_LINUX_KERNEL_PATCH does. The patches applied last time are
# kept in SRCDIR/.umlkit-patches; those that changed (and all after them)
# are reversed, newest first, then the new ones applied. Reversing and
# applying rewrite the touched files, so Kbuild rebuilds exactly those.
# A patch that does not apply is named with patch's own report of the
# hunk, and the tree is left as it was before this run.
set -eu

src=$1
shift
kept=$src/.umlkit-patches
mkdir -p "$kept"

run_patch() {
	# $1: -R or --forward; $2: the patch file
	patch -p1 --batch --fuzz=0 --no-backup-if-mismatch "$1" -d "$src" <"$2"
}

# the first position where the kept series and the wanted one differ
n=0
for p in "$@"; do
	n=$((n + 1))
	k=$(printf '%s/%04d.patch' "$kept" "$n")
	[ -f "$k" ] && cmp -s "$p" "$k" || { n=$((n - 1)); break; }
done
keep=$n

# reverse what is kept beyond that point, newest first
# shellcheck disable=SC2045 # names are NNNN.patch, made here
for k in $(ls -r "$kept"); do
	case $k in *.patch) ;; *) continue ;; esac
	i=${k%.patch}
	[ "$((1$i - 10000))" -gt "$keep" ] || continue
	echo ">>> kernel: reverse patch $(sed -n 1p "$kept/$k.name" 2>/dev/null || echo "$k")"
	run_patch -R "$kept/$k" >/dev/null ||
		{ echo "make: kernel: cannot reverse $kept/$k: remove $src and build again" >&2; exit 1; }
	rm -f "$kept/$k" "$kept/$k.name"
done

n=0
for p in "$@"; do
	n=$((n + 1))
	[ "$n" -gt "$keep" ] || continue
	echo ">>> kernel: apply patch $p"
	if ! out=$(patch -p1 --batch --fuzz=0 --dry-run --forward -d "$src" <"$p" 2>&1); then
		echo "make: kernel patch $p does not apply to $src:" >&2
		printf '%s\n' "$out" | grep -v '^checking file' >&2
		# undo the patches this run applied: no half-applied series
		while [ "$n" -gt $((keep + 1)) ]; do
			n=$((n - 1))
			k=$(printf '%s/%04d.patch' "$kept" "$n")
			run_patch -R "$k" >/dev/null
			rm -f "$k" "$k.name"
		done
		exit 1
	fi
	run_patch --forward "$p" >/dev/null
	k=$(printf '%s/%04d.patch' "$kept" "$n")
	cp "$p" "$k"
	echo "$p" >"$k.name"
done
