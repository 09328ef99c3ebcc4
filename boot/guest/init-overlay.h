#ifndef UMLKIT_INIT_OVERLAY_H
#define UMLKIT_INIT_OVERLAY_H
/* With umlkit.overlay on the kernel command line: a tmpfs overlay moved
 * onto the read-only root, before anything else mounts or writes. */
void overlay_root(void);
#endif
