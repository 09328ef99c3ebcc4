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
	const char *compress;	/* cpio: none, gzip, xz, zstd; squashfs: zstd, zstd:LEVEL, xz */
	long long epoch;	/* SOURCE_DATE_EPOCH */
};

struct image {
	struct entry **entries;
	size_t count;
};

/* The backends, one per row of formats.def: each writes o->tmp_out. */
#define FORMAT(name, suffix, root, bundle, writer, keeps, tools) \
	int writer(const struct image *img, const struct image_opts *o);
#include "formats.def"
#undef FORMAT

/* squashfs.c: 1 if -z VALUE is one the squashfs writer takes */
int squashfs_compression_ok(const char *value);

/* The EROFS writer's fakeroot session: mkimage --erofs-session (erofs.c). */
int erofs_session(const char *list_path, char **command);

/* The image's UUID (uuid.c): -U, else derived; -1 after an error. */
int image_uuid(const struct image_opts *o, unsigned char uuid[16]);
/* Another stable value from the output's name (salt > 0: hash seeds). */
void derive_uuid(const struct image_opts *o, unsigned salt, unsigned char uuid[16]);
void uuid_text(const unsigned char uuid[16], char out[37]);

/* What a format stores besides files, directories, symlinks, devices and
 * FIFOs. */
#define XATTRS 1u  /* extended attributes */
#define SOCKETS 2u /* socket files */
#define SIZED 4u   /* a fixed size (-s, -H) */

struct format {
	const char *name, *suffix, *root;
	int (*write)(const struct image *img, const struct image_opts *o);
	unsigned keeps;
};
extern const struct format formats[];
extern const size_t format_count;
const struct format *format_find(const char *name);

#endif
