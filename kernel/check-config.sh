#!/bin/sh
# Usage: check-config.sh KERNEL_CONFIG FRAGMENT...
# Fails, naming each option, when a setting a fragment asks for is not in the
# final kernel configuration (a dependency was missing, or a typo), as
# KUnit's kunit.py does.
set -eu

config=$1
shift
status=0
for fragment in "$@"; do
	lineno=0
	while IFS= read -r line || [ -n "$line" ]; do
		lineno=$((lineno + 1))
		case $line in
		CONFIG_*=*)
			option=${line%%=*}
			want=$line
			;;
		"# CONFIG_"*" is not set")
			option=${line#\# }
			option=${option%% *}
			want=$line
			;;
		*) continue ;;
		esac
		if grep -qxF -- "$want" "$config"; then
			continue
		fi
		# "not set" is also satisfied by an option that does not exist
		if [ "${want#\# }" != "$want" ] && ! grep -q "^$option=" "$config"; then
			continue
		fi
		got=$(grep -E "^($option=|# $option is not set)" "$config" || echo "absent")
		echo "kernel: $fragment:$lineno: $want did not land in the kernel config (got: $got); check its dependencies with 'make kernel-menuconfig'" >&2
		status=1
	done <"$fragment"
done
exit "$status"
