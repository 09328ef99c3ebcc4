# make check: build the default configuration once (kernel included) in
# $(CHECK_O), then run the shunit2 suites against it. Other configurations
# in the tests reuse that kernel as a prebuilt one.

CHECK_O := $(O)/check
TESTS ?= kconfig mkimage mkimage:MKIMAGE=$(CHECK_O)/build/host-asan/mkimage build accel boot runtime sandbox adversary net lab reports kunit sign formats repro debian

# A real Debian tree for the debian suite and the benchmarks, made once by
# mmdebstrap (from Debian's archive) and kept in the user's cache.
DEBIAN_TREE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/umlkit/debian-bookworm-minbase.tar
export DEBIAN_TREE

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
	$(Q)$(MAKE) --no-print-directory O=$(CHECK_O) all mkimage-asan
	$(Q)$(if $(filter debian,$(TESTS)),sh $(TOPDIR)/support/debian-tree.sh $(DEBIAN_TREE) || :)
	$(Q)TOPDIR=$(TOPDIR) CHECK_O=$(CHECK_O) sh $(TOPDIR)/tests/run.sh $(TESTS)

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

# Benchmarks (medians and ratios), against the build in $(O).
.PHONY: bench
bench: all
	$(Q)TOPDIR=$(TOPDIR) O=$(O) sh $(TOPDIR)/support/bench.sh $(BENCH)
