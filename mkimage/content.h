/* Copying a regular file's bytes into an output. */
#ifndef MKIMAGE_CONTENT_H
#define MKIMAGE_CONTENT_H

#include "tree.h"

/* Write e's content to out_fd. Fails, naming the host file, if it cannot
 * be read or its size changed since the recipe was read. */
int content_write(const struct entry *e, int out_fd);
/* Append e's content to out (kept NUL-terminated). */
struct buf;
int content_read(const struct entry *e, struct buf *out);

#endif
