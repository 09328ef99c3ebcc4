# Build acceleration: ccache (kernel and host tools, with optional remote
# storage shared by a CI fleet) and distcc (kernel compiles spread over a
# build farm), as Buildroot's BR2_CCACHE. Neither changes a byte of the
# output; kernel/kernel.mk's cache key ignores them.

BUILD_CC := gcc
KERNEL_JOBS := $(NPROC)

ifeq ($(UMLKIT_CCACHE),y)
export CCACHE_DIR := $(or $(call qstrip,$(UMLKIT_CCACHE_DIR)),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/umlkit/ccache)
# No CCACHE_BASEDIR: it makes ccache hand the compiler relative paths, and
# __FILE__ strings then escape -ffile-prefix-map (other bytes). Hits need
# the same build directory path (CI runners usually have one).
ifneq ($(call qstrip,$(UMLKIT_CCACHE_REMOTE_STORAGE)),)
export CCACHE_REMOTE_STORAGE := $(call qstrip,$(UMLKIT_CCACHE_REMOTE_STORAGE))
endif
BUILD_CC := ccache gcc
HOST_TOOLS += ccache:ccache
endif

ifeq ($(UMLKIT_DISTCC),y)
export DISTCC_HOSTS := $(call qstrip,$(UMLKIT_DISTCC_HOSTS))
ifeq ($(UMLKIT_CCACHE),y)
# ccache compiles its misses through distcc
export CCACHE_PREFIX := distcc
else
BUILD_CC := distcc gcc
endif
KERNEL_JOBS := $(if $(filter-out 0,$(UMLKIT_DISTCC_JOBS)),$(UMLKIT_DISTCC_JOBS),$(shell distcc -j 2>/dev/null || echo $(NPROC)))
HOST_TOOLS += distcc:distcc
endif

# what the kernel's make is told to compile with
KERNEL_CC_FLAGS := $(if $(filter-out gcc,$(BUILD_CC)),CC="$(BUILD_CC)" HOSTCC="$(BUILD_CC)")

# host tools (mkimage, the init, the runtime): ccache, not distcc
HOST_CC ?= $(if $(filter y,$(UMLKIT_CCACHE)),ccache gcc,gcc)
