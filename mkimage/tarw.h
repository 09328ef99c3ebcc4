/* Writing the image tree as a tar stream (GNU format), the input of
 * genext2fs -a. Sockets, which tar cannot hold, are written as empty files;
 * the ext backend retypes them afterwards. */
#ifndef MKIMAGE_TARW_H
#define MKIMAGE_TARW_H

#include <stddef.h>

#include "tree.h"

int tar_write(struct entry *const *entries, size_t count, long long mtime, int fd);

#endif
