# Debian packages named by 'debian' recipe lines (docs/debian.md): mkimage
# says what the root recipes ask for, debian.sh pins it in the lock,
# fetches it into the shared cache and configures it in UML into one tar
# archive, the tree mkimage unpacks where the first 'debian' line stands.
# Without 'debian' lines the tree is an empty file and nothing runs.

DEBIAN_SH := $(TOPDIR)/rootfs-recipes/debian.sh
DEBIAN_CONFIGURE := $(TOPDIR)/rootfs-recipes/debian-configure.sh
DEBIAN_REQUEST := $(BUILD_DIR)/debian/request
DEBIAN_TREE := $(BUILD_DIR)/debian/tree.tar
DEBIAN_LOCK := $(or $(call qstrip,$(UMLKIT_DEBIAN_LOCK)),$(basename $(firstword $(ROOTFS_RECIPES))).lock)
DEBIAN_ARGS := -l $(DEBIAN_LOCK) $(if $(call qstrip,$(UMLKIT_DEBIAN_MIRROR)),-M $(call qstrip,$(UMLKIT_DEBIAN_MIRROR)))

# What the recipes ask for, as mkimage reads them (includes followed);
# rewritten only when it changes, so the tree is not remade for nothing.
$(DEBIAN_REQUEST): $(MKIMAGE) $(ROOTFS_RECIPES) FORCE
	$(Q)mkdir -p $(dir $@)
	$(Q)$(MKIMAGE) --debian-request $(ROOTFS_RECIPES) >$@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; fi

# The lock is written beside the recipe by the first build; a later one
# resolves again only when the 'debian' lines change.
quiet_cmd_debian_tree = debian: the configured package tree
      cmd_debian_tree = if [ -s $(DEBIAN_REQUEST) ]; then \
	sh $(DEBIAN_SH) lock $(DEBIAN_ARGS) -q $(DEBIAN_REQUEST) && \
	sh $(DEBIAN_SH) fetch $(DEBIAN_ARGS) && \
	sh $(DEBIAN_SH) tree $(DEBIAN_ARGS) -o $@ -k $(KERNEL_IMAGE) -r $(RUNTIME) \
		-m $(MKIMAGE) -i $(GUEST_INIT) && touch $@; \
	else rm -f $@ && : >$@; fi
$(DEBIAN_TREE): $(DEBIAN_REQUEST) $(DEBIAN_SH) $(DEBIAN_CONFIGURE) $(wildcard $(DEBIAN_LOCK)) \
		| $(KERNEL_IMAGE) $(RUNTIME) $(GUEST_INIT)
	@echo '>>> $(quiet_cmd_debian_tree)'
	$(Q)$(cmd_debian_tree)

$(ROOTFS_IMAGE): $(DEBIAN_TREE)

# Resolve anew and rewrite the lock (the newest versions the mirror has).
.PHONY: debian-update
debian-update: $(DEBIAN_REQUEST)
	$(Q)if [ -s $(DEBIAN_REQUEST) ]; then sh $(DEBIAN_SH) resolve $(DEBIAN_ARGS) -q $(DEBIAN_REQUEST); \
	else echo '>>> debian: the root recipes have no debian lines'; fi

# Everything the configuration downloads, into the cache: later builds
# need no network (as Buildroot's 'make source').
.PHONY: debian-fetch source
debian-fetch: $(DEBIAN_REQUEST)
	$(Q)if [ -s $(DEBIAN_REQUEST) ]; then sh $(DEBIAN_SH) lock $(DEBIAN_ARGS) -q $(DEBIAN_REQUEST) && \
	sh $(DEBIAN_SH) fetch $(DEBIAN_ARGS); fi
source: debian-fetch
