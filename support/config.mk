# The configuration as make reads it, and every string option checked.
#
# .config is data, not make syntax: a '$' or '#' in a value would be
# expanded or cut by make (UMLKIT_HOSTNAME="$(shell ...)" ran the command
# at parse time). So make reads $(CONFIG_MK), .config with both escaped.
# Then each string option of Config.in has a class in the table below:
# what it may hold. A value outside its class stops make with the option's
# name and the fix. Class 'any' is for the values that reach commands only
# single-quoted the way Kbuild quotes ('$(call escsq,...)') or only as
# environment variables; 'make V=1' shows them quoted.

CONFIG_MK := $(BUILD_DIR)/config.mk

# made at parse time (a rule would run only after make had read the old
# copy): sed turns every '$' into '$$' and every '#' into '\#'
ifneq ($(wildcard $(CONFIG_FILE)),)
$(shell mkdir -p '$(BUILD_DIR)' && { [ '$(CONFIG_MK)' -nt '$(CONFIG_FILE)' ] || \
	{ sed '/^UMLKIT_[A-Za-z0-9_]*=/{s/\$$/$$$$/g;s/#/\\#/g;}' '$(CONFIG_FILE)' >'$(CONFIG_MK).tmp' && \
	mv '$(CONFIG_MK).tmp' '$(CONFIG_MK)'; }; })
include $(CONFIG_MK)
endif

#   option                      class
CONFIG_STRING_CLASSES := \
	UMLKIT_KUNITCONFIG=path \
	UMLKIT_KERNEL_TARBALL=path \
	UMLKIT_KERNEL_DIRECTORY=path \
	UMLKIT_KERNEL_PREBUILT_PATH=path \
	UMLKIT_KERNEL_PATCHES=paths \
	UMLKIT_KERNEL_CACHE_DIR=path \
	UMLKIT_KERNEL_DEFCONFIG=path \
	UMLKIT_KERNEL_FRAGMENTS=paths \
	UMLKIT_CCACHE_DIR=path \
	UMLKIT_CCACHE_REMOTE_STORAGE=any \
	UMLKIT_DISTCC_HOSTS=any \
	UMLKIT_ROOTFS_RECIPES=paths \
	UMLKIT_ROOTFS_SIZE=size \
	UMLKIT_ROOTFS_SQUASHFS_COMPRESSION=compression \
	UMLKIT_HOSTNAME=hostname \
	UMLKIT_DEBIAN_MIRROR=path \
	UMLKIT_DEBIAN_LOCK=path \
	UMLKIT_SOURCE_DATE_EPOCH=number \
	UMLKIT_DATA_DISK_NAME=name \
	UMLKIT_DATA_DISK_SIZE=size \
	UMLKIT_DATA_DISK_RECIPE=path \
	UMLKIT_DATA_DISK_MOUNTPOINT=path \
	UMLKIT_BOOT_DEFAULT_COMMAND=any \
	UMLKIT_BOOT_MEM=size \
	UMLKIT_BOOT_CMDLINE=any \
	UMLKIT_SIGN_KEY=path \
	UMLKIT_NET_FORWARDS=paths \
	UMLKIT_NET_SWITCHES=paths \
	UMLKIT_LAB_DIR=path \
	UMLKIT_LAB_DEFAULT_IMAGE=path

config-letters := a b c d e f g h i j k l m n o p q r s t u v w x y z \
	A B C D E F G H I J K L M N O P Q R S T U V W X Y Z 0 1 2 3 4 5 6 7 8 9
# per class: the characters allowed, whether blanks separate words, and
# what the error says it may hold
config-chars.path := $(config-letters) _ . / + - @ : = ~ % $(comma)
config-chars.paths := $(config-chars.path)
config-chars.name := $(config-letters) _ . + -
config-chars.hostname := $(config-letters) . -
config-chars.size := 0 1 2 3 4 5 6 7 8 9 K M G k m g
config-chars.number := 0 1 2 3 4 5 6 7 8 9
config-chars.compression := $(config-letters) : $(comma)
config-words.paths := yes
config-says.path := a path of letters, digits and _ . / + - @ : = ~ % ,
config-says.paths := paths (blank-separated) of letters, digits and _ . / + - @ : = ~ % ,
config-says.name := a name of letters, digits and _ . + -
config-says.hostname := a host name: letters, digits, '-' and '.'
config-says.size := a size such as 64M
config-says.number := a whole number
config-says.compression := a compressor such as zstd, zstd:19, zstd:19$(comma)1M or xz

# $(call config-strip-chars,TEXT,CHARS): TEXT without any of CHARS
config-strip-chars = $(if $(2),$(call config-strip-chars,$(subst $(firstword $(2)),,$(1)),$(wordlist 2,200,$(2))),$(1))

# $(call config-check-string,OPTION,CLASS): the error, if the value is bad
config-check-string = $(if $(filter any,$(2)),,$(if $(or \
	$(strip $(call config-strip-chars,$(call qstrip,$($(1))),$(config-chars.$(2)))), \
	$(if $(config-words.$(2)),,$(word 2,$(call qstrip,$($(1)))))), \
	$(error $(CONFIG_FILE): $(1)=$($(1)): $(1) holds $(config-says.$(2)); fix it with 'make menuconfig')))

# checked when something is built: the configuration targets (menuconfig,
# oldconfig, savedefconfig...) stay usable to fix a bad value
ifneq ($(wildcard $(CONFIG_FILE)),)
ifneq ($(filter-out $(NOCONFIG_TARGETS),$(or $(MAKECMDGOALS),all)),)
# every string option has a class (a new one in Config.in needs a row)
config-strings := $(foreach v,$(filter UMLKIT_%,$(.VARIABLES)),$(if $(filter "%,$(firstword $($(v)))),$(v)))
config-unclassed := $(filter-out $(foreach c,$(CONFIG_STRING_CLASSES),$(firstword $(subst =, ,$(c)))),$(config-strings))
$(if $(config-unclassed),$(error support/config.mk: string option $(firstword $(config-unclassed)) has no class in CONFIG_STRING_CLASSES))
$(foreach c,$(CONFIG_STRING_CLASSES),$(call config-check-string,$(firstword $(subst =, ,$(c))),$(lastword $(subst =, ,$(c)))))
endif
endif
