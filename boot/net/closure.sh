#!/bin/sh
# Copy what PROGRAM needs to run into DIR: the dynamic loader and every
# shared library ldd resolves, so the bundle runs it on hosts without them
# (as LOADER --library-path DIR PROGRAM). Prints the loader's file name,
# then the libraries', one a line.
# Usage: closure.sh PROGRAM DIR
set -eu
[ $# -eq 2 ] || { echo "usage: closure.sh PROGRAM DIR" >&2; exit 2; }
program=$1 dir=$2
libs=$(ldd "$program") || { echo "closure.sh: ldd $program failed" >&2; exit 1; }
loader=$(printf '%s\n' "$libs" | sed -n 's/^[[:space:]]*\(\/[^ ]*ld-linux[^ ]*\) (0x.*/\1/p' | head -n 1)
[ -n "$loader" ] || { echo "closure.sh: no dynamic loader in ldd's answer for $program" >&2; exit 1; }
if printf '%s\n' "$libs" | grep -q 'not found'; then
	echo "closure.sh: $program: a library is missing:" >&2
	printf '%s\n' "$libs" | grep 'not found' >&2
	exit 1
fi
for path in "$loader" $(printf '%s\n' "$libs" | sed -n 's/^.* => \(\/[^ ]*\) (0x.*/\1/p'); do
	cp -L "$path" "$dir/${path##*/}.tmp"
	chmod 0755 "$dir/${path##*/}.tmp"
	mv -f "$dir/${path##*/}.tmp" "$dir/${path##*/}"
	printf '%s\n' "${path##*/}"
done
