#!/bin/sh
# Install the Debian packages umlkit needs on the build host.
# Idempotent: packages already present are reported and skipped.
set -eu

# build pipeline, kernel build, image tools, bundle, tests (libslirp-dev: the
# NAT helper; python3: the network tests' host server; slirp: the floor
# make bench compares the NAT helper with; libxml2-utils: xmllint checks the
# JUnit reports in the tests; openssh-client: ssh-keygen signs bundles;
# bats: a real TAP emitter for the report tests; apt, dpkg and
# debian-archive-keyring: 'debian' recipe lines resolve, fetch and check
# packages with apt, as the user, and the tests build a .deb with dpkg-deb;
# iproute2: the two test hosts of the lab-parts test; podman, runc,
# catatonit, netavark and aardvark-dns: the lab test runs 'boot.sh kube'
# manifests as pods with podman kube play, on a network of its own whose
# DNS names the pods; skopeo: the same test reads boot.sh oci's archive
# both as docker load and as ctr import read it, digests checked)
PACKAGES="make gcc libc6-dev binutils flex bison bc perl xz-utils zstd gzip tar cpio dash bash
kconfig-frontends genext2fs squashfs-tools squashfs-tools-ng e2fsprogs libext2fs-dev busybox-static
mmdebstrap attr libslirp-dev python3 slirp libxml2-utils openssh-client bats apt dpkg debian-archive-keyring
linux-source-6.12 linux-source-6.1 shunit2 util-linux bsdutils coreutils procps tmux patch ccache distcc clang libclang-rt-14-dev
iproute2 podman runc catatonit netavark aardvark-dns skopeo"

# and what each image format's writer runs (mkimage/formats.def)
formats=$(dirname "$0")/../mkimage/formats.def
PACKAGES="$PACKAGES $(sed -n 's/^FORMAT(.*,[ ]*\([^,]*\))[ ]*$/\1/p' "$formats" | tr ' ' '\n' | sed -n 's/.*://p' | sort -u | tr '\n' ' ')"

missing=
for pkg in $PACKAGES; do
	if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
		continue
	fi
	missing="$missing $pkg"
done

if [ -z "$missing" ]; then
	echo ">>> deps: all packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing:$missing" >&2
	echo "deps: installing needs root: run 'sudo make deps', or as root: apt-get install$missing" >&2
	exit 1
fi

echo ">>> deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086 # word splitting of the package list is intended
apt-get install -y -qq --no-install-recommends $missing
