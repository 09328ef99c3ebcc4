/* Allocation, error reporting and small string helpers. */
#ifndef MKIMAGE_UTIL_H
#define MKIMAGE_UTIL_H

#include <stddef.h>
#include <stdio.h>

#include "../support/lib/hostlib.h"

/* Where something was declared, for "mkimage: FILE:LINE: message". */
struct origin {
	const char *file;
	int line;
};


/* Print "mkimage: FILE:LINE: message" (or "mkimage: message" without an
 * origin) to stderr. Always returns -1 so callers can "return error(...)". */
int error_at(const struct origin *at, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define error(...) error_at(NULL, __VA_ARGS__)

/* Growable byte buffer. */
struct buf {
	char *data;
	size_t len, cap;
};
void buf_add(struct buf *b, const void *data, size_t len);
void buf_addstr(struct buf *b, const char *s);
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_free(struct buf *b);

/* Open a regular file for reading without blocking on a FIFO; -1 with
 * errno set (EINVAL: not a regular file). */
int open_regular(const char *path);
/* A whole regular file appended to *OUT; -1 with errno set on failure. */
int buf_read_file(const char *path, struct buf *out);

/* Directory part of a path ("." if none), newly allocated. */
char *dir_of(const char *path);

#endif
