#!/bin/sh
# The configure stage, run by umlkit-init as guest root inside UML at build
# time (rootfs-recipes/debian.sh boots it). The essential set is already
# unpacked (by mkimage on the host); here dpkg installs it for real and apt
# installs the rest, as mmdebstrap does, with a policy-rc.d that starts no
# daemon. Then what must not be baked in goes, and the tree leaves as a tar
# archive on the read-write share.
#   /umlkit-debian  (read-only) essential, apt: the .deb names, in the order
#                   of the two steps; epoch: SOURCE_DATE_EPOCH
#   /umlkit-debs    (read-only) the cache: SHA256.deb
#   /umlkit-out     (read-write) tree.tar
set -eu

# with the guest's uptime: where the stage's time goes
say() { echo "umlkit-configure: [$(cut -d' ' -f1 /proc/uptime)] $*"; }
in=/umlkit-debian debs=/umlkit-debs out=/umlkit-out

PATH=/usr/sbin:/usr/bin:/sbin:/bin
LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true
# the same bytes from the same packages: perl's and python's hashes fixed,
# shadow's and others' dates from the lock
SOURCE_DATE_EPOCH=$(cat "$in/epoch") PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0 PYTHONHASHSEED=0
export PATH LC_ALL DEBIAN_FRONTEND DEBCONF_NONINTERACTIVE_SEEN SOURCE_DATE_EPOCH \
	PERL_HASH_SEED PERL_PERTURB_KEYS PYTHONHASHSEED
unset LANG LANGUAGE
cd /
# the stage's disk is thrown away after the tar: no barriers, rare commits
mount -o remount,barrier=0,commit=600 / 2>/dev/null || :
# apt and some maintainer scripts want a pty
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts 2>/dev/null || :

say "dpkg: the essential set ($(wc -l <"$in/essential") packages)"
# shellcheck disable=SC2046 # file names: hex digits and .deb
dpkg --force-depends --force-unsafe-io --install $(sed "s|^|$debs/|" "$in/essential") >/tmp/dpkg.log 2>&1 ||
	{ cat /tmp/dpkg.log; exit 1; }
grep -E '^(dpkg: (warning|error)|Setting up|E:)' /tmp/dpkg.log | grep -v 'dependency problems' | tail -n 0

if [ -s "$in/apt" ]; then
	say "apt: $(wc -l <"$in/apt") more packages"
	mkdir -p /var/lib/apt/lists/partial /var/cache/apt/archives/partial
	# shellcheck disable=SC2046
	apt-get -q -y -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=/dev/null \
		-o APT::Sandbox::User=root -o Dpkg::Options::=--force-unsafe-io \
		-o APT::Install-Recommends=false -o Debug::NoLocking=true \
		install $(sed "s|^|$debs/|" "$in/apt") >/tmp/apt.log 2>&1 ||
		{ cat /tmp/apt.log; exit 1; }
fi

say "checking: every package installed"
bad=$(dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n' | grep -v '^ii ' || :)
[ -z "$bad" ] || { say "not fully installed: $bad"; exit 1; }

say "clean: caches, logs, machine id, host keys, seeds"
rm -f /usr/sbin/policy-rc.d /var/cache/ldconfig/aux-cache /var/lib/dbus/machine-id \
	/var/lib/systemd/random-seed /var/lib/urandom/random-seed /etc/ssh/ssh_host_*_key* \
	/var/cache/debconf/*-old /var/lib/dpkg/*-old /var/cache/apt/*.bin
rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/* /tmp/* /var/tmp/*
find /var/log -type f -exec truncate -s 0 {} +
# systemd makes an empty machine id at first boot; umlkit-init does otherwise
[ ! -e /etc/machine-id ] || : >/etc/machine-id

say "tar: the tree to the share"
# through a plain bind mount of /: the root without /proc, /sys, /dev and
# the shares mounted over it
mkdir /tmp/root
mount --bind / /tmp/root
tar --create --file "$out/tree.tar" --numeric-owner --xattrs --xattrs-include='*' \
	--sort=name --clamp-mtime --mtime="@$SOURCE_DATE_EPOCH" \
	--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
	--exclude=./umlkit-debian --exclude=./umlkit-debs --exclude=./umlkit-out \
	--exclude=./umlkit-configure --exclude=./usr/sbin/umlkit-init -C /tmp/root .
umount /tmp/root
say "done"
