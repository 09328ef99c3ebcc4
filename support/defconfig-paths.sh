#!/bin/sh
# Usage: defconfig-paths.sh CONFIG DEFCONFIG_DIR OPTION...
#
# After 'make defconfig DEFCONFIG=FILE' with FILE outside umlkit's
# configs/: a relative path in one of the OPTIONs (the path options of
# support/config.mk) that names a file or directory beside FILE is made
# absolute, so a project keeps its recipes, lab and fragments next to its
# defconfig. Paths that exist only in the umlkit tree stay as they are
# (relative to it). Values with quotes or backslashes are left alone.
set -eu

config=$1 dir=$2
shift 2
tmp=$config.paths.tmp
: >"$tmp"
while IFS= read -r line || [ -n "$line" ]; do
	name=${line%%=*}
	value=${line#*=}
	case " $* " in
	*" $name "*) ;;
	*) printf '%s\n' "$line" >>"$tmp"; continue ;;
	esac
	case $value in
	\"*\") value=${value#\"} value=${value%\"} ;;
	*) printf '%s\n' "$line" >>"$tmp"; continue ;;
	esac
	case $value in
	*[\"\\]*) printf '%s\n' "$line" >>"$tmp"; continue ;;
	esac
	out=''
	# blank-separated words (a path option holds one)
	set -f
	for word in $value; do
		case $word in
		/*) ;;
		*) [ ! -e "$dir/$word" ] || word=$dir/$word ;;
		esac
		out=${out:+$out }$word
	done
	set +f
	printf '%s="%s"\n' "$name" "$out" >>"$tmp"
done <"$config"
mv "$tmp" "$config"
