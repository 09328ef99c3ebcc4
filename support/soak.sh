#!/bin/sh
# make soak: PARALLEL loops of 'boot.sh -- true' for SECONDS seconds, then
# a count of boots, hangs (boots the runtime caught hanging before init and
# retried), crashes and leftovers (guest processes or run directories).
# Environment: BUNDLE (required), PARALLEL (default 4), SOAK_SECONDS (default 600).
set -eu

: "${BUNDLE:?run through make soak}"
parallel=${PARALLEL:-4}
seconds=${SOAK_SECONDS:-600}
work=$(mktemp -d "${TMPDIR:-/tmp}/umlkit-soak.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tmp" "$work/cache"
export TMPDIR="$work/tmp" XDG_CACHE_HOME="$work/cache"
"$BUNDLE" -- true </dev/null	# unpack once

end=$(($(date +%s) + seconds))
loop() {
	n=0
	while [ "$(date +%s)" -lt "$end" ]; do
		n=$((n + 1))
		status=0
		"$BUNDLE" --timeout 120 -- true </dev/null 2>"$work/err.$1" || status=$?
		hangs=$(grep -c 'hung before starting init' "$work/err.$1" || :)
		echo "$status $hangs" >>"$work/results.$1"
		# keep what a failed run said (the first of each status)
		[ "$status" -eq 0 ] || [ -e "$work/said.$status" ] || cp "$work/err.$1" "$work/said.$status"
	done
}
echo ">>> soak: $parallel parallel loops of 'boot.sh -- true' for ${seconds}s"
i=0
while [ $i -lt "$parallel" ]; do
	loop $i &
	i=$((i + 1))
done
wait
cat "$work"/results.* | awk '
	{ runs++; hangs += $2; if ($1 == 0) ok++; else if ($1 == 122) crashes++; else other++ }
	END { printf "runs %d, boots ok %d, hangs caught %d, crashes %d, other failures %d\n",
		runs, ok, hangs, crashes, other }'
for said in "$work"/said.*; do
	[ -e "$said" ] || continue
	echo "exit ${said##*.}: $(grep -c . "$said") line(s), first: $(head -n 1 "$said")"
done
sleep 1
procs=$(ps -eo args= | grep -F "$work/cache" | grep -vc grep || :)
dirs=$(find "$work/tmp" -mindepth 1 -maxdepth 1 | wc -l)
echo "leftovers: $procs guest processes, $dirs run directories"
[ "$procs" -eq 0 ] && [ "$dirs" -eq 0 ]
