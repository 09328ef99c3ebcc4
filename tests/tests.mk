# make check: build the default configuration once (kernel included) in
# $(CHECK_O), then run the shunit2 suites against it. Other configurations
# in the tests reuse that kernel as a prebuilt one.

CHECK_O := $(O)/check
# The one-minute tier, no guest booted (make check-quick), then the rest.
QUICK_TESTS ?= $(addprefix unit/,$(UNIT_TESTS)) kunitlogs mkimage:MKIMAGE=$(CHECK_O)/build/host-asan/mkimage
TESTS ?= $(QUICK_TESTS) kconfig mkimage build accel boot runtime sandbox adversary net lab reports kunit sign \
	formats repro debian debpkg

# C unit tests of the pure parsers (tests/unit/test_NAME.c), under ASan and
# UBSan, each linked with the sources it tests: the same lists the
# programs are built from.
UNIT_DIR := $(BUILD_DIR)/unit
UNIT_TESTS := $(patsubst $(TOPDIR)/tests/unit/test_%.c,%,$(wildcard $(TOPDIR)/tests/unit/test_*.c))
UNIT_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -Wformat=2 -g -O1 -fsanitize=address,undefined \
	-fno-sanitize-recover=all
# each is linked with its program's sources, less their main (the same
# lists the programs are built from)
unit-srcs-runtime := $(filter-out %/main.c,$(RUNTIME_SRCS))
unit-srcs-mkimage := $(filter-out %/main.c,$(MKIMAGE_SRCS)) $(HOSTLIB_SRCS)
unit-srcs.ktap := $(unit-srcs-runtime)
unit-srcs.labconf := $(unit-srcs-runtime)
unit-srcs.options := $(unit-srcs-runtime)
unit-srcs.agentlink := $(unit-srcs-runtime)
unit-srcs.labparts := $(unit-srcs-runtime)
unit-srcs.recipe := $(unit-srcs-mkimage)
unit-libs.recipe := $(MKIMAGE_LIBS)
unit-srcs.deb := $(unit-srcs-mkimage)
unit-libs.deb := $(MKIMAGE_LIBS)
UNIT_HEADERS := $(TOPDIR)/tests/unit/unit.h $(wildcard $(TOPDIR)/boot/run/*.h $(TOPDIR)/mkimage/*.h) $(HOSTLIB_HDRS) \
	$(TOPDIR)/boot/agent-proto.h $(TOPDIR)/mkimage/formats.def

quiet_cmd_unit = unit: build $(notdir $@)
      cmd_unit = $(call write-then-rename,$(HOST_CC) $(UNIT_CFLAGS) -o $@.tmp $(filter %.c,$^) $(UNIT_LIBS))
define unit-rule
$(UNIT_DIR)/test_$(1): UNIT_LIBS := $(unit-libs.$(1))
$(UNIT_DIR)/test_$(1): $(TOPDIR)/tests/unit/test_$(1).c $(unit-srcs.$(1)) $(UNIT_HEADERS) FORCE
	$$(call if_changed,unit)
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit-rule,$(t))))

.PHONY: unit-tests
unit-tests: $(addprefix $(UNIT_DIR)/test_,$(UNIT_TESTS))

# A real Debian tree for the debian suite and the benchmarks, made once by
# mmdebstrap (from Debian's archive) and kept in the user's cache.
DEBIAN_TREE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/umlkit/debian-bookworm-minbase.tar
export DEBIAN_TREE
# Debian packages the mkimage suite reads (apt-get download, once)
DEB_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/umlkit/debs
export DEB_CACHE
# the 'debian' lines' cache (rootfs-recipes/debian.sh), kept between runs
UMLKIT_DEBIAN_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/umlkit/debian
export UMLKIT_DEBIAN_CACHE

.PHONY: debian-tree
debian-tree:
	$(Q)sh $(TOPDIR)/support/debian-tree.sh $(DEBIAN_TREE)

# The suites point XDG_CACHE_HOME at scratch space (boot.sh's cache); the
# kernel cache stays the developer's, so the tests reuse its kernels.
.PHONY: check
check: export KERNEL_CACHE_DIR := $(if $(filter undefined,$(origin KERNEL_CACHE_DIR)),$(KERNEL_CACHE_DEFAULT),$(KERNEL_CACHE_DIR))
check:
	$(call MESSAGE,check: build the default configuration in $(CHECK_O))
	$(Q)$(MAKE) --no-print-directory O=$(CHECK_O) defconfig >/dev/null
	$(Q)$(MAKE) --no-print-directory O=$(CHECK_O) all check-quick-build
	$(Q)$(if $(filter debian,$(TESTS)),sh $(TOPDIR)/support/debian-tree.sh $(DEBIAN_TREE) || :)
	$(Q)TOPDIR=$(TOPDIR) CHECK_O=$(CHECK_O) sh $(TOPDIR)/tests/run.sh $(TESTS)

# make check-quick: what a developer runs after every edit (90 s or less
# on a built tree): the parsers' unit tests, kunit.py's logs through
# --parse, and mkimage's suite under ASan/UBSan. make check runs it first.
.PHONY: check-quick
check-quick: export KERNEL_CACHE_DIR := $(if $(filter undefined,$(origin KERNEL_CACHE_DIR)),$(KERNEL_CACHE_DEFAULT),$(KERNEL_CACHE_DIR))
check-quick:
	$(call MESSAGE,check-quick: build the default configuration in $(CHECK_O))
	$(Q)$(MAKE) --no-print-directory O=$(CHECK_O) defconfig >/dev/null
	$(Q)$(MAKE) --no-print-directory O=$(CHECK_O) check-quick-build
	$(Q)TOPDIR=$(TOPDIR) CHECK_O=$(CHECK_O) sh $(TOPDIR)/tests/run.sh $(QUICK_TESTS)

# what the quick tier needs, and no kernel build: the runtime, mkimage, the
# unit tests, the kernel tree (kunit.py and its logs) where there is one
.PHONY: check-quick-build
check-quick-build: $(RUNTIME) $(MKIMAGE_ASAN) unit-tests $(if $(filter y,$(UMLKIT_KERNEL_PREBUILT)),,$(KERNEL_PATCHED))

.PHONY: mkimage-check
mkimage-check:
	$(Q)$(MAKE) --no-print-directory O=$(CHECK_O) defconfig >/dev/null
	$(Q)$(MAKE) --no-print-directory O=$(CHECK_O) mkimage mkimage-asan
	$(Q)TOPDIR=$(TOPDIR) CHECK_O=$(CHECK_O) sh $(TOPDIR)/tests/run.sh \
		mkimage mkimage:MKIMAGE=$(CHECK_O)/build/host-asan/mkimage

# Soak: parallel boots for a while, counting hangs, crashes and leftovers.
.PHONY: soak
soak: all
	$(Q)BUNDLE=$(BUNDLE) PARALLEL=$(or $(SOAK_PARALLEL),4) SOAK_SECONDS=$(or $(SOAK_SECONDS),600) \
		sh $(TOPDIR)/support/soak.sh

# Published Kathara labs (LABS: your copy of the Kathara-Labs repository),
# each built and started unchanged: how many start (docs/lab.md).
.PHONY: kathara-labs
kathara-labs:
	$(if $(LABS),,@echo "make: kathara-labs: give LABS=DIR, a copy of the Kathara-Labs repository" >&2; exit 2)
	$(Q)sh $(TOPDIR)/support/kathara-labs.sh $(LABS) $(O)/kathara-labs

# Benchmarks (medians and ratios), against the build in $(O).
.PHONY: bench
bench: all
	$(Q)TOPDIR=$(TOPDIR) O=$(O) sh $(TOPDIR)/support/bench.sh $(BENCH)
