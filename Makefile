# umlkit: build a User Mode Linux kernel, disk images and a boot bundle.
# Run 'make help' for targets and variables.

TOPDIR := $(CURDIR)

# Output directory; every generated file, .config included, lives in it.
O ?= $(TOPDIR)/output
override O := $(abspath $(O))

# V=1: the commands; V=2: the progress lines, and why each target is rebuilt
ifeq ($(V),1)
Q :=
else
Q := @
endif

# a rule that fails leaves no half-written target for the next make to trust
.DELETE_ON_ERROR:

CONFIG_FILE := $(O)/.config
BUILD_DIR := $(O)/build
IMAGES_DIR := $(O)/images
NPROC := $(shell nproc 2>/dev/null || echo 1)

# Targets that work without a .config.
NOCONFIG_TARGETS := help deps defconfig %_defconfig list-defconfigs \
	menuconfig nconfig oldconfig olddefconfig savedefconfig \
	clean distclean check-host check check-quick mkimage-check fuzz fuzz-recipe fuzz-runtime net-helpers debian-tree kathara-labs

all:

include support/utils.mk
include support/kconfig.mk

ifneq ($(filter-out $(NOCONFIG_TARGETS),$(or $(MAKECMDGOALS),all)),)
ifeq ($(wildcard $(CONFIG_FILE)),)
$(error $(CONFIG_FILE) not found: run 'make defconfig' (or 'make NAME_defconfig', see 'make list-defconfigs') first)
endif
endif
include support/config.mk

include support/accel.mk
include support/host.mk
include kernel/kernel.mk
include mkimage/mkimage.mk
include rootfs-recipes/rootfs.mk
include boot/boot.mk
include rootfs-recipes/debian.mk
include tests/tests.mk
include support/host-check.mk

# The command lines of the last builds (if_changed, support/utils.mk).
-include $(wildcard $(IMAGES_DIR)/.*.cmd $(BUILD_DIR)/.*.cmd $(BUILD_DIR)/*/.*.cmd)

.PHONY: all
all: $(BUNDLE)

.PHONY: deps
deps:
	$(Q)sh $(TOPDIR)/support/deps.sh

.PHONY: clean
clean:
	$(call MESSAGE,clean)
	$(Q)rm -rf $(IMAGES_DIR) $(BUILD_DIR)

.PHONY: distclean
distclean:
	$(call MESSAGE,distclean)
	$(Q)rm -rf $(O)

.PHONY: help
help:
	@echo 'umlkit: User Mode Linux kernel, images and boot bundle'
	@echo
	@echo 'Configuration:'
	@echo '  defconfig              load configs/default_defconfig'
	@echo '  NAME_defconfig         load configs/NAME_defconfig'
	@echo '  list-defconfigs        list the shipped defconfigs'
	@echo '  menuconfig, nconfig    edit the configuration'
	@echo '  oldconfig              update .config, asking for new options'
	@echo '  olddefconfig           update .config, new options at their defaults'
	@echo '  savedefconfig          write a minimal defconfig back to where it came from'
	@echo '                         (or to DEFCONFIG=path)'
	@echo
	@echo 'Build:'
	@echo '  all (default)          kernel, images and $(notdir $(BUNDLE))'
	@echo '  kernel                 only $(IMAGES_DIR)/linux'
	@echo '  kernel-menuconfig      edit the kernel configuration'
	@echo '  kernel-savedefconfig   write the kernel configuration back to the tree'
	@echo '  kernel-rebuild         rebuild the kernel (after editing its sources)'
	@echo '  rootfs, data-disk      only the root / data image'
	@echo '  debian-update          resolve the recipes'"'"' debian lines anew, rewrite the lock'
	@echo '  debian-fetch, source   download what the debian lines need: later builds are offline'
	@echo '  mkimage                build the image tool'
	@echo '  boot                   boot the built bundle (BOOT_ARGS=...)'
	@echo '  kunit-run              a KUnit configuration: build, then run its tests (KUNIT_ARGS=...)'
	@echo '  sign                   sign the built bundle again (SIGN_KEY=FILE for another key)'
	@echo '  clean                  remove build output, keep .config'
	@echo '  distclean              remove the whole output directory'
	@echo
	@echo 'Host:'
	@echo '  deps                   install the Debian packages umlkit needs (root)'
	@echo '  check-host             check that every host tool is present'
	@echo
	@echo 'Tests and tools:'
	@echo '  check-quick            the one-minute tier: unit tests, kunit.py logs, mkimage'
	@echo '                         (no guest booted; run it after every edit)'
	@echo '  check                  check-quick, then every suite (TESTS="suite ..." for some)'
	@echo '  mkimage-check          mkimage tests only, also under ASan/UBSan'
	@echo '  fuzz                   fuzz the recipe and runtime parsers (FUZZ_SECONDS=60 each)'
	@echo '  bench                  benchmarks: medians and ratios (BENCH="mkimage boot guest net lab labparts build static netkernel cibundle peers";'
	@echo '                         BENCH=kunit: against kunit.py, BENCH_KUNITCONFIG=all_tests.config;'
	@echo '                         BENCH=pytest: Debian test suites, guest against host, BENCH_PYTEST_SUITES;'
	@echo '                         BENCH=peers: against QEMU TCG, when qemu-system-x86 is installed;'
	@echo '                         BENCH_BASELINE_KERNEL=PATH: BENCH=boot also against that kernel booted directly;'
	@echo '                         BENCH=labparts: a BENCH_CHAIN-machine chain (60) on one host, then in 3 parts)'
	@echo '  debian-tree            make the Debian tree the debian suite and bench use (mmdebstrap, once)'
	@echo '  kathara-labs           start every published Kathara lab in LABS=DIR, unchanged: N of M start'
	@echo '  soak                   parallel boots for a while: hangs, crashes, leftovers'
	@echo '                         (SOAK_PARALLEL=4 SOAK_SECONDS=600)'
	@echo
	@echo 'Variables:'
	@echo '  O=DIR                  output directory (default: output)'
	@echo '  V=1                    show full commands'
	@echo '  V=2                    say why each target is rebuilt'
	@echo '  DEFCONFIG=FILE         file for savedefconfig'
	@echo '  BOOT_ARGS=...          arguments for make boot, e.g. BOOT_ARGS="-- uname -a"'
	@echo '  KUNIT_ARGS=...         arguments for make kunit-run, e.g. KUNIT_ARGS="--filter example*"'
	@echo '  FUZZ_SECONDS=N         length of make fuzz (default 60)'
