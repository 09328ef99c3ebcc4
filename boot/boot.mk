# The guest init (boot/guest/: static C, PID 1 in the guest), the runtime
# supervisor (boot/run/: static C, on the host), the network helpers
# (boot/net/, on the host) and the bundle boot.sh.

BUNDLE := $(IMAGES_DIR)/boot.sh
BUNDLE_COMPRESSION := $(if $(UMLKIT_BUNDLE_GZIP),gzip,$(if $(UMLKIT_BUNDLE_ZSTD),zstd,xz))
BOOT_MEM := $(call qstrip,$(UMLKIT_BOOT_MEM))
BOOT_CMDLINE := $(call qstrip,$(UMLKIT_BOOT_CMDLINE))
BOOT_DEFAULT_COMMAND := $(if $(UMLKIT_BOOT_COMMAND),$(call qstrip,$(UMLKIT_BOOT_DEFAULT_COMMAND)))
# the signing key (docs/sign.md); 'make sign SIGN_KEY=...' names another
SIGN_KEY_SETTING := $(call qstrip,$(UMLKIT_SIGN_KEY))
SIGN_KEY_FILE := $(if $(SIGN_KEY_SETTING),$(abspath $(if $(filter /%,$(SIGN_KEY_SETTING)),,$(TOPDIR)/)$(SIGN_KEY_SETTING)))
SIGN_KEY ?= $(SIGN_KEY_FILE)
HOST_TOOLS += $(if $(SIGN_KEY_FILE),ssh-keygen:openssh-client)
CONFIG_NAME := $(notdir $(or $(file <$(DEFCONFIG_ORIGIN)),custom))

quiet_cmd_init = init: build
      cmd_init = $(call write-then-rename,$(HOST_CC) -std=gnu11 -Wall -Wextra -Werror -Os -static -s -o $@.tmp \
	$(filter %.c,$^))
