/* Writing the image tree as a tar stream (GNU format with pax records for
 * extended attributes), the input of tar2sqfs. Each entry's time is its
 * own clamped to epoch. Tar cannot hold sockets: callers refuse them. */
#ifndef MKIMAGE_TARW_H
#define MKIMAGE_TARW_H

#include <stddef.h>

#include "tree.h"

int tar_write(struct entry *const *entries, size_t count, long long epoch, int fd);

#endif
