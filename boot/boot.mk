# The guest init (static C, PID 1 in command mode), the runtime supervisor
# (static C, runs on the host) and the bundle boot.sh.

BUNDLE := $(IMAGES_DIR)/boot.sh
BUNDLE_COMPRESSION := $(if $(UMLKIT_BUNDLE_GZIP),gzip,$(if $(UMLKIT_BUNDLE_ZSTD),zstd,xz))
BOOT_MEM := $(call qstrip,$(UMLKIT_BOOT_MEM))
BOOT_CMDLINE := $(call qstrip,$(UMLKIT_BOOT_CMDLINE))
BOOT_DEFAULT_COMMAND := $(if $(UMLKIT_BOOT_COMMAND),$(call qstrip,$(UMLKIT_BOOT_DEFAULT_COMMAND)))
CONFIG_NAME := $(notdir $(or $(file <$(DEFCONFIG_ORIGIN)),custom))

$(GUEST_INIT): $(TOPDIR)/boot/init.c
	$(call MESSAGE,init: build)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) -std=gnu11 -Wall -Wextra -Werror -Os -static -s -o $@.tmp $< && mv $@.tmp $@

# Static, so the bundle needs no C library of the host's for it.
RUNTIME := $(BUILD_DIR)/runtime/umlkit-run
RUNTIME_SRCS := $(filter-out %/fuzz.c,$(wildcard $(TOPDIR)/boot/run/*.c))
RUNTIME_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -Os -static -s

$(RUNTIME): $(RUNTIME_SRCS) $(TOPDIR)/boot/run/run.h
	$(call MESSAGE,runtime: build)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(RUNTIME_CFLAGS) -o $@.tmp $(RUNTIME_SRCS) && mv $@.tmp $@

.PHONY: runtime
runtime: $(RUNTIME)

# make fuzz: the runtime's parsers (bundle.conf, command line words, sizes)
RUNTIME_FUZZER := $(BUILD_DIR)/host-fuzz/fuzz-runtime
$(RUNTIME_FUZZER): $(TOPDIR)/boot/run/fuzz.c $(TOPDIR)/boot/run/conf.c $(TOPDIR)/boot/run/options.c \
		$(TOPDIR)/boot/run/util.c $(TOPDIR)/boot/run/run.h
	$(call MESSAGE,runtime: build fuzzer)
	$(Q)mkdir -p $(@D)
	$(Q)clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -o $@ $(filter %.c,$^)

BUNDLE_OPTS := $(BUILD_DIR)/bundle.opts
$(call write-if-changed,$(BUNDLE_OPTS),$(BOOT_MEM)|$(BOOT_CMDLINE)|$(BOOT_DEFAULT_COMMAND)|$(CONFIG_NAME)|$(SOURCE_DATE_EPOCH))

# Each image is compressed into its own payload segment, so a rebuild
# recompresses only the image that changed.
SEGMENT_DIR := $(BUILD_DIR)/bundle
SEGMENT_OPTS := $(BUILD_DIR)/segment.opts
$(call write-if-changed,$(SEGMENT_OPTS),$(BUNDLE_COMPRESSION)|$(SOURCE_DATE_EPOCH))
BUNDLE_IMAGES := $(KERNEL_IMAGE) $(ROOTFS_IMAGE) $(DATA_IMAGE)
BUNDLE_SEGMENTS := $(SEGMENT_DIR)/umlkit-run.seg \
	$(patsubst $(IMAGES_DIR)/%,$(SEGMENT_DIR)/%.seg,$(BUNDLE_IMAGES)) $(SEGMENT_DIR)/end.seg

$(SEGMENT_DIR)/umlkit-run.seg: $(RUNTIME) $(SEGMENT_OPTS) $(TOPDIR)/boot/mksegment.sh
	$(call MESSAGE,bundle: compress umlkit-run)
	$(Q)mkdir -p $(@D)
	$(Q)sh $(TOPDIR)/boot/mksegment.sh -c $(BUNDLE_COMPRESSION) -s -o $@ $<

$(SEGMENT_DIR)/%.seg: $(IMAGES_DIR)/% $(SEGMENT_OPTS) $(TOPDIR)/boot/mksegment.sh
	$(call MESSAGE,bundle: compress $*)
	$(Q)mkdir -p $(@D)
	$(Q)sh $(TOPDIR)/boot/mksegment.sh -c $(BUNDLE_COMPRESSION) $(SEGMENT_FLAGS) -o $@ $<

# the kernel is rebuilt rarely: compress it hard
$(SEGMENT_DIR)/linux.seg: SEGMENT_FLAGS := -s

$(SEGMENT_DIR)/end.seg: $(SEGMENT_OPTS) $(TOPDIR)/boot/mksegment.sh
	$(Q)mkdir -p $(@D)
	$(Q)sh $(TOPDIR)/boot/mksegment.sh -c $(BUNDLE_COMPRESSION) -o $@ -e

# mkbundle.sh assembles in $@.work.XXXXXX and renames; a SIGKILLed run
# leaves that directory behind for the next run to remove.
$(BUNDLE): $(BUNDLE_SEGMENTS) $(BUNDLE_OPTS) $(TOPDIR)/boot/boot.sh.in $(TOPDIR)/boot/mkbundle.sh
	$(call MESSAGE,bundle: $(notdir $@))
	$(Q)rm -rf $@.work.*
	$(Q)sh $(TOPDIR)/boot/mkbundle.sh -o $@ -t $(TOPDIR)/boot/boot.sh.in -s $(SEGMENT_DIR) \
		-k $(KERNEL_IMAGE) -r $(ROOTFS_IMAGE) $(addprefix -d ,$(DATA_IMAGE)) \
		-c $(BUNDLE_COMPRESSION) -m '$(BOOT_MEM)' -a '$(BOOT_CMDLINE)' \
		-x '$(BOOT_DEFAULT_COMMAND)' -n '$(CONFIG_NAME)'

.PHONY: boot
boot: $(BUNDLE)
	$(BUNDLE) $(BOOT_ARGS)
