# Host tools: checked before any work, each missing one named with the Debian
# package that provides it ('make deps' installs them all).

# e2fsprogs' tools live in /usr/sbin, which users' PATH often lacks.
export PATH := $(PATH):/usr/sbin:/sbin

# Reproducible builds: one timestamp for every file we produce. From the
# configuration, else the environment, else umlkit's last commit, else 0.
SOURCE_DATE_EPOCH := $(or $(call qstrip,$(UMLKIT_SOURCE_DATE_EPOCH)),$(SOURCE_DATE_EPOCH),$(shell git -C $(TOPDIR) log -1 --format=%ct 2>/dev/null),0)
export SOURCE_DATE_EPOCH

# tool:package pairs (and header:package for libraries). The root
# filesystem format's own tools come from its row in mkimage/formats.def
# (rootfs.mk adds them); the check runs once every makefile is read.
HOST_TOOLS := gcc:gcc tar:tar xz:xz-utils sha256sum:coreutils strip:binutils \
	/usr/include/ext2fs/ext2fs.h:libext2fs-dev
ifneq ($(UMLKIT_KERNEL_PREBUILT),y)
HOST_TOOLS += flex:flex bison:bison bc:bc perl:perl
endif
ifeq ($(UMLKIT_BUNDLE_ZSTD),y)
HOST_TOOLS += zstd:zstd
endif
ifeq ($(UMLKIT_BUNDLE_GZIP),y)
HOST_TOOLS += gzip:gzip
endif

# GNU make 4.3's $(shell) does not see exported variables: the PATH with
# /usr/sbin is given to it explicitly.
host-tools-missing = $(shell PATH='$(PATH)'; for p in $(sort $(HOST_TOOLS)); do t="$${p%%:*}"; \
	if [ "$${t#/}" != "$$t" ]; then test -e "$$t"; else command -v "$$t" >/dev/null 2>&1; fi || echo "$$p"; done)

.PHONY: check-host
check-host:
	@missing='$(strip $(host-tools-missing))'; \
	for p in $$missing; do echo "missing: $${p%%:*} (Debian package $${p#*:})"; done; \
	test -z "$$missing" && echo "all host tools present"

# The host library that mkimage, the runtime and the unit tests share
# (support/lib/hostlib.h): built into each, never installed.
HOSTLIB_SRCS := $(wildcard $(TOPDIR)/support/lib/*.c)
HOSTLIB_HDRS := $(TOPDIR)/support/lib/hostlib.h