$(GUEST_INIT): $(wildcard $(TOPDIR)/boot/guest/*.c $(TOPDIR)/boot/guest/*.h) $(TOPDIR)/boot/agent-proto.h FORCE
	$(call if_changed,init)

# Static, so the bundle needs no C library of the host's for it.
RUNTIME := $(BUILD_DIR)/runtime/umlkit-run
RUNTIME_SRCS := $(filter-out %/fuzz.c,$(wildcard $(TOPDIR)/boot/run/*.c)) $(HOSTLIB_SRCS)
RUNTIME_HDRS := $(wildcard $(TOPDIR)/boot/run/*.h) $(TOPDIR)/boot/agent-proto.h $(HOSTLIB_HDRS)
# --no-warnings: glibc warns that a static getaddrinfo needs its shared
# libraries; since 2.34 its files and dns lookups are in libc (checked in an
# empty chroot), which is what a lab part resolving a pod name needs
RUNTIME_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -Os -static -s -Wl,--no-warnings
# an out-of-memory runtime is a host that cannot run the guest (121)
RUNTIME_DEFS := -DHOSTLIB_OOM_STATUS=121

quiet_cmd_runtime = runtime: build
      cmd_runtime = $(call write-then-rename,$(HOST_CC) $(RUNTIME_CFLAGS) $(RUNTIME_DEFS) -o $@.tmp $(RUNTIME_SRCS))
$(RUNTIME): $(RUNTIME_SRCS) $(RUNTIME_HDRS) FORCE
	$(call if_changed,runtime)

.PHONY: runtime
runtime: $(RUNTIME)

# make fuzz: the runtime's parsers (bundle.conf, command line words, sizes,
# network options, lab.conf and lab.dep, KTAP with its printers and reports)
RUNTIME_FUZZER := $(BUILD_DIR)/host-fuzz/fuzz-runtime
# the runtime's own sources, less its main: the fuzzer's list is the program's
$(RUNTIME_FUZZER): $(TOPDIR)/boot/run/fuzz.c $(filter-out %/main.c,$(RUNTIME_SRCS)) $(RUNTIME_HDRS)
	$(call MESSAGE,runtime: build fuzzer)
	$(Q)mkdir -p $(@D)
	$(Q)clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -o $@ $(filter %.c,$^)

.PHONY: fuzz-runtime fuzz
fuzz-runtime: $(RUNTIME_FUZZER)
	$(call MESSAGE,runtime: fuzz its parsers for $(FUZZ_SECONDS)s)
	$(Q)mkdir -p $(BUILD_DIR)/fuzz-corpus-runtime
	$(Q)printf 'name=x\nmode=command\ncmdline=root=/dev/ubda "a b" c\nmem=64M\n' \
		>$(BUILD_DIR)/fuzz-corpus-runtime/seed
	$(Q)printf 'udp:127.0.0.1:5353:53' >$(BUILD_DIR)/fuzz-corpus-runtime/forward
	$(Q)printf '192.168.10.1/24' >$(BUILD_DIR)/fuzz-corpus-runtime/ip
	$(Q)cp $(TOPDIR)/configs/lab/lab.conf $(BUILD_DIR)/fuzz-corpus-runtime/lab.conf
	$(Q)printf '[ 0.1] KTAP version 1\n[ 0.1] 1..1\n[ 0.1]     KTAP version 1\n[ 0.1]     # Subtest: s\n[ 0.1]     1..2\n[ 0.1]     ok 1 a\n[ 0.1]     not ok 2 b # SKIP x\n[ 0.1] ok 1 s\n' \
		>$(BUILD_DIR)/fuzz-corpus-runtime/ktap
	$(Q)printf 'A\000\000\004\000\000\000\004O\001\000\002hiX\001\000\001\000z\001\000\000O\002\377\377' \
		>$(BUILD_DIR)/fuzz-corpus-runtime/agent
	$(Q)mkdir -p $(BUILD_DIR)/fuzz-artifacts
	$(Q)$(RUNTIME_FUZZER) -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		-artifact_prefix=$(BUILD_DIR)/fuzz-artifacts/ \
		$(BUILD_DIR)/fuzz-corpus-runtime

# make fuzz: every parser, FUZZ_SECONDS each
fuzz: fuzz-recipe fuzz-runtime

# Network helpers (docs/net.md). umlkit-switch is static. umlkit-nat runs
# on libslirp, which Debian ships as a shared library only: it travels with
# the dynamic loader and the libraries it was linked with (closure.sh), and
# the runtime starts it as LOADER --library-path ENTRY umlkit-nat.
NET_DIR := $(BUILD_DIR)/net
NET_SWITCH := $(NET_DIR)/umlkit-switch
NET_NAT := $(NET_DIR)/umlkit-nat
NET_CLOSURE := $(NET_DIR)/closure.list
NET_MODE := $(if $(UMLKIT_NET_USER),user,none)
NET_FORWARDS := $(if $(UMLKIT_NET_USER),$(call qstrip,$(UMLKIT_NET_FORWARDS)))
NET_SWITCHES := $(call qstrip,$(UMLKIT_NET_SWITCHES))

quiet_cmd_net_switch = net: build umlkit-switch
      cmd_net_switch = $(call write-then-rename,$(HOST_CC) $(RUNTIME_CFLAGS) -o $@.tmp $<)
$(NET_SWITCH): $(TOPDIR)/boot/net/switch.c FORCE
	$(call if_changed,net_switch)

quiet_cmd_net_nat = net: build umlkit-nat
      cmd_net_nat = $(call write-then-rename,$(HOST_CC) -std=gnu11 -Wall -Wextra -Werror -O2 -s -o $@.tmp $< -lslirp)
$(NET_NAT): $(TOPDIR)/boot/net/nat.c FORCE
	$(call if_changed,net_nat)

quiet_cmd_net_closure = net: collect umlkit-nat's loader and libraries
      cmd_net_closure = $(call write-then-rename,sh $(TOPDIR)/boot/net/closure.sh $< $(NET_DIR) >$@.tmp)
$(NET_CLOSURE): $(NET_NAT) $(TOPDIR)/boot/net/closure.sh FORCE
	$(call if_changed,net_closure)

.PHONY: net-helpers
net-helpers: $(NET_SWITCH) $(NET_CLOSURE)

# A lab (docs/lab.md): the lab directory, checked by the runtime's own
# parser (errors with file and line) and carried as lab.tar; the runtime
# unpacks it per instance.
LAB_DIR := $(call qstrip,$(UMLKIT_LAB_DIR))
LAB_SRC := $(if $(LAB_DIR),$(abspath $(if $(filter /%,$(LAB_DIR)),$(LAB_DIR),$(TOPDIR)/$(LAB_DIR))))
LAB_TAR := $(BUILD_DIR)/lab/lab.tar
LAB_DEFAULT_IMAGE := $(call qstrip,$(UMLKIT_LAB_DEFAULT_IMAGE))
LAB_NAME_FILE := $(BUILD_DIR)/lab/name
LAB_FILES := $(if $(LAB_SRC),$(sort $(shell find '$(LAB_SRC)' -type f -o -type l 2>/dev/null)))

# NAME[image]=X with a recipe X.recipe (in the lab directory, else in
# rootfs-recipes/): a root image of its own, built as the configured one
# is (format, size, hostname, init), once for every machine naming it.
# The names come from the runtime's own lab.conf parser (umlkit-run
# --lab-images), as a makefile make remakes, then rereads.
LAB_IMAGES_MK := $(BUILD_DIR)/lab/images.mk
ifneq ($(LAB_SRC),)
-include $(LAB_IMAGES_MK)
$(LAB_IMAGES_MK): $(RUNTIME) $(wildcard $(LAB_SRC)/lab.conf) $(CONFIG_FILE)
	$(Q)mkdir -p $(@D)
	$(Q)$(RUNTIME) --lab-images $(LAB_SRC) '$(LAB_DEFAULT_IMAGE)' >$@.tmp && mv $@.tmp $@ || { rm -f $@.tmp; : >$@; }
endif
lab-image-recipe = $(firstword $(wildcard $(LAB_SRC)/$(1).recipe $(TOPDIR)/rootfs-recipes/$(1).recipe))
LAB_IMAGES := $(foreach i,$(LAB_IMAGE_NAMES),$(if $(call lab-image-recipe,$(i)),$(i)))
# an image with no recipe runs the default image (LAB_DEFAULT_IMAGE), if any
LAB_IMAGES += $(if $(and $(LAB_DEFAULT_IMAGE),$(filter-out $(LAB_IMAGES),$(LAB_IMAGE_NAMES))),\
	$(filter-out $(LAB_IMAGES),$(LAB_DEFAULT_IMAGE)))
# kathara/base: lab-kathara_base.ext4
lab-image-id = $(subst /,_,$(1))
lab-image-file = lab-$(call lab-image-id,$(1)).$(call format-suffix,$(ROOTFS_TYPE))
LAB_IMAGE_FILES := $(foreach i,$(LAB_IMAGES),$(IMAGES_DIR)/$(call lab-image-file,$(i)))

quiet_cmd_lab_image = rootfs: $(notdir $@)
      cmd_lab_image = rm -rf $@.tmp-* $@.work-*; SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) \
	$(MKIMAGE) -t $(ROOTFS_TYPE) -o $@ -d $(BUILD_DIR)/$(notdir $@).d -L rootfs $(ROOTFS_COMPRESS_ARG) \
	$(if $(ROOTFS_SIZE),-s $(ROOTFS_SIZE)) $(if $(UMLKIT_ROOTFS_HEADROOM),-H $(UMLKIT_ROOTFS_HEADROOM)) \
	-r '$(ROOTFS_REQUIRE_INIT)' --debian-tree $(LAB_IMAGE_TREE) $(LAB_IMAGE_RECIPE) \
	-c $(CONFIG_RECIPE) -c $(INIT_RECIPE)
define lab-image-rule
$(IMAGES_DIR)/$(call lab-image-file,$(1)): LAB_IMAGE_RECIPE := $(call lab-image-recipe,$(1))
$(IMAGES_DIR)/$(call lab-image-file,$(1)): LAB_IMAGE_TREE := $(BUILD_DIR)/debian/lab-$(call lab-image-id,$(1))/tree.tar
$(IMAGES_DIR)/$(call lab-image-file,$(1)): $(MKIMAGE) $(CONFIG_RECIPE) $(INIT_RECIPE) $(GUEST_INIT) \
		$(call lab-image-recipe,$(1)) FORCE
	$$(call if_changed,lab_image)
endef
$(foreach i,$(LAB_IMAGES),$(eval $(call lab-image-rule,$(i))))
-include $(wildcard $(BUILD_DIR)/lab-*.d)

quiet_cmd_lab_tar = lab: $(LAB_DIR)
      cmd_lab_tar = $(RUNTIME) --lab-check $(LAB_SRC) '$(LAB_DEFAULT_IMAGE)' $(LAB_IMAGES) >$(LAB_NAME_FILE) && \
	$(call write-then-rename,tar --sort=name --format=gnu --owner=0 --group=0 --numeric-owner \
	--mtime=@$(SOURCE_DATE_EPOCH) --mode=u+rw$(comma)go+r$(comma)go-w -C $(dir $(LAB_SRC)) \
	--transform='s$(comma)^$(notdir $(LAB_SRC))$(comma)lab$(comma)S' -cf $@.tmp $(notdir $(LAB_SRC)))
track_lab_tar = $(cmd_lab_tar) $(LAB_FILES)
$(LAB_TAR): $(RUNTIME) $(LAB_FILES) FORCE
	$(if $(wildcard $(LAB_SRC)/lab.conf),,$(error UMLKIT_LAB_DIR: no lab.conf in $(LAB_SRC)))
	$(call if_changed,lab_tar)

# Each image is compressed into its own payload segment, so a rebuild
# recompresses only the image that changed.
SEGMENT_DIR := $(BUILD_DIR)/bundle
# A KUnit bundle carries the kernel alone: KUnit needs no root filesystem.
BUNDLE_IMAGES := $(KERNEL_IMAGE) $(if $(UMLKIT_KUNIT),,$(ROOTFS_IMAGE) $(DATA_IMAGE))
BUNDLE_SEGMENTS := $(SEGMENT_DIR)/umlkit-run.seg \
	$(patsubst $(IMAGES_DIR)/%,$(SEGMENT_DIR)/%.seg,$(BUNDLE_IMAGES)) $(SEGMENT_DIR)/end.seg \
	$(if $(UMLKIT_NET_HELPERS),$(SEGMENT_DIR)/net.seg) $(if $(LAB_SRC),$(SEGMENT_DIR)/lab.seg) \
	$(patsubst $(IMAGES_DIR)/%,$(SEGMENT_DIR)/%.seg,$(LAB_IMAGE_FILES))

quiet_cmd_segment = bundle: $(if $(filter store,$(SEGMENT_COMPRESSION)),store,compress) $(notdir $<)
      cmd_segment = SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) sh $(TOPDIR)/boot/mksegment.sh \
	-c $(SEGMENT_COMPRESSION) $(SEGMENT_FLAGS) -o $@ $<
SEGMENT_COMPRESSION = $(BUNDLE_COMPRESSION)
# root images of a format that compresses itself (formats.def's bundle
# column: store) go into the bundle as they are: the first run copies them
ifeq ($(call format-bundle,$(ROOTFS_TYPE)),store)
$(patsubst $(IMAGES_DIR)/%,$(SEGMENT_DIR)/%.seg,$(ROOTFS_IMAGE) $(LAB_IMAGE_FILES)): SEGMENT_COMPRESSION := store
endif

# the runtime and the kernel are rebuilt rarely: compress them hard
$(SEGMENT_DIR)/umlkit-run.seg $(SEGMENT_DIR)/linux.seg $(SEGMENT_DIR)/net.seg: SEGMENT_FLAGS := -s

$(SEGMENT_DIR)/umlkit-run.seg: $(RUNTIME) $(TOPDIR)/boot/mksegment.sh FORCE
	$(call if_changed,segment)

$(SEGMENT_DIR)/%.seg: $(IMAGES_DIR)/% $(TOPDIR)/boot/mksegment.sh FORCE
	$(call if_changed,segment)

# the switch, the NAT helper, then its loader and libraries
quiet_cmd_net_segment = bundle: compress the network helpers
      cmd_net_segment = SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) sh $(TOPDIR)/boot/mksegment.sh \
	-c $(BUNDLE_COMPRESSION) $(SEGMENT_FLAGS) -o $@ $(NET_SWITCH) $(NET_NAT) $$(sed 's|^|$(NET_DIR)/|' $(NET_CLOSURE))
$(SEGMENT_DIR)/net.seg: $(NET_SWITCH) $(NET_NAT) $(NET_CLOSURE) $(TOPDIR)/boot/mksegment.sh FORCE
	$(call if_changed,net_segment)

$(SEGMENT_DIR)/lab.seg: $(LAB_TAR) $(TOPDIR)/boot/mksegment.sh FORCE
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
	-k $(KERNEL_IMAGE) $(if $(UMLKIT_KUNIT),-M kunit,-r $(ROOTFS_IMAGE) -R $(ROOTFS_MOUNT) $(addprefix -d ,$(DATA_IMAGE))) \
	-c $(BUNDLE_COMPRESSION) -m '$(BOOT_MEM)' -a '$(call escsq,$(BOOT_CMDLINE))' \
	-x '$(call escsq,$(BOOT_DEFAULT_COMMAND))' -n '$(call escsq,$(CONFIG_NAME))' \
	$(if $(UMLKIT_NET_HELPERS),-S net -C net=$(NET_MODE) -C 'net_forward=$(NET_FORWARDS)' \
	-C 'net_switch=$(NET_SWITCHES)' -C "net_loader=$$(head -n 1 $(NET_CLOSURE))") \
	$(if $(LAB_SRC),-S lab -C "lab=$$(cat $(LAB_NAME_FILE))") \
	$(foreach i,$(LAB_IMAGES),-S $(call lab-image-file,$(i))) \
	$(if $(LAB_IMAGES),-C 'lab_images=$(foreach i,$(LAB_IMAGES),$(i)=$(call lab-image-file,$(i)))') \
	$(if $(LAB_DEFAULT_IMAGE),-C 'lab_default_image=$(LAB_DEFAULT_IMAGE)') \
	$(if $(SIGN_KEY_FILE),-K '$(SIGN_KEY_FILE)')
$(BUNDLE): $(BUNDLE_SEGMENTS) $(TOPDIR)/boot/boot.sh.in $(TOPDIR)/boot/mkbundle.sh $(TOPDIR)/boot/sign.sh FORCE
	$(call if_changed,bundle)

# Sign the built bundle again, without rebuilding it (line 4 only).
.PHONY: sign
sign:
	$(if $(SIGN_KEY),,@echo "make: sign: no key: set SIGN_KEY (make menuconfig, menu Boot) or give SIGN_KEY=FILE" >&2; exit 1)
	$(if $(wildcard $(BUNDLE)),,@echo "make: sign: $(BUNDLE) is not built yet: run make" >&2; exit 1)
	$(Q)sh $(TOPDIR)/boot/sign.sh $(BUNDLE) $(SIGN_KEY)

.PHONY: boot
boot: $(BUNDLE)
	$(BUNDLE) $(BOOT_ARGS)

# kunit.py run's counterpart: build what changed, run the tests.
.PHONY: kunit-run
kunit-run: $(BUNDLE)
	$(if $(UMLKIT_KUNIT),,@echo "make: kunit-run: this configuration is not a KUnit kernel: make kunit_defconfig (docs/kunit.md)" >&2; exit 1)
	$(Q)$(BUNDLE) $(KUNIT_ARGS)
