# Debian packages named by 'debian' recipe lines (docs/debian.md): mkimage
# says what an image's recipes ask for, debian.sh pins it in the lock,
# fetches it into the shared cache and configures it in UML into one tar
# archive, the tree mkimage unpacks where the first 'debian' line stands.
# The root image and each lab image have their own; without 'debian' lines
# the tree is an empty file and nothing runs.

DEBIAN_SH := $(TOPDIR)/rootfs-recipes/debian.sh
DEBIAN_CONFIGURE := $(TOPDIR)/rootfs-recipes/debian-configure.sh
DEBIAN_MIRROR_ARG := $(if $(call qstrip,$(UMLKIT_DEBIAN_MIRROR)),-M $(call qstrip,$(UMLKIT_DEBIAN_MIRROR)))
# NAME.lock beside the first recipe NAME.recipe
debian-lock-of = $(basename $(firstword $(1))).lock
# the tree of image ID (rootfs, lab-NAME)
debian-tree = $(BUILD_DIR)/debian/$(1)/tree.tar

# The lock is written beside the recipe by the first build; a later one
# resolves again only when the 'debian' lines change.
cmd_debian_tree = if [ -s $(DEBIAN_REQ) ]; then \
	sh $(DEBIAN_SH) lock $(DEBIAN_ARGS) -q $(DEBIAN_REQ) && \
	sh $(DEBIAN_SH) fetch $(DEBIAN_ARGS) && \
	sh $(DEBIAN_SH) tree $(DEBIAN_ARGS) -o $@ -k $(KERNEL_IMAGE) -r $(RUNTIME) \
		-m $(MKIMAGE) -i $(GUEST_INIT) && touch $@; \
	else rm -f $@ && : >$@; fi

# $(call debian-image,ID,RECIPES,LOCK): what the recipes ask for, as
# mkimage reads them (includes followed), rewritten only when it changes;
# and the tree made from it.
define debian-image
$(BUILD_DIR)/debian/$(1)/request: $(MKIMAGE) $(2) FORCE
	$(Q)mkdir -p $$(@D)
	$(Q)$(MKIMAGE) --debian-request $(2) >$$@.tmp
	$(Q)if cmp -s $$@.tmp $$@; then rm -f $$@.tmp; else mv -f $$@.tmp $$@; fi
$(call debian-tree,$(1)): DEBIAN_REQ := $(BUILD_DIR)/debian/$(1)/request
$(call debian-tree,$(1)): DEBIAN_ARGS := -l $(3) $(DEBIAN_MIRROR_ARG)
$(call debian-tree,$(1)): $(BUILD_DIR)/debian/$(1)/request $(DEBIAN_SH) $(DEBIAN_CONFIGURE) \
		$(wildcard $(3)) | $(KERNEL_IMAGE) $(RUNTIME) $(GUEST_INIT)
	@echo '>>> debian: $(1): the configured package tree'
	$(Q)$$(cmd_debian_tree)
DEBIAN_IMAGES += $(1)
debian-lock.$(1) := $(3)
endef

DEBIAN_IMAGES :=
ifeq ($(UMLKIT_KUNIT),)
DEBIAN_LOCK := $(or $(call qstrip,$(UMLKIT_DEBIAN_LOCK)),$(call debian-lock-of,$(ROOTFS_RECIPES)))
$(eval $(call debian-image,rootfs,$(ROOTFS_RECIPES),$(DEBIAN_LOCK)))
$(ROOTFS_IMAGE): $(call debian-tree,rootfs)
endif
$(foreach i,$(LAB_IMAGES),$(eval $(call debian-image,lab-$(call lab-image-id,$(i)),$(call lab-image-recipe,$(i)),$(call debian-lock-of,$(call lab-image-recipe,$(i))))))
$(foreach i,$(LAB_IMAGES),$(eval $(IMAGES_DIR)/$(call lab-image-file,$(i)): $(call debian-tree,lab-$(call lab-image-id,$(i)))))

# for each image with 'debian' lines: $(call debian-each,COMMANDS using $$id $$req $$lock)
debian-each = $(foreach id,$(DEBIAN_IMAGES),\
	req=$(BUILD_DIR)/debian/$(id)/request lock=$(debian-lock.$(id)); \
	if [ -s "$$req" ]; then $(1) || exit; fi;)

# Resolve anew and rewrite the locks (the newest versions the mirror has).
.PHONY: debian-update
debian-update: $(foreach id,$(DEBIAN_IMAGES),$(BUILD_DIR)/debian/$(id)/request)
	$(Q)$(call debian-each,sh $(DEBIAN_SH) resolve -l "$$lock" $(DEBIAN_MIRROR_ARG) -q "$$req")

# Everything the configuration downloads, into the cache: later builds
# need no network (as Buildroot's 'make source').
.PHONY: debian-fetch source
debian-fetch: $(foreach id,$(DEBIAN_IMAGES),$(BUILD_DIR)/debian/$(id)/request)
	$(Q)$(call debian-each,sh $(DEBIAN_SH) lock -l "$$lock" $(DEBIAN_MIRROR_ARG) -q "$$req" && \
		sh $(DEBIAN_SH) fetch -l "$$lock" $(DEBIAN_MIRROR_ARG))
source: debian-fetch
