# Shared helpers for the component makefiles.

# Strip the quotes Kconfig puts around string values.
qstrip = $(strip $(subst ",,$(1)))
# (the quote above is for editors: ")

# Short progress line, as Buildroot prints them.
MESSAGE = @printf '>>> %s\n' '$(1)'

# $(call write-if-changed,FILE,CONTENT): write CONTENT to FILE only when it
# differs, so FILE's mtime tracks the content. Used as a prerequisite, FILE
# makes a target depend on configuration values rather than on all of .config.
# Runs inside make, without forking a shell.
# $(file >) adds a newline unless CONTENT ends with one, and $(file <)
# drops one: CONTENT matches the file read back with or without it.
write-if-changed = $(if $(call file-holds,$(1),$(2)),,$(shell mkdir -p $(dir $(1)))$(file >$(1),$(2)))
file-holds = $(if $(wildcard $(1)),$(or $(call str-eq,$(file <$(1)),$(2)),$(call str-eq,$(file <$(1))$(newline),$(2))))
str-eq = $(if $(subst x$(1),,x$(2))$(subst x$(2),,x$(1)),,y)

define newline


endef
