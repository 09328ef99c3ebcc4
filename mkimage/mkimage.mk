# mkimage, the image tool (host C program), and its sanitizer build for tests.

MKIMAGE_SRCS := $(wildcard $(TOPDIR)/mkimage/*.c)
MKIMAGE_SRCS := $(filter-out %/fuzz.c,$(MKIMAGE_SRCS))
HOST_CC ?= gcc
HOST_CFLAGS ?= -O2
MKIMAGE_CFLAGS := -std=gnu11 -Wall -Wextra -Werror $(HOST_CFLAGS)
# e2fsprogs' libext2fs writes the ext images (Debian: libext2fs-dev)
MKIMAGE_LIBS := -lext2fs -lcom_err

MKIMAGE := $(BUILD_DIR)/host/mkimage
MKIMAGE_ASAN := $(BUILD_DIR)/host-asan/mkimage

# $(call mkimage-objs,DIR)
mkimage-objs = $(patsubst $(TOPDIR)/mkimage/%.c,$(1)/%.o,$(MKIMAGE_SRCS))

$(BUILD_DIR)/host/%.o: $(TOPDIR)/mkimage/%.c
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(MKIMAGE_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD_DIR)/host-asan/%.o: $(TOPDIR)/mkimage/%.c
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(MKIMAGE_CFLAGS) -g -fsanitize=address,undefined -fno-omit-frame-pointer \
		-MMD -MP -c $< -o $@

$(MKIMAGE): $(call mkimage-objs,$(BUILD_DIR)/host)
	$(call MESSAGE,mkimage: build)
	$(Q)$(HOST_CC) $(MKIMAGE_CFLAGS) -o $@.tmp $^ $(MKIMAGE_LIBS) && mv $@.tmp $@

$(MKIMAGE_ASAN): $(call mkimage-objs,$(BUILD_DIR)/host-asan)
	$(call MESSAGE,mkimage: build with ASan/UBSan)
	$(Q)$(HOST_CC) $(MKIMAGE_CFLAGS) -fsanitize=address,undefined -o $@.tmp $^ $(MKIMAGE_LIBS) \
		&& mv $@.tmp $@

-include $(wildcard $(BUILD_DIR)/host/*.d $(BUILD_DIR)/host-asan/*.d)

.PHONY: mkimage
mkimage: $(MKIMAGE)

# Fuzzing the recipe parser with libFuzzer (clang).
FUZZ_SECONDS ?= 60
MKIMAGE_FUZZER := $(BUILD_DIR)/host-fuzz/fuzz-recipe
$(MKIMAGE_FUZZER): $(TOPDIR)/mkimage/fuzz.c $(TOPDIR)/mkimage/recipe.c $(TOPDIR)/mkimage/tree.c \
		$(TOPDIR)/mkimage/util.c
	$(call MESSAGE,mkimage: build fuzzer)
	$(Q)mkdir -p $(@D)
	$(Q)clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -o $@ $^

.PHONY: fuzz
fuzz: $(MKIMAGE_FUZZER) $(RUNTIME_FUZZER)
	$(call MESSAGE,mkimage: fuzz the recipe parser for $(FUZZ_SECONDS)s)
	$(Q)mkdir -p $(BUILD_DIR)/fuzz-corpus
	$(Q)cp $(TOPDIR)/rootfs-recipes/*.recipe $(BUILD_DIR)/fuzz-corpus/
	$(Q)$(MKIMAGE_FUZZER) -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		$(BUILD_DIR)/fuzz-corpus
	$(call MESSAGE,runtime: fuzz its parsers for $(FUZZ_SECONDS)s)
	$(Q)mkdir -p $(BUILD_DIR)/fuzz-corpus-runtime
	$(Q)printf 'name=x\nmode=command\ncmdline=root=/dev/ubda "a b" c\nmem=64M\n' \
		>$(BUILD_DIR)/fuzz-corpus-runtime/seed
	$(Q)$(RUNTIME_FUZZER) -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		$(BUILD_DIR)/fuzz-corpus-runtime

.PHONY: mkimage-asan
mkimage-asan: $(MKIMAGE_ASAN)
