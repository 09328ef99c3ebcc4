/* A read-only root image (squashfs, EROFS: formats.def's "overlay" roots)
 * gets a writable layer, as a live CD does: the kernel mounts the image
 * read-only, and this puts an overlay of it, its upper layer on tmpfs,
 * in the root's place. Writes cost guest memory (half of it at most,
 * tmpfs's default) and are gone at poweroff; the image, shared by every
 * run from the same cache entry, is never written. The bundle asks for
 * it with umlkit.overlay on the kernel command line (boot/mkbundle.sh).
 *
 * The layers live on a tmpfs mounted on the image's own /run, which the
 * overlay then hides: the new root's /run is a fresh tmpfs (init.c). A
 * root that cannot take the overlay stays read-only, with a warning. */
#define _GNU_SOURCE
#include "init-overlay.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define LAYERS "/run"
#define UPPER LAYERS "/upper"
#define WORK LAYERS "/work"
#define MERGED LAYERS "/root"

static int fail(const char *what)
{
	dprintf(2, "umlkit-init: overlay root: %s: %s (the root stays read-only)\n", what,
		strerror(errno));
	return -1;
}

/* Make the layers and mount the overlay on MERGED. */
static int mount_layers(void)
{
	if (mount("tmpfs", LAYERS, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
		return fail("mount tmpfs on " LAYERS);
	if (mkdir(UPPER, 0755) < 0 || mkdir(WORK, 0700) < 0 || mkdir(MERGED, 0755) < 0) {
		fail("mkdir");
		umount(LAYERS);
		return -1;
	}
	if (mount("overlay", MERGED, "overlay", 0,
		  "lowerdir=/,upperdir=" UPPER ",workdir=" WORK) < 0) {
		fail("mount overlay (CONFIG_OVERLAY_FS)");
		umount(LAYERS);
		return -1;
	}
	return 0;
}

void overlay_root(void)
{
	if (mount_layers() < 0)
		return;
	/* switch_root's move: the overlay becomes / and this process's root */
	if (chdir(MERGED) < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0) {
		fail("move the overlay onto /");
		if (chdir("/") == 0 && umount(MERGED) == 0)
			umount(LAYERS);
		return;
	}
	if (chroot(".") < 0 || chdir("/") < 0) {
		/* the overlay is already /: nothing else can be undone */
		dprintf(2, "umlkit-init: overlay root: chroot: %s\n", strerror(errno));
		exit(1);
	}
}
