#!/bin/sh
# Usage: kunit-config.sh ARCH_CONFIG UMLKIT_CONFIG KUNITCONFIG >MERGED
# The kunitconfig merged over UML's requirements (and umlkit's,
# kernel/kunit.config) the way kunit.py merges it
# (kunit_config.py): one entry per option, the kunitconfig's value winning,
# in first-seen order; "# CONFIG_X is not set" is the value n. A line that
# is none of these (nor a comment or blank) is an error naming file:line,
# as kunit.py's KconfigParseError. A missing ARCH_CONFIG (an older tree)
# is no requirement.
set -eu

arch=$1 umlkit=$2 kunitconfig=$3
if [ ! -f "$kunitconfig" ]; then
	echo "kernel: kunitconfig $kunitconfig not found: set KUNITCONFIG (make menuconfig)" >&2
	exit 1
fi
[ -f "$arch" ] || arch=/dev/null
awk '
function entry(name, value) {
	if (!(name in values))
		order[n++] = name
	values[name] = value
}
{
	line = $0
	sub(/^[ \t]+/, "", line)
	sub(/[ \t\r]+$/, "", line)
	if (line == "")
		next
	if (match(line, /^CONFIG_[A-Za-z0-9_]+=/)) {
		value = substr(line, RLENGTH + 1)
		if (value ~ /^[^ \t]+$/ || value ~ /^".*"$/) {
			entry(substr(line, 8, RLENGTH - 8), value)
			next
		}
	} else if (line ~ /^# CONFIG_[A-Za-z0-9_]+ is not set$/) {
		name = line
		sub(/^# CONFIG_/, "", name)
		sub(/ is not set$/, "", name)
		entry(name, "n")
		next
	} else if (line ~ /^#/) {
		next
	}
	printf "kernel: %s:%d: not a kconfig line: %s (use CONFIG_NAME=VALUE or # CONFIG_NAME is not set)\n",
		FILENAME, FNR, line > "/dev/stderr"
	bad = 1
}
END {
	if (bad)
		exit 1
	for (i = 0; i < n; i++)
		if (values[order[i]] == "n")
			printf "# CONFIG_%s is not set\n", order[i]
		else
			printf "CONFIG_%s=%s\n", order[i], values[order[i]]
}' "$arch" "$umlkit" "$kunitconfig"
