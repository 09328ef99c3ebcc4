/* What every backend gets: the sorted entries and the options. */
#ifndef MKIMAGE_IMAGE_H
#define MKIMAGE_IMAGE_H

#include <stddef.h>

#include "tree.h"

struct image_opts {
	const char *type;	/* ext2, ext4, squashfs, cpio */
	const char *out;	/* final name, for messages */
	const char *tmp_out;	/* where the backend writes */
	const char *workdir;	/* private scratch directory */
	unsigned long long size; /* bytes; 0: automatic */
	unsigned headroom;	/* percent of free space when automatic */
	unsigned long long bytes_per_inode; /* ext; 0: mke2fs.conf's by size */
	const char *label;
	const char *uuid;	/* NULL: derived from the output name */
	const char *compress;	/* cpio: none, gzip, xz, zstd */
	long long epoch;	/* SOURCE_DATE_EPOCH */
};

struct image {
	struct entry **entries;
	size_t count;
};

int write_ext(const struct image *img, const struct image_opts *o);
int write_squashfs(const struct image *img, const struct image_opts *o);
int write_cpio(const struct image *img, const struct image_opts *o);

#endif
