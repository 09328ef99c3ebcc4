# Host tools: checked before any work, each missing one named with the Debian
# package that provides it ('make deps' installs them all).

# e2fsprogs' tools live in /usr/sbin, which users' PATH often lacks.
export PATH := $(PATH):/usr/sbin:/sbin

# Reproducible builds: one timestamp for every file we produce. From the
# configuration, else the environment, else umlkit's last commit, else 0.
SOURCE_DATE_EPOCH := $(or $(call qstrip,$(UMLKIT_SOURCE_DATE_EPOCH)),$(SOURCE_DATE_EPOCH),$(shell git -C $(TOPDIR) log -1 --format=%ct 2>/dev/null),0)
export SOURCE_DATE_EPOCH

# tool:package pairs
HOST_TOOLS := gcc:gcc tar:tar xz:xz-utils sha256sum:coreutils strip:binutils \
	genext2fs:genext2fs tune2fs:e2fsprogs e2fsck:e2fsprogs debugfs:e2fsprogs \
	mke2fs:e2fsprogs
ifneq ($(UMLKIT_KERNEL_PREBUILT),y)
HOST_TOOLS += flex:flex bison:bison bc:bc perl:perl
endif
ifeq ($(UMLKIT_ROOTFS_SQUASHFS),y)
HOST_TOOLS += mksquashfs:squashfs-tools
endif
ifeq ($(UMLKIT_BUNDLE_ZSTD),y)
HOST_TOOLS += zstd:zstd
endif
ifeq ($(UMLKIT_BUNDLE_GZIP)$(UMLKIT_ROOTFS_CPIO),y)
HOST_TOOLS += gzip:gzip
endif

# GNU make 4.3's $(shell) does not see exported variables: the PATH with
# /usr/sbin is given to it explicitly.
host-tools-missing = $(shell PATH='$(PATH)'; for p in $(HOST_TOOLS); do \
	command -v "$${p%%:*}" >/dev/null 2>&1 || echo "$$p"; done)

# Checked at parse time when something is to be built: one shell, no work
# started before a missing tool is reported.
ifneq ($(filter-out $(NOCONFIG_TARGETS) check-host,$(or $(MAKECMDGOALS),all)),)
HOST_MISSING := $(host-tools-missing)
ifneq ($(HOST_MISSING),)
$(foreach p,$(HOST_MISSING),$(info make: host tool '$(firstword $(subst :, ,$(p)))' not found: install Debian package $(lastword $(subst :, ,$(p)))))
$(error missing host tools; 'make deps' installs them all)
endif
endif

.PHONY: check-host
check-host:
	@missing='$(strip $(host-tools-missing))'; \
	for p in $$missing; do echo "missing: $${p%%:*} (Debian package $${p#*:})"; done; \
	test -z "$$missing" && echo "all host tools present"
