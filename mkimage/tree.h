/* The image being assembled: one entry per path, later declarations
 * replacing earlier ones, parents created on demand. */
#ifndef MKIMAGE_TREE_H
#define MKIMAGE_TREE_H

#include <stdbool.h>
#include <sys/types.h>

#include "util.h"

enum entry_type {
	ENTRY_FILE,
	ENTRY_DIR,
	ENTRY_SYMLINK,
	ENTRY_CHR,
	ENTRY_BLK,
	ENTRY_FIFO,
	ENTRY_SOCK,
	ENTRY_HARDLINK, /* another name for the ENTRY_FILE at .target */
};

/* Where a regular file's bytes come from: a byte range of a host file, or
 * inline data (text lines, generated /etc/passwd). */
struct content {
	char *host_path;
	off_t offset;
	off_t size;
	char *data; /* inline data when host_path is NULL */
};

/* An extended attribute: value bytes, not a C string. */
struct xattr {
	char *name;
	char *value;
	size_t len;
};

struct entry {
	char *path; /* normalized: no leading or trailing '/', "" is the root */
	enum entry_type type;
	unsigned mode; /* permission bits, 07777 */
	unsigned uid, gid;
	char *target; /* symlink target, or hard link's file path */
	unsigned major, minor;
	struct content content;
	long long mtime; /* -1: none known (SOURCE_DATE_EPOCH) */
	struct xattr *xattrs; /* sorted by name */
	size_t nxattrs;
	struct origin origin;
	bool removed;
	/* filled in by tree_finish() */
	struct entry *link_primary; /* hard links: the ENTRY_FILE */
	unsigned nlink; /* regular files: number of names */
	unsigned long ino; /* numbered in path order, from 1 */
};

struct tree {
	struct entry **entries; /* in declaration order, removed ones too */
	size_t count, cap;
	size_t *slots; /* hash table of indexes + 1, 0 = empty */
	size_t nslots, live, used; /* used: live + tombstones */
};

void tree_init(struct tree *t);
void tree_free(struct tree *t);

/* Normalize an image path in place: strips leading, trailing and double
 * slashes and "." components. Returns -1 for ".." components (a path that
 * would escape the image). */
int path_normalize(char *path);

/* Add or replace an entry (takes ownership of e). Parent components that
 * are symlinks in the image are followed as the guest's kernel would
 * (relative and absolute targets, ".." stopping at the image root, at most
 * 40 links), so "/sbin/x" lands in "/usr/sbin" on a merged-/usr tree; a
 * directory added over a symlink to a directory applies to that directory.
 * A replaced directory keeps its children unless replaced by a
 * non-directory. Missing parents are created as 0755 root directories; a
 * parent that exists but is not a directory is an error reported at
 * e->origin, and so is a name component over 255 bytes. */
int tree_add(struct tree *t, struct entry *e);
/* Remove path (its parents resolved as above) and everything below it.
 * Returns 0 if it existed, else -1. */
int tree_remove(struct tree *t, const char *path);
/* Remove everything below directory PATH except entries whose last
 * component is one of KEEP[0..NKEEP), and the directories that lead to
 * them; PATH itself stays. -1: nothing at PATH; -2: not a directory. */
int tree_prune(struct tree *t, const char *path, const char *const *keep, size_t nkeep);
struct entry *tree_find(const struct tree *t, const char *path);
/* The entry at path with parent symlinks followed (and a final symlink too
 * when follow_last); NULL if none. */
struct entry *tree_lookup(const struct tree *t, const char *path, bool follow_last);

/* Set (replace) one extended attribute. */
void entry_set_xattr(struct entry *e, const char *name, const void *value, size_t len);
/* The time an image stores for e: its own, clamped to epoch (as tar
 * --clamp-mtime does), or epoch when it has none. */
long long entry_mtime(const struct entry *e, long long epoch);

/* Resolve hard links, count links and number inodes; returns the live
 * entries sorted so that parents come before children (component-wise
 * byte order), in *out (caller frees the array). */
int tree_finish(struct tree *t, struct entry ***out, size_t *count);

struct entry *entry_new(const char *path, enum entry_type type, unsigned mode,
			unsigned uid, unsigned gid, const struct origin *at);
void entry_free(struct entry *e);
const char *entry_type_name(enum entry_type type);
/* The S_IF* file type bits of an entry type (hard links: S_IFREG). */
unsigned entry_type_bits(enum entry_type type);

#endif
