# Configuration targets, driven by kconfig-frontends as Buildroot drives
# its own copy of kconfig. Symbols are written with the UMLKIT_ prefix.

KCONFIG_ENV := KCONFIG_CONFIG=$(CONFIG_FILE) CONFIG_=UMLKIT_ \
	KCONFIG_AUTOCONFIG=$(BUILD_DIR)/kconfig/auto.conf \
	KCONFIG_AUTOHEADER=$(BUILD_DIR)/kconfig/autoconf.h \
	KCONFIG_TRISTATE=$(BUILD_DIR)/kconfig/tristate.config

# Where savedefconfig writes: DEFCONFIG=, else the defconfig last loaded.
DEFCONFIG_ORIGIN := $(O)/.defconfig
DEFCONFIG ?= $(or $(file <$(DEFCONFIG_ORIGIN)),$(TOPDIR)/configs/default_defconfig)

define kconfig-require
	$(Q)command -v $(1) >/dev/null || { \
		echo "make: $(1) not found: install Debian package kconfig-frontends (make deps)" >&2; exit 1; }
endef

# $(call load-defconfig,FILE)
define load-defconfig
	$(call kconfig-require,kconfig-conf)
	$(Q)test -f $(1) || { echo "make: $(1): no such defconfig (see 'make list-defconfigs')" >&2; exit 1; }
	$(Q)mkdir -p $(O)
	$(Q)$(KCONFIG_ENV) kconfig-conf --defconfig=$(1) $(TOPDIR)/Config.in >/dev/null
	$(Q)printf '%s\n' '$(abspath $(1))' >$(DEFCONFIG_ORIGIN)
	$(Q)echo "configuration written to $(CONFIG_FILE) (from $(1))"
endef

# 'make defconfig DEFCONFIG=FILE' loads FILE (a project keeps its umlkit
# configuration in its own tree, as Buildroot's BR2_DEFCONFIG=), then makes
# its relative paths that name files beside FILE absolute (its recipes,
# lab, fragments); without it, configs/default_defconfig.
.PHONY: defconfig
defconfig:
	$(call load-defconfig,$(if $(filter command line environment,$(origin DEFCONFIG)),$(abspath $(DEFCONFIG)),$(TOPDIR)/configs/default_defconfig))
	$(if $(filter command line environment,$(origin DEFCONFIG)),$(if $(filter-out $(TOPDIR)/configs,$(patsubst %/,%,$(dir $(abspath $(DEFCONFIG))))),\
		$(Q)sh $(TOPDIR)/support/defconfig-paths.sh $(CONFIG_FILE) $(patsubst %/,%,$(dir $(abspath $(DEFCONFIG)))) $(config-path-options)))

# the path options (support/config.mk's classes): relative to an outside
# defconfig's directory where the file is there
config-path-options = $(foreach c,$(CONFIG_STRING_CLASSES),$(if $(filter path paths,$(lastword $(subst =, ,$(c)))),$(firstword $(subst =, ,$(c)))))

%_defconfig: $(TOPDIR)/configs/%_defconfig
	$(call load-defconfig,$<)

.PHONY: list-defconfigs
list-defconfigs:
	@for f in $(TOPDIR)/configs/*_defconfig; do \
		n=$${f##*/}; printf '  %-24s %s\n' "$$n" "$$(sed -n '1s/^# *//p' "$$f")"; \
	done

.PHONY: menuconfig nconfig
# kconfig-frontends names them kconfig-mconf and kconfig-nconf
menuconfig: kconfig-frontend = kconfig-mconf
nconfig: kconfig-frontend = kconfig-nconf
menuconfig nconfig:
	$(call kconfig-require,$(kconfig-frontend))
	$(Q)mkdir -p $(O)
	$(Q)$(KCONFIG_ENV) $(kconfig-frontend) $(TOPDIR)/Config.in

.PHONY: oldconfig olddefconfig
oldconfig olddefconfig:
	$(call kconfig-require,kconfig-conf)
	$(Q)mkdir -p $(O)
	$(Q)$(KCONFIG_ENV) kconfig-conf --$@ $(TOPDIR)/Config.in

.PHONY: savedefconfig
savedefconfig:
	$(call kconfig-require,kconfig-conf)
	$(Q)test -f $(CONFIG_FILE) || { echo "make: $(CONFIG_FILE) not found: nothing to save" >&2; exit 1; }
	$(Q)$(KCONFIG_ENV) kconfig-conf --savedefconfig=$(DEFCONFIG).tmp $(TOPDIR)/Config.in >/dev/null
	$(Q){ sed -n '1{/^#/p}' $(DEFCONFIG) 2>/dev/null; cat $(DEFCONFIG).tmp; } >$(DEFCONFIG).new \
		&& rm -f $(DEFCONFIG).tmp && mv $(DEFCONFIG).new $(DEFCONFIG)
	$(Q)echo "defconfig written to $(DEFCONFIG)"
