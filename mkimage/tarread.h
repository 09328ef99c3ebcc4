/* Reading tar archives (ustar, GNU long names, pax) for the tar directive.
 * gzip, xz, zstd and bzip2 archives are read through the host tool. */
#ifndef MKIMAGE_TARREAD_H
#define MKIMAGE_TARREAD_H

#include <sys/types.h>

#include "tree.h"

struct tar_member {
	char *path;
	char *linkname;
	char type; /* ustar typeflag: '0' file, '1' hard link, '2' symlink, ... */
	unsigned mode, uid, gid, major, minor;
	off_t size;
	long long mtime;
	off_t blob_offset; /* regular files: where their bytes are, in the */
	int in_archive;    /* archive itself (uncompressed) or in the blob */
	struct xattr *xattrs; /* from pax SCHILY.xattr / LIBARCHIVE.xattr */
	size_t nxattrs;
};

/* Calls member(ctx, m) for each member. A regular file's bytes are left in
 * an uncompressed archive (in_archive) or copied to blob_fd. Sparse members
 * are refused. Returns 0, or -1 after printing an error at the directive naming archive. */
int tar_read(const char *archive, const struct origin *at, int blob_fd,
	     int (*member)(void *ctx, const struct tar_member *m), void *ctx);

/* The same for the archive at bytes [START, START+LENGTH) of ARCHIVE (a
 * .deb's data member); in-archive offsets count from the file's start. */
int tar_read_at(const char *archive, off_t start, off_t length, const struct origin *at, int blob_fd,
		int (*member)(void *ctx, const struct tar_member *m), void *ctx);

#endif
