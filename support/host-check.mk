# Host tools are checked at parse time when something is to be built, once
# every makefile has added its own (see host.mk): one shell, no work
# started before a missing tool is reported.
ifneq ($(filter-out $(NOCONFIG_TARGETS) check-host,$(or $(MAKECMDGOALS),all)),)
HOST_MISSING := $(host-tools-missing)
ifneq ($(HOST_MISSING),)
$(foreach p,$(HOST_MISSING),$(info make: host tool '$(firstword $(subst :, ,$(p)))' not found: install Debian package $(lastword $(subst :, ,$(p)))))
$(error missing host tools; 'make deps' installs them all)
endif
endif
