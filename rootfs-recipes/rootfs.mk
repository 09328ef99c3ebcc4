# The root filesystem and the data disk, built by mkimage from recipes.
# Each image depends on exactly what it read (mkimage -d writes the list),
# on mkimage itself and on the configuration values that shape it.
# mkimage writes OUT.tmp-PID (working in OUT.work-PID) and renames it into
# place; a SIGKILLed run cannot remove those, so the next run of the same
# rule does.

ROOTFS_TYPE := $(if $(UMLKIT_ROOTFS_EXT4),ext4,$(if $(UMLKIT_ROOTFS_SQUASHFS),squashfs,$(if $(UMLKIT_ROOTFS_CPIO),cpio,ext2)))
ROOTFS_IMAGE := $(IMAGES_DIR)/rootfs.$(if $(filter cpio,$(ROOTFS_TYPE)),cpio.gz,$(ROOTFS_TYPE))
ROOTFS_RECIPES := $(call qstrip,$(UMLKIT_ROOTFS_RECIPES))
ROOTFS_SIZE := $(call qstrip,$(UMLKIT_ROOTFS_SIZE))

DATA_NAME := $(call qstrip,$(UMLKIT_DATA_DISK_NAME))
DATA_TYPE := $(if $(UMLKIT_DATA_DISK_EXT2),ext2,ext4)
DATA_IMAGE := $(if $(UMLKIT_DATA_DISK),$(IMAGES_DIR)/$(DATA_NAME).$(DATA_TYPE))
DATA_RECIPE := $(call qstrip,$(UMLKIT_DATA_DISK_RECIPE))
DATA_MOUNTPOINT := $(call qstrip,$(UMLKIT_DATA_DISK_MOUNTPOINT))

GUEST_INIT := $(BUILD_DIR)/target/umlkit-init

# Settings from the configuration, as a recipe read after the user's ones
# (mkimage -c: it wins, with a note for each file of the recipes it
# replaces): hostname, fstab, the data disk's mount point.
CONFIG_RECIPE := $(BUILD_DIR)/config.recipe
$(call write-if-changed,$(CONFIG_RECIPE),$(strip \
	)# generated from $(CONFIG_FILE)$(newline)$(strip \
	)text /etc/hostname 0644 0 0 "$(call qstrip,$(UMLKIT_HOSTNAME))\n"$(newline)$(strip \
	)text /etc/fstab 0644 0 0 "proc /proc proc defaults 0 0\nsysfs /sys sysfs defaults 0 0\ntmpfs /tmp tmpfs defaults 0 0\n$(if $(and $(DATA_IMAGE),$(DATA_MOUNTPOINT)),/dev/ubdb $(DATA_MOUNTPOINT) $(DATA_TYPE) defaults 0 0\n)"$(newline)$(strip \
	)$(if $(and $(DATA_IMAGE),$(DATA_MOUNTPOINT)),dir $(DATA_MOUNTPOINT) 0755 0 0))

# umlkit's guest init comes last: boot.sh relies on it. On a merged-/usr
# tree it lands in /usr/sbin, through the /sbin symlink.
INIT_RECIPE := $(BUILD_DIR)/init.recipe
$(call write-if-changed,$(INIT_RECIPE),file /sbin/umlkit-init $(GUEST_INIT) 0755 0 0)

# Login mode hands over to the tree's /sbin/init: without one the guest
# would panic, so the build stops.
ROOTFS_REQUIRE_INIT := /sbin/init=login mode (BOOT_INTERACTIVE) starts it: add an init to ROOTFS_RECIPES or choose command mode (BOOT_COMMAND)

ROOTFS_OPTS := $(BUILD_DIR)/rootfs.opts
$(call write-if-changed,$(ROOTFS_OPTS),$(ROOTFS_TYPE) $(ROOTFS_SIZE) $(UMLKIT_ROOTFS_HEADROOM) $(ROOTFS_RECIPES) $(SOURCE_DATE_EPOCH) $(UMLKIT_BOOT_INTERACTIVE))

$(ROOTFS_IMAGE): $(MKIMAGE) $(ROOTFS_OPTS) $(CONFIG_RECIPE) $(INIT_RECIPE) $(GUEST_INIT) $(ROOTFS_RECIPES)
	$(call MESSAGE,rootfs: $(ROOTFS_TYPE))
	$(Q)mkdir -p $(@D) && rm -rf $@.tmp-* $@.work-*
	$(Q)$(MKIMAGE) -t $(ROOTFS_TYPE) -o $@ -d $(BUILD_DIR)/rootfs.d -L rootfs \
		$(if $(ROOTFS_SIZE),-s $(ROOTFS_SIZE)) $(if $(UMLKIT_ROOTFS_HEADROOM),-H $(UMLKIT_ROOTFS_HEADROOM)) \
		$(if $(UMLKIT_BOOT_INTERACTIVE),-r '$(ROOTFS_REQUIRE_INIT)') \
		$(ROOTFS_RECIPES) -c $(CONFIG_RECIPE) -c $(INIT_RECIPE)

DATA_OPTS := $(BUILD_DIR)/data.opts
$(call write-if-changed,$(DATA_OPTS),$(DATA_TYPE) $(call qstrip,$(UMLKIT_DATA_DISK_SIZE)) $(DATA_RECIPE) $(SOURCE_DATE_EPOCH))

ifneq ($(DATA_IMAGE),)
$(DATA_IMAGE): $(MKIMAGE) $(DATA_OPTS) $(DATA_RECIPE)
	$(call MESSAGE,data disk: $(DATA_NAME).$(DATA_TYPE))
	$(Q)mkdir -p $(@D) && rm -rf $@.tmp-* $@.work-*
	$(Q)$(MKIMAGE) -t $(DATA_TYPE) -o $@ -d $(BUILD_DIR)/data.d -L $(DATA_NAME) \
		-s $(call qstrip,$(UMLKIT_DATA_DISK_SIZE)) $(DATA_RECIPE)
endif

$(ROOTFS_RECIPES) $(DATA_RECIPE):
	@echo "make: recipe '$@' not found: fix ROOTFS_RECIPES / DATA_DISK_RECIPE (make menuconfig)" >&2; exit 1

-include $(wildcard $(BUILD_DIR)/rootfs.d $(BUILD_DIR)/data.d)

.PHONY: rootfs data-disk
rootfs: $(ROOTFS_IMAGE)
data-disk: $(DATA_IMAGE)
