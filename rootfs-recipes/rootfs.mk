# The root filesystem and the data disk, built by mkimage from recipes.
# Each image depends on exactly what it read (mkimage -d writes the list),
# on mkimage itself and, through if_changed, on its command line, which
# holds every configuration value that shapes it.
# mkimage writes OUT.tmp-PID (working in OUT.work-PID) and renames it into
# place; a SIGKILLed run cannot remove those, so the next run of the same
# rule does.

# The format chosen in Config.in (ROOTFS_<NAME>), from mkimage's table.
ROOTFS_TYPE := $(firstword $(foreach f,$(MKIMAGE_FORMATS),$(if $(UMLKIT_ROOTFS_$(call uc,$(f))),$(f))))
ifeq ($(ROOTFS_TYPE)$(UMLKIT_KUNIT)$(if $(wildcard $(CONFIG_FILE)),,none),)
$(error $(CONFIG_FILE): no root filesystem format of mkimage/formats.def ($(MKIMAGE_FORMATS)) is chosen: run 'make menuconfig' (menu Root filesystem))
endif
ROOTFS_IMAGE := $(IMAGES_DIR)/rootfs.$(call format-suffix,$(ROOTFS_TYPE))
ROOTFS_MOUNT := $(call format-root,$(ROOTFS_TYPE))
ROOTFS_RECIPES := $(call qstrip,$(UMLKIT_ROOTFS_RECIPES))
ROOTFS_SIZE := $(call qstrip,$(UMLKIT_ROOTFS_SIZE))
ROOTFS_SQUASHFS_COMPRESSION := $(if $(UMLKIT_ROOTFS_SQUASHFS),$(call qstrip,$(UMLKIT_ROOTFS_SQUASHFS_COMPRESSION)))
ROOTFS_COMPRESS_ARG := $(if $(ROOTFS_SQUASHFS_COMPRESSION),-z '$(call escsq,$(ROOTFS_SQUASHFS_COMPRESSION))')
HOST_TOOLS += $(call format-tools,$(ROOTFS_TYPE))

DATA_NAME := $(call qstrip,$(UMLKIT_DATA_DISK_NAME))
DATA_TYPE := $(if $(UMLKIT_DATA_DISK_EXT2),ext2,ext4)
DATA_IMAGE := $(if $(UMLKIT_DATA_DISK),$(IMAGES_DIR)/$(DATA_NAME).$(DATA_TYPE))
DATA_RECIPE := $(call qstrip,$(UMLKIT_DATA_DISK_RECIPE))
DATA_MOUNTPOINT := $(call qstrip,$(UMLKIT_DATA_DISK_MOUNTPOINT))
DATA_MOUNTED := $(and $(DATA_IMAGE),$(DATA_MOUNTPOINT))

GUEST_INIT := $(BUILD_DIR)/target/umlkit-init

# Settings from the configuration, as a recipe read after the user's ones
# (mkimage -c: it wins, with a note for each file of the recipes it
# replaces): hostname, fstab, the data disk's mount point.
CONFIG_RECIPE := $(BUILD_DIR)/config.recipe
CONFIG_RECIPE_LINES := \
	'text /etc/hostname 0644 0 0 "$(call qstrip,$(UMLKIT_HOSTNAME))\n"' \
	'text /etc/fstab 0644 0 0 "proc /proc proc defaults 0 0\nsysfs /sys sysfs defaults 0 0\ntmpfs /tmp tmpfs defaults 0 0\n$(if $(DATA_MOUNTED),/dev/ubdb $(DATA_MOUNTPOINT) $(DATA_TYPE) defaults 0 0\n)"' \
	$(if $(DATA_MOUNTED),'dir $(DATA_MOUNTPOINT) 0755 0 0')
quiet_cmd_config_recipe = rootfs: configuration recipe
      cmd_config_recipe = printf '%s\n' $(CONFIG_RECIPE_LINES) >$@
$(CONFIG_RECIPE): FORCE
	$(call if_changed,config_recipe)

# umlkit's guest init comes last: boot.sh relies on it. On a merged-/usr
# tree it lands in /usr/sbin, through the /sbin symlink.
INIT_RECIPE := $(BUILD_DIR)/init.recipe
quiet_cmd_init_recipe = rootfs: init recipe
      cmd_init_recipe = printf '%s\n' 'file /sbin/umlkit-init $(GUEST_INIT) 0755 0 0' >$@
$(INIT_RECIPE): FORCE
	$(call if_changed,init_recipe)

# Login mode hands over to the tree's /sbin/init: without one the guest
# would panic, so the build stops.
ROOTFS_REQUIRE_INIT := /sbin/init=login mode (BOOT_INTERACTIVE) starts it: add an init to ROOTFS_RECIPES or choose command mode (BOOT_COMMAND)

quiet_cmd_rootfs = rootfs: $(ROOTFS_TYPE)
      cmd_rootfs = rm -rf $@.tmp-* $@.work-*; SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) \
	$(MKIMAGE) -t $(ROOTFS_TYPE) -o $@ -d $(BUILD_DIR)/rootfs.d -L rootfs $(ROOTFS_COMPRESS_ARG) \
	$(if $(ROOTFS_SIZE),-s $(ROOTFS_SIZE)) $(if $(UMLKIT_ROOTFS_HEADROOM),-H $(UMLKIT_ROOTFS_HEADROOM)) \
	$(if $(UMLKIT_BOOT_INTERACTIVE),-r '$(ROOTFS_REQUIRE_INIT)') \
	--debian-tree $(call debian-tree,rootfs) $(ROOTFS_RECIPES) -c $(CONFIG_RECIPE) -c $(INIT_RECIPE)
$(ROOTFS_IMAGE): $(MKIMAGE) $(CONFIG_RECIPE) $(INIT_RECIPE) $(GUEST_INIT) $(ROOTFS_RECIPES) FORCE
	$(call if_changed,rootfs)

ifneq ($(DATA_IMAGE),)
quiet_cmd_data = data disk: $(DATA_NAME).$(DATA_TYPE)
      cmd_data = rm -rf $@.tmp-* $@.work-*; SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) \
	$(MKIMAGE) -t $(DATA_TYPE) -o $@ -d $(BUILD_DIR)/data.d -L $(DATA_NAME) \
	-s $(call qstrip,$(UMLKIT_DATA_DISK_SIZE)) $(DATA_RECIPE)
$(DATA_IMAGE): $(MKIMAGE) $(DATA_RECIPE) FORCE
	$(call if_changed,data)
endif

$(ROOTFS_RECIPES) $(DATA_RECIPE):
	@echo "make: recipe '$@' not found: fix ROOTFS_RECIPES / DATA_DISK_RECIPE (make menuconfig)" >&2; exit 1

-include $(wildcard $(BUILD_DIR)/rootfs.d $(BUILD_DIR)/data.d)

.PHONY: rootfs data-disk
rootfs: $(ROOTFS_IMAGE)
data-disk: $(DATA_IMAGE)
