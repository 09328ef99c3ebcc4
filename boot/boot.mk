# The guest init (static C, PID 1 in command mode), the runtime supervisor
# (static C, runs on the host) and the bundle boot.sh.

BUNDLE := $(IMAGES_DIR)/boot.sh
BUNDLE_COMPRESSION := $(if $(UMLKIT_BUNDLE_GZIP),gzip,$(if $(UMLKIT_BUNDLE_ZSTD),zstd,xz))
BOOT_MEM := $(call qstrip,$(UMLKIT_BOOT_MEM))
BOOT_CMDLINE := $(call qstrip,$(UMLKIT_BOOT_CMDLINE))
BOOT_DEFAULT_COMMAND := $(if $(UMLKIT_BOOT_COMMAND),$(call qstrip,$(UMLKIT_BOOT_DEFAULT_COMMAND)))
CONFIG_NAME := $(notdir $(or $(file <$(DEFCONFIG_ORIGIN)),custom))

quiet_cmd_init = init: build
      cmd_init = $(call write-then-rename,$(HOST_CC) -std=gnu11 -Wall -Wextra -Werror -Os -static -s -o $@.tmp $<)
$(GUEST_INIT): $(TOPDIR)/boot/init.c FORCE
	$(call if_changed,init)

# Static, so the bundle needs no C library of the host's for it.
RUNTIME := $(BUILD_DIR)/runtime/umlkit-run
RUNTIME_SRCS := $(filter-out %/fuzz.c,$(wildcard $(TOPDIR)/boot/run/*.c))
RUNTIME_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -Os -static -s

quiet_cmd_runtime = runtime: build
      cmd_runtime = $(call write-then-rename,$(HOST_CC) $(RUNTIME_CFLAGS) -o $@.tmp $(RUNTIME_SRCS))
$(RUNTIME): $(RUNTIME_SRCS) $(TOPDIR)/boot/run/run.h FORCE
	$(call if_changed,runtime)

.PHONY: runtime
runtime: $(RUNTIME)

# make fuzz: the runtime's parsers (bundle.conf, command line words, sizes)
RUNTIME_FUZZER := $(BUILD_DIR)/host-fuzz/fuzz-runtime
$(RUNTIME_FUZZER): $(TOPDIR)/boot/run/fuzz.c $(TOPDIR)/boot/run/conf.c $(TOPDIR)/boot/run/options.c \
		$(TOPDIR)/boot/run/util.c $(TOPDIR)/boot/run/run.h
	$(call MESSAGE,runtime: build fuzzer)
	$(Q)mkdir -p $(@D)
	$(Q)clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -o $@ $(filter %.c,$^)

# Each image is compressed into its own payload segment, so a rebuild
# recompresses only the image that changed.
SEGMENT_DIR := $(BUILD_DIR)/bundle
BUNDLE_IMAGES := $(KERNEL_IMAGE) $(ROOTFS_IMAGE) $(DATA_IMAGE)
BUNDLE_SEGMENTS := $(SEGMENT_DIR)/umlkit-run.seg \
	$(patsubst $(IMAGES_DIR)/%,$(SEGMENT_DIR)/%.seg,$(BUNDLE_IMAGES)) $(SEGMENT_DIR)/end.seg

quiet_cmd_segment = bundle: compress $(notdir $<)
      cmd_segment = SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) sh $(TOPDIR)/boot/mksegment.sh \
	-c $(BUNDLE_COMPRESSION) $(SEGMENT_FLAGS) -o $@ $<

# the runtime and the kernel are rebuilt rarely: compress them hard
$(SEGMENT_DIR)/umlkit-run.seg $(SEGMENT_DIR)/linux.seg: SEGMENT_FLAGS := -s

$(SEGMENT_DIR)/umlkit-run.seg: $(RUNTIME) $(TOPDIR)/boot/mksegment.sh FORCE
	$(call if_changed,segment)

$(SEGMENT_DIR)/%.seg: $(IMAGES_DIR)/% $(TOPDIR)/boot/mksegment.sh FORCE
	$(call if_changed,segment)

quiet_cmd_end_segment = bundle: end segment
      cmd_end_segment = SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) sh $(TOPDIR)/boot/mksegment.sh \
	-c $(BUNDLE_COMPRESSION) -o $@ -e
$(SEGMENT_DIR)/end.seg: $(TOPDIR)/boot/mksegment.sh FORCE
	$(call if_changed,end_segment)

# mkbundle.sh assembles in $@.work.XXXXXX and renames; a SIGKILLed run
# leaves that directory behind for the next run to remove.
quiet_cmd_bundle = bundle: $(notdir $@)
      cmd_bundle = rm -rf $@.work.*; SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) \
	sh $(TOPDIR)/boot/mkbundle.sh -o $@ -t $(TOPDIR)/boot/boot.sh.in -s $(SEGMENT_DIR) \
	-k $(KERNEL_IMAGE) -r $(ROOTFS_IMAGE) -R $(ROOTFS_MOUNT) $(addprefix -d ,$(DATA_IMAGE)) \
	-c $(BUNDLE_COMPRESSION) -m '$(BOOT_MEM)' -a '$(BOOT_CMDLINE)' \
	-x '$(BOOT_DEFAULT_COMMAND)' -n '$(CONFIG_NAME)'
$(BUNDLE): $(BUNDLE_SEGMENTS) $(TOPDIR)/boot/boot.sh.in $(TOPDIR)/boot/mkbundle.sh FORCE
	$(call if_changed,bundle)

.PHONY: boot
boot: $(BUNDLE)
	$(BUNDLE) $(BOOT_ARGS)
