# The guest init (static C, PID 1 in command mode) and the bundle boot.sh.

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

BUNDLE_OPTS := $(BUILD_DIR)/bundle.opts
$(call write-if-changed,$(BUNDLE_OPTS),$(BUNDLE_COMPRESSION)|$(BOOT_MEM)|$(BOOT_CMDLINE)|$(BOOT_DEFAULT_COMMAND)|$(CONFIG_NAME)|$(SOURCE_DATE_EPOCH))

$(BUNDLE): $(KERNEL_IMAGE) $(ROOTFS_IMAGE) $(DATA_IMAGE) $(BUNDLE_OPTS) \
		$(TOPDIR)/boot/boot.sh.in $(TOPDIR)/boot/mkbundle.sh
	$(call MESSAGE,bundle: $(notdir $@))
	$(Q)sh $(TOPDIR)/boot/mkbundle.sh -o $@ -t $(TOPDIR)/boot/boot.sh.in \
		-k $(KERNEL_IMAGE) -r $(ROOTFS_IMAGE) $(addprefix -d ,$(DATA_IMAGE)) \
		-c $(BUNDLE_COMPRESSION) -m '$(BOOT_MEM)' -a '$(BOOT_CMDLINE)' \
		-x '$(BOOT_DEFAULT_COMMAND)' -n '$(CONFIG_NAME)'

.PHONY: boot
boot: $(BUNDLE)
	$(BUNDLE) $(BOOT_ARGS)
