/* The host library: what mkimage, the runtime (umlkit-run) and the unit
 * tests share. Allocation that never returns NULL, bounded whole-file
 * reads, writes that finish, sizes, tree removal, one-line messages.
 * No state of its own: every function takes what it needs. */
#ifndef UMLKIT_HOSTLIB_H
#define UMLKIT_HOSTLIB_H

#include <stdarg.h>
#include <stddef.h>

/* alloc.c: on failure "PROG: out of memory" and exit status
 * HOSTLIB_OOM_STATUS (a program's own: 1 for mkimage, 121 the runtime) */
void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* file.c */
/* A regular file's first MAX bytes at most, NUL-terminated (*LEN: their
 * count); NULL with errno when unreadable or not a regular file (EINVAL:
 * a FIFO or device is never opened for reading, so nothing blocks). */
char *read_file(const char *path, size_t max, size_t *len);
/* The same, but a symlink at PATH is refused (ELOOP): for files another
 * party could have replaced (the guest's, in the run directory). */
char *read_file_nofollow(const char *path, size_t max, size_t *len);
/* All of LEN bytes, retrying short writes and EINTR; -1 with errno. */
int write_all(int fd, const void *data, size_t len);
/* rm -rf PATH, never following symlinks nor crossing mounts; 0 or -1. */
int remove_tree(const char *path);

/* size.c: "123", "64K", "100M", "2G" (either case) into bytes; -1 for
 * anything else, or a size past 2^64. */
int parse_size(const char *s, unsigned long long *bytes);

/* say.c: "PROG: message" on stderr, one line */
void say(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vsay(const char *prog, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void die(int code, const char *prog, const char *fmt, ...) __attribute__((format(printf, 3, 4), noreturn));
/* A usage error: said, and -1 returned (for option parsers). */
int usage_error(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* sha256.c: SHA-256 of the concatenation of N parts; HMAC-SHA-256 (at
 * most 8 message parts); a comparison whose time does not depend on where
 * the bytes differ. */
void sha256_parts(const void *const *parts, const size_t *lens, int n, unsigned char out[32]);
void hmac_sha256(const void *key, size_t key_len, const void *const *msg, const size_t *lens, int n,
		 unsigned char out[32]);
int equal_in_constant_time(const void *a, const void *b, size_t n);
#endif
