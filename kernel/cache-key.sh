#!/bin/sh
# Usage: cache-key.sh TARBALL DEFCONFIG EPOCH -- FILE...
# The kernel cache's key: a hash of everything that goes into the binary:
# the source tarball (path, size, mtime: a new package version changes
# them), the defconfig name, SOURCE_DATE_EPOCH, the toolchain, and the
# content of FILE... (the defconfig file, fragments and patches, in order;
# by base name, so another checkout of the same tree gives the same key).
set -eu
tarball=$1 defconfig=$2 epoch=$3
shift 4
{
	echo "umlkit kernel cache 1"
	stat -L -c 'source %n %s %Y' -- "$tarball"
	echo "defconfig $defconfig"
	echo "epoch $epoch"
	gcc --version | head -n 1
	ld --version | head -n 1
	for f; do
		echo "file ${f##*/}"
		cat -- "$f"
	done
} | sha256sum | cut -c1-32
