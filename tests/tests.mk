# make check: build the default configuration once (kernel included) in
# $(CHECK_O), then run the shunit2 suites against it. Other configurations
# in the tests reuse that kernel as a prebuilt one.

CHECK_O := $(O)/check
TESTS ?= kconfig mkimage mkimage:MKIMAGE=$(CHECK_O)/build/host-asan/mkimage build boot runtime sandbox formats repro

.PHONY: check
check:
	$(call MESSAGE,check: build the default configuration in $(CHECK_O))
	$(Q)$(MAKE) --no-print-directory O=$(CHECK_O) defconfig >/dev/null
	$(Q)$(MAKE) --no-print-directory O=$(CHECK_O) all mkimage-asan
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
