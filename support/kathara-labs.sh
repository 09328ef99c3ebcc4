#!/bin/sh
# Usage: sh support/kathara-labs.sh LABS_DIR [OUTPUT_DIR]
#
# Builds and starts every lab below LABS_DIR (a copy of the public
# Kathara-Labs repository, fetched by you), unchanged, one after another in
# one output directory. Machines that name no image, or one with no recipe
# here, run kathara/quagga: FRR with Quagga's init scripts, which serves
# labs written for Kathara's older default (kathara/quagga) and its newer
# one (kathara/frr) alike. One line a lab: "started", "startup-failed" or
# "build-failed", with the lab's directory; then "N of M labs start with
# no failed startup". A lab whose images have no recipe here still starts
# on the configured root image, as the build notes. Logs: OUTPUT_DIR/logs.
# UMLKIT_KERNEL_PREBUILT_PATH=FILE reuses a kernel instead of building one.
# Run by hand (make kathara-labs LABS=DIR): it takes about a minute a lab.
set -eu

labs=${1:?usage: sh support/kathara-labs.sh LABS_DIR [OUTPUT_DIR]}
top=$(cd "$(dirname "$0")/.." && pwd)
o=${2:-$top/output/kathara-labs}
[ -d "$labs" ] || { echo "kathara-labs: $labs: no such directory" >&2; exit 2; }
labs=$(cd "$labs" && pwd)
mkdir -p "$o/logs"

make -s -C "$top" O="$o" lab_defconfig >/dev/null
{
	printf 'UMLKIT_LAB_DIR="%s"\nUMLKIT_LAB_DEFAULT_IMAGE="kathara/quagga"\n' "$top/configs/lab"
	if [ -n "${UMLKIT_KERNEL_PREBUILT_PATH:-}" ]; then
		printf 'UMLKIT_KERNEL_PREBUILT=y\nUMLKIT_KERNEL_PREBUILT_PATH="%s"\n' "$UMLKIT_KERNEL_PREBUILT_PATH"
	fi
} >>"$o/.config"

# interrupted: the lab running now is stopped, not left behind
stop_lab() {
	[ ! -x "$o/images/boot.sh" ] || timeout 300 "$o/images/boot.sh" stop --instance kathara-labs </dev/null >/dev/null 2>&1 || :
}
trap 'stop_lab; exit 130' INT TERM HUP

started=0 total=0
find "$labs" -name lab.conf | sort >"$o/logs/list"
while IFS= read -r conf; do
	dir=${conf%/lab.conf}
	log=$o/logs/$(printf '%s' "${dir#"$labs"/}" | tr '/ ' '__')
	total=$((total + 1))
	sed -i '/^UMLKIT_LAB_DIR=/d' "$o/.config"
	printf 'UMLKIT_LAB_DIR="%s"\n' "$dir" >>"$o/.config"
	if ! { make -s -C "$top" O="$o" olddefconfig && make -s -C "$top" O="$o"; } >"$log.build" 2>&1; then
		echo "build-failed   ${dir#"$labs"/}"
		continue
	fi
	if timeout 900 "$o/images/boot.sh" start --instance kathara-labs </dev/null >"$log.start" 2>&1; then
		started=$((started + 1))
		echo "started        ${dir#"$labs"/}"
	else
		echo "startup-failed ${dir#"$labs"/}"
	fi
	stop_lab
done <"$o/logs/list"
echo "$started of $total labs start with no failed startup"
