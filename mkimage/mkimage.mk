# mkimage, the image tool (host C program), and its sanitizer build for tests.

# The image formats: mkimage/formats.def, one row each, which mkimage reads
# too; make reads it through the C preprocessor (formats.mk.in), not a
# parser of its own. Made at parse time, like the configuration.
FORMATS_MK := $(BUILD_DIR)/formats.mk
ifneq ($(wildcard $(CONFIG_FILE)),)
$(shell mkdir -p '$(BUILD_DIR)' && { [ '$(FORMATS_MK)' -nt '$(TOPDIR)/mkimage/formats.def' ] && \
	[ '$(FORMATS_MK)' -nt '$(TOPDIR)/mkimage/formats.mk.in' ] || \
	{ cpp -P -x c '$(TOPDIR)/mkimage/formats.mk.in' >'$(FORMATS_MK).tmp' && mv '$(FORMATS_MK).tmp' '$(FORMATS_MK)'; }; })
include $(FORMATS_MK)
endif
format-suffix = $(format-suffix.$(1))
format-root = $(format-root.$(1))
format-bundle = $(format-bundle.$(1))
format-tools = $(format-tools.$(1))

MKIMAGE_SRCS := $(wildcard $(TOPDIR)/mkimage/*.c)
MKIMAGE_SRCS := $(filter-out %/fuzz.c,$(MKIMAGE_SRCS))
HOST_CC ?= gcc
HOST_CFLAGS ?= -O2
MKIMAGE_CFLAGS := -std=gnu11 -Wall -Wextra -Werror $(HOST_CFLAGS)
# e2fsprogs' libext2fs writes the ext images (Debian: libext2fs-dev)
MKIMAGE_LIBS := -lext2fs -lcom_err

MKIMAGE := $(BUILD_DIR)/host/mkimage
MKIMAGE_ASAN := $(BUILD_DIR)/host-asan/mkimage

MKIMAGE_ASAN_FLAGS := -g -fsanitize=address,undefined -fno-omit-frame-pointer

# $(call mkimage-objs,DIR): its own objects and the host library's
mkimage-objs = $(patsubst $(TOPDIR)/mkimage/%.c,$(1)/%.o,$(MKIMAGE_SRCS)) \
	$(patsubst $(TOPDIR)/support/lib/%.c,$(1)/lib-%.o,$(HOSTLIB_SRCS))

quiet_cmd_mkimage_cc = mkimage: compile $(notdir $<)
      cmd_mkimage_cc = $(HOST_CC) $(MKIMAGE_CFLAGS) $(MKIMAGE_EXTRA_CFLAGS) -MMD -MP -c $< -o $@
$(BUILD_DIR)/host/%.o: $(TOPDIR)/mkimage/%.c FORCE
	$(call if_changed,mkimage_cc)

$(BUILD_DIR)/host-asan/%.o: MKIMAGE_EXTRA_CFLAGS = $(MKIMAGE_ASAN_FLAGS)
$(BUILD_DIR)/host-asan/%.o: $(TOPDIR)/mkimage/%.c FORCE
	$(call if_changed,mkimage_cc)

$(BUILD_DIR)/host/lib-%.o: $(TOPDIR)/support/lib/%.c FORCE
	$(call if_changed,mkimage_cc)

$(BUILD_DIR)/host-asan/lib-%.o: MKIMAGE_EXTRA_CFLAGS = $(MKIMAGE_ASAN_FLAGS)
$(BUILD_DIR)/host-asan/lib-%.o: $(TOPDIR)/support/lib/%.c FORCE
	$(call if_changed,mkimage_cc)

quiet_cmd_mkimage_link = mkimage: build$(if $(MKIMAGE_EXTRA_CFLAGS), with ASan/UBSan)
      cmd_mkimage_link = $(call write-then-rename,$(HOST_CC) $(MKIMAGE_CFLAGS) $(MKIMAGE_EXTRA_CFLAGS) \
	-o $@.tmp $(filter %.o,$^) $(MKIMAGE_LIBS))
$(MKIMAGE): $(call mkimage-objs,$(BUILD_DIR)/host) FORCE
	$(call if_changed,mkimage_link)

$(MKIMAGE_ASAN): MKIMAGE_EXTRA_CFLAGS = $(MKIMAGE_ASAN_FLAGS)
$(MKIMAGE_ASAN): $(call mkimage-objs,$(BUILD_DIR)/host-asan) FORCE
	$(call if_changed,mkimage_link)

-include $(wildcard $(BUILD_DIR)/host/*.d $(BUILD_DIR)/host-asan/*.d)

.PHONY: mkimage
mkimage: $(MKIMAGE)

# Fuzzing the recipe parser with libFuzzer (clang).
FUZZ_SECONDS ?= 60
MKIMAGE_FUZZER := $(BUILD_DIR)/host-fuzz/fuzz-recipe
$(MKIMAGE_FUZZER): $(TOPDIR)/mkimage/fuzz.c $(filter-out %/main.c,$(MKIMAGE_SRCS)) $(HOSTLIB_SRCS)
	$(call MESSAGE,mkimage: build fuzzer)
	$(Q)mkdir -p $(@D)
	$(Q)clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -o $@ $(filter %.c,$^) $(MKIMAGE_LIBS)

.PHONY: fuzz-recipe
fuzz-recipe: $(MKIMAGE_FUZZER)
	$(call MESSAGE,mkimage: fuzz the recipe parser for $(FUZZ_SECONDS)s)
	$(Q)mkdir -p $(BUILD_DIR)/fuzz-corpus
	$(Q)cp $(TOPDIR)/rootfs-recipes/*.recipe $(BUILD_DIR)/fuzz-corpus/
	$(Q)mkdir -p $(BUILD_DIR)/fuzz-artifacts
	$(Q)$(MKIMAGE_FUZZER) -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		-artifact_prefix=$(BUILD_DIR)/fuzz-artifacts/ \
		$(BUILD_DIR)/fuzz-corpus

.PHONY: mkimage-asan
mkimage-asan: $(MKIMAGE_ASAN)
