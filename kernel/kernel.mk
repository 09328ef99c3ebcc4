# The UML kernel: unpack, configure (defconfig + fragments, checked), build,
# strip into $(IMAGES_DIR)/linux. Or copy a prebuilt one.

KERNEL_IMAGE := $(IMAGES_DIR)/linux
KERNEL_OBJDIR := $(BUILD_DIR)/linux-obj
KERNEL_TARBALL := $(call qstrip,$(UMLKIT_KERNEL_TARBALL))
KERNEL_DEFCONFIG := $(call qstrip,$(UMLKIT_KERNEL_DEFCONFIG))
KERNEL_FRAGMENTS := $(addprefix $(TOPDIR)/,$(call qstrip,$(UMLKIT_KERNEL_FRAGMENTS)))

ifeq ($(UMLKIT_KERNEL_FROM_DIRECTORY),y)
KERNEL_SRCDIR := $(abspath $(call qstrip,$(UMLKIT_KERNEL_DIRECTORY)))
KERNEL_SOURCE_STAMP := $(KERNEL_SRCDIR)/Makefile
else
KERNEL_SRCDIR := $(BUILD_DIR)/linux-src
KERNEL_SOURCE_STAMP := $(KERNEL_SRCDIR)/.umlkit-unpacked
endif

# Patches: files, or directories whose *.patch are taken in name order,
# relative to the top directory. Only a tree umlkit unpacked is patched: a
# source directory of the user's is never modified.
KERNEL_PATCHES := $(foreach p,$(call qstrip,$(UMLKIT_KERNEL_PATCHES)),$(abspath $(if $(filter /%,$(p)),$(p),$(TOPDIR)/$(p))))
KERNEL_PATCH_FILES := $(foreach p,$(KERNEL_PATCHES),$(if $(wildcard $(p)/.),$(sort $(wildcard $(p)/*.patch)),$(p)))

# A kernel defconfig is a name under arch/um/configs/ or a file of ours.
KERNEL_DEFCONFIG_FILE := $(if $(findstring /,$(KERNEL_DEFCONFIG)),$(abspath $(TOPDIR)/$(KERNEL_DEFCONFIG)))

# Everything that makes the binary depend on where and when it was built is
# pinned, so two builds of one configuration give the same bytes.
KERNEL_BUILD_ENV := \
	KBUILD_BUILD_USER=umlkit KBUILD_BUILD_HOST=umlkit KBUILD_BUILD_VERSION=1 \
	KBUILD_BUILD_TIMESTAMP="$$(LC_ALL=C date -u -d @$(SOURCE_DATE_EPOCH))" \
	KCFLAGS="-ffile-prefix-map=$(KERNEL_SRCDIR)/= -ffile-prefix-map=$(KERNEL_OBJDIR)/=" \
	LC_ALL=C TZ=UTC
KERNEL_MAKE = $(KERNEL_BUILD_ENV) $(MAKE) -C $(KERNEL_SRCDIR) O=$(KERNEL_OBJDIR) ARCH=um $(KERNEL_CC_FLAGS) \
	$(if $(filter 1,$(V)),V=1,-s)

.PHONY: kernel
kernel: $(KERNEL_IMAGE)

# The kernel cache: one build per kernel configuration, shared by every O=
# and by make check (tarball sources only; a source directory's edits are
# not tracked). KERNEL_CACHE_DIR in the environment overrides the setting;
# empty disables the cache.
KERNEL_CACHE_DEFAULT := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/umlkit/kernels
ifeq ($(UMLKIT_KERNEL_CACHE)$(UMLKIT_KERNEL_FROM_TARBALL),yy)
KERNEL_CACHE := $(if $(filter undefined,$(origin KERNEL_CACHE_DIR)),$(or \
	$(call qstrip,$(UMLKIT_KERNEL_CACHE_DIR)),$(KERNEL_CACHE_DEFAULT)),$(KERNEL_CACHE_DIR))
endif

ifeq ($(UMLKIT_KERNEL_PREBUILT),y)

KERNEL_PREBUILT := $(call qstrip,$(UMLKIT_KERNEL_PREBUILT_PATH))

quiet_cmd_kernel_copy = kernel: copy $<
      cmd_kernel_copy = $(call write-then-rename,cp $< $@.tmp)
$(KERNEL_IMAGE): $(KERNEL_PREBUILT) FORCE
	$(call if_changed,kernel_copy)

$(KERNEL_PREBUILT):
	@echo "make: prebuilt UML kernel $@ not found: install Debian package user-mode-linux or set KERNEL_PREBUILT_PATH (make menuconfig)" >&2; exit 1

.PHONY: kernel-menuconfig kernel-savedefconfig kernel-rebuild
kernel-menuconfig kernel-savedefconfig kernel-rebuild:
	@echo "make: $@: the configuration uses a prebuilt kernel ($(KERNEL_PREBUILT))" >&2; exit 1

else

$(KERNEL_TARBALL):
	@echo "make: kernel source $@ not found: install Debian package $(or $(patsubst linux-source-%.tar.xz,linux-source-%,$(filter linux-source-%.tar.xz,$(notdir $@))),linux-source-6.12) (make deps) or set KERNEL_TARBALL (make menuconfig)" >&2; exit 1

ifneq ($(UMLKIT_KERNEL_FROM_DIRECTORY),y)
# The tarball's path is tracked too: choosing another version (a tarball
# older than the tree unpacked before) unpacks again.
quiet_cmd_kernel_unpack = kernel: unpack $<
      cmd_kernel_unpack = rm -rf $(KERNEL_SRCDIR) $(KERNEL_SRCDIR).tmp && mkdir -p $(KERNEL_SRCDIR).tmp && \
	tar -xf $< -C $(KERNEL_SRCDIR).tmp --strip-components=1 && \
	touch $(KERNEL_SRCDIR).tmp/.umlkit-unpacked && mv $(KERNEL_SRCDIR).tmp $(KERNEL_SRCDIR)
$(KERNEL_SOURCE_STAMP): $(KERNEL_TARBALL) FORCE
	$(call if_changed,kernel_unpack)

# The series applied is an input: adding, editing, reordering or removing a
# patch brings the tree to pristine plus the new series, and Kbuild
# rebuilds what that touched.
KERNEL_PATCHED := $(KERNEL_SRCDIR)/.umlkit-patched
quiet_cmd_kernel_patch =
      cmd_kernel_patch = sh $(TOPDIR)/kernel/apply-patches.sh $(KERNEL_SRCDIR) $(KERNEL_PATCH_FILES) && touch $@
$(KERNEL_PATCHED): $(KERNEL_SOURCE_STAMP) $(KERNEL_PATCH_FILES) $(TOPDIR)/kernel/apply-patches.sh FORCE
	$(call if_changed,kernel_patch)

$(filter-out $(wildcard $(KERNEL_PATCH_FILES)),$(KERNEL_PATCH_FILES)):
	@echo "make: kernel patch $@ not found: fix KERNEL_PATCHES (make menuconfig)" >&2; exit 1
else
KERNEL_PATCHED := $(KERNEL_SOURCE_STAMP)
$(KERNEL_SOURCE_STAMP):
	@echo "make: kernel source directory $(KERNEL_SRCDIR) has no Makefile: set KERNEL_DIRECTORY (make menuconfig)" >&2; exit 1
ifneq ($(KERNEL_PATCH_FILES),)
$(error KERNEL_PATCHES is set, but a source directory is never patched: apply the patches in $(KERNEL_SRCDIR) yourself and empty KERNEL_PATCHES (make menuconfig))
endif
endif

# The configuration: the defconfig (a name, or a file of ours), the
# fragments merged over it, every fragment option checked. Kbuild tracks
# the rest, so the tracked inputs are the defconfig and the fragment list.
# A KUnit kernel (docs/kunit.md) is configured as kunit.py does it: the
# kunitconfig merged over arch_uml.config (and kernel/kunit.config, what
# umlkit's patches need), olddefconfig, every entry of the merge checked.
KERNEL_CONFIGURED := $(KERNEL_OBJDIR)/.umlkit-configured
ifeq ($(UMLKIT_KUNIT),y)
KUNIT_CONFIGS := $(KERNEL_SRCDIR)/tools/testing/kunit/configs
KUNITCONFIG := $(call qstrip,$(UMLKIT_KUNITCONFIG))
# a file of ours (a path), or a name in the tree's configs directory
KUNITCONFIG_FILE := $(if $(findstring /,$(KUNITCONFIG)),$(abspath $(if $(filter /%,$(KUNITCONFIG)),,$(TOPDIR)/)$(KUNITCONFIG)))
KUNITCONFIG_NAME := $(if $(KUNITCONFIG_FILE),$(notdir $(KUNITCONFIG_FILE)),$(or $(KUNITCONFIG),default.config))
KUNITCONFIG_PATH := $(or $(KUNITCONFIG_FILE),$(KUNIT_CONFIGS)/$(KUNITCONFIG_NAME))
quiet_cmd_kernel_config = kernel: configure for KUnit: $(KUNITCONFIG_NAME) over arch_uml.config
      cmd_kernel_config = rm -f $@ && mkdir -p $(KERNEL_OBJDIR) && \
	sh $(TOPDIR)/kernel/kunit-config.sh $(KUNIT_CONFIGS)/arch_uml.config $(TOPDIR)/kernel/kunit.config $(KUNITCONFIG_PATH) \
		>$(KERNEL_OBJDIR)/kunitconfig && cp $(KERNEL_OBJDIR)/kunitconfig $(KERNEL_OBJDIR)/.config && \
	$(KERNEL_MAKE) olddefconfig >/dev/null && \
	sh $(TOPDIR)/kernel/check-config.sh $(KERNEL_OBJDIR)/.config $(KERNEL_OBJDIR)/kunitconfig && touch $@
      track_kernel_config = kunit $(KUNITCONFIG_PATH)
$(KERNEL_CONFIGURED): $(KERNEL_PATCHED) $(KUNITCONFIG_FILE) $(TOPDIR)/kernel/kunit-config.sh $(TOPDIR)/kernel/kunit.config \
		$(TOPDIR)/kernel/check-config.sh FORCE
	$(call if_changed,kernel_config)

$(filter-out $(wildcard $(KUNITCONFIG_FILE)),$(KUNITCONFIG_FILE)):
	@echo "make: kunitconfig $@ not found: set KUNITCONFIG (make menuconfig)" >&2; exit 1
else
quiet_cmd_kernel_config = kernel: configure $(KERNEL_DEFCONFIG) + $(notdir $(KERNEL_FRAGMENTS))
      cmd_kernel_config = rm -f $@ && mkdir -p $(KERNEL_OBJDIR) && \
	$(if $(KERNEL_DEFCONFIG_FILE),cp $(KERNEL_DEFCONFIG_FILE) $(KERNEL_OBJDIR)/.config,$(KERNEL_MAKE) $(KERNEL_DEFCONFIG) >/dev/null) && \
	(cd $(KERNEL_OBJDIR) && ARCH=um $(KERNEL_SRCDIR)/scripts/kconfig/merge_config.sh \
		-m -O $(KERNEL_OBJDIR) $(KERNEL_OBJDIR)/.config $(KERNEL_FRAGMENTS) \
		>$(KERNEL_OBJDIR)/merge_config.log 2>&1) && \
	$(KERNEL_MAKE) olddefconfig >/dev/null && \
	sh $(TOPDIR)/kernel/check-config.sh $(KERNEL_OBJDIR)/.config $(KERNEL_FRAGMENTS) && touch $@
      track_kernel_config = $(KERNEL_DEFCONFIG) $(KERNEL_FRAGMENTS)
$(KERNEL_CONFIGURED): $(KERNEL_PATCHED) $(KERNEL_FRAGMENTS) $(KERNEL_DEFCONFIG_FILE) \
		$(TOPDIR)/kernel/check-config.sh FORCE
	$(call if_changed,kernel_config)
endif

# Only the configuration, the timestamp and the source are inputs: a no-op
# make does not enter the kernel's own make. After editing a source
# directory, run 'make kernel-rebuild'. The build timestamp is tracked, so
# an incremental build gives the bytes a clean one would.
# Kbuild regenerates the built-in initramfs when its command line changes,
# but gen_initramfs.sh reads KBUILD_BUILD_TIMESTAMP from the environment:
# a new timestamp alone would leave the old one in its file times, so it
# is removed (it is tiny) whenever this rule runs.
quiet_cmd_kernel_build = kernel: build
      cmd_kernel_build = rm -f $(KERNEL_OBJDIR)/usr/initramfs_data.cpio && \
	$(KERNEL_MAKE) -j$(KERNEL_JOBS) linux && touch $@
      track_kernel_build = $(SOURCE_DATE_EPOCH)
$(KERNEL_OBJDIR)/linux: $(KERNEL_CONFIGURED) $(KERNEL_OBJDIR)/.config $(KERNEL_PATCHED) FORCE
	$(call if_changed,kernel_build)

$(KERNEL_OBJDIR)/.config: $(KERNEL_CONFIGURED)

ifeq ($(KERNEL_CACHE),)
quiet_cmd_kernel_strip = kernel: strip
      cmd_kernel_strip = $(call write-then-rename,strip -o $@.tmp $<)
$(KERNEL_IMAGE): $(KERNEL_OBJDIR)/linux FORCE
	$(call if_changed,kernel_strip)
else
# A hit copies the cached kernel (no unpacking, no configuring); a miss
# builds here (incrementally if this O= built before) and stores the result.
# The tracked inputs are the cache key's.
# A KUnit kernel's key names the kunitconfig (one in the tree is the
# tarball's; a file of ours is hashed) and the merge script.
KERNEL_KEY_FILES := $(KERNEL_DEFCONFIG_FILE) $(KERNEL_FRAGMENTS) $(KERNEL_PATCH_FILES) \
	$(if $(filter y,$(UMLKIT_KUNIT)),$(KUNITCONFIG_FILE) $(TOPDIR)/kernel/kunit.config $(TOPDIR)/kernel/kunit-config.sh)
KERNEL_KEY_NAME := $(if $(filter y,$(UMLKIT_KUNIT)),kunit:$(if $(KUNITCONFIG_FILE),file,$(KUNITCONFIG_NAME)),$(KERNEL_DEFCONFIG))
quiet_cmd_kernel_cached =
      track_kernel_cached = $(KERNEL_TARBALL) $(KERNEL_KEY_NAME) $(SOURCE_DATE_EPOCH) $(KERNEL_KEY_FILES)
      cmd_kernel_cached = sh $(TOPDIR)/kernel/cache.sh $(KERNEL_CACHE) $@ $(KERNEL_OBJDIR) '$(MAKE)' \
	-- $(KERNEL_TARBALL) '$(KERNEL_KEY_NAME)' $(SOURCE_DATE_EPOCH) $(KERNEL_KEY_FILES)
$(KERNEL_IMAGE): $(KERNEL_TARBALL) $(KERNEL_KEY_FILES) $(TOPDIR)/kernel/cache-key.sh $(TOPDIR)/kernel/cache.sh \
		$(TOPDIR)/kernel/check-config.sh $(TOPDIR)/kernel/apply-patches.sh FORCE
	$(call if_changed,kernel_cached)
endif

.PHONY: kernel-menuconfig
kernel-menuconfig: $(KERNEL_CONFIGURED)
	$(Q)$(KERNEL_MAKE) menuconfig

# Where kernel-savedefconfig writes: the defconfig file of ours, if the
# configuration names one, else kernel/NAME.
KERNEL_SAVEDEFCONFIG_FILE := $(or $(KERNEL_DEFCONFIG_FILE),$(TOPDIR)/kernel/$(KERNEL_DEFCONFIG))

.PHONY: kernel-savedefconfig
ifeq ($(UMLKIT_KUNIT),y)
kernel-savedefconfig:
	@echo "make: kernel-savedefconfig: a KUnit kernel is configured from its kunitconfig ($(KUNITCONFIG_PATH)): edit that" >&2; exit 1
else
kernel-savedefconfig: $(KERNEL_CONFIGURED)
	$(Q)$(KERNEL_MAKE) savedefconfig >/dev/null
	$(Q)cp $(KERNEL_OBJDIR)/defconfig $(KERNEL_SAVEDEFCONFIG_FILE).tmp && \
		mv $(KERNEL_SAVEDEFCONFIG_FILE).tmp $(KERNEL_SAVEDEFCONFIG_FILE)
	$(Q)echo "kernel defconfig written to $(KERNEL_SAVEDEFCONFIG_FILE)"
	$(if $(KERNEL_DEFCONFIG_FILE),,$(Q)echo "to use it: set KERNEL_DEFCONFIG to kernel/$(KERNEL_DEFCONFIG) (make menuconfig)")
endif

.PHONY: kernel-rebuild
kernel-rebuild: $(KERNEL_CONFIGURED)
	$(call MESSAGE,kernel: rebuild)
	$(Q)$(KERNEL_MAKE) -j$(NPROC) linux
	$(Q)touch $(KERNEL_OBJDIR)/linux
	$(Q)$(MAKE) --no-print-directory all

endif
