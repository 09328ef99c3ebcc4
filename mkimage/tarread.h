/* Reading tar archives (ustar, GNU long names, pax) for the tar directive.
 * gzip, xz, zstd and bzip2 archives are read through the host tool. */
#ifndef MKIMAGE_TARREAD_H
#define MKIMAGE_TARREAD_H

#include <sys/types.h>

struct tar_member {
	char *path;
	char *linkname;
	char type; /* ustar typeflag: '0' file, '1' hard link, '2' symlink, ... */
	unsigned mode, uid, gid, major, minor;
	off_t size;
	off_t blob_offset; /* regular files: where their bytes are in the blob */
};

/* Calls member(ctx, m) for each member, after copying a regular file's bytes
 * to blob_fd. Returns 0, or -1 after printing an error naming archive. */
int tar_read(const char *archive, int blob_fd,
	     int (*member)(void *ctx, const struct tar_member *m), void *ctx);

#endif
