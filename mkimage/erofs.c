/* EROFS images with erofs-utils' mkfs.erofs, which reads a directory. The
 * tree is staged in the work directory (host files hard-linked where they
 * can be), and every owner, mode, device number and link count is handed to
 * mkfs.erofs through a fakeroot session loaded from a state file we write:
 * no root, and device nodes need no mknod. Extended attributes are set in
 * the same session by mkimage itself (erofs_session, below), from a binary
 * list: no shell ever sees a name or value, which come from tar pax records
 * and recipes. Uncompressed: the bundle compresses the image anyway. */
#define _GNU_SOURCE
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "content.h"
#include "spawn.h"

static int copy_into(const struct entry *e, const char *dest)
{
	int fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int rc;
	if (fd < 0)
		return error("%s: %s", dest, strerror(errno));
	rc = content_write(e, fd);
	if (close(fd) < 0 && rc == 0)
		rc = error("%s: %s", dest, strerror(errno));
	return rc;
}

/* A whole host file with one link, the image's time and no extended
 * attributes is hard-linked (no copy): nothing is ever set on it. A second
 * image file from the same host file then sees two links and gets a copy,
 * so no two image files share an inode the recipe did not link. */
static int stage_file(const struct entry *e, const char *dest, long long epoch, int *linked)
{
	const struct content *c = &e->content;
	struct stat st;
	*linked = c->host_path && c->offset == 0 && !e->nxattrs && stat(c->host_path, &st) == 0 &&
		  st.st_size == c->size && st.st_nlink == 1 && st.st_mtime == entry_mtime(e, epoch) &&
		  link(c->host_path, dest) == 0;
	return *linked ? 0 : copy_into(e, dest);
}


/* Make one entry's name in the scratch tree. Special files are empty
 * regular files: fakeroot reports the type from the state file. */
static int stage_entry(const struct entry *e, const char *dest, long long epoch, int *linked)
{
	*linked = 0;
	switch (e->type) {
	case ENTRY_DIR:
		return e->path[0] && mkdir(dest, 0700) < 0 ? error("%s: %s", dest, strerror(errno)) : 0;
	case ENTRY_FILE:
		return stage_file(e, dest, epoch, linked);
	case ENTRY_SYMLINK:
		return symlink(e->target, dest) < 0 ? error("%s: %s", dest, strerror(errno)) : 0;
	case ENTRY_HARDLINK:
		return 0; /* below, once every primary name exists */
	default: {
		int fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 || close(fd) < 0)
			return error("%s: %s", dest, strerror(errno));
		return 0;
	}
	}
}

/* fakeroot's state file: one line per inode, as faked saves it. */
static int add_state(struct buf *state, const struct entry *e, const char *dest)
{
	struct stat st;
	const struct entry *attr = e->type == ENTRY_HARDLINK ? e->link_primary : e;
	unsigned nlink;
	if (lstat(dest, &st) < 0)
		return error("%s: %s", dest, strerror(errno));
	nlink = attr->type == ENTRY_FILE ? attr->nlink : (unsigned)st.st_nlink;
	buf_addf(state, "dev=%llx,ino=%llu,mode=%llo,uid=%u,gid=%u,nlink=%u,rdev=%llu\n",
		 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
		 (unsigned long long)(entry_type_bits(attr->type) | attr->mode), attr->uid, attr->gid, nlink,
		 (unsigned long long)makedev(attr->major, attr->minor));
	return 0;
}

/* One record of the xattr list: PATH NUL NAME NUL LEN(4, big-endian) VALUE */
static void add_xattrs(struct buf *list, const struct entry *e, const char *dest)
{
	for (size_t i = 0; i < e->nxattrs; i++) {
		unsigned char len[4];
		size_t n = e->xattrs[i].len;
		len[0] = (unsigned char)(n >> 24), len[1] = (unsigned char)(n >> 16);
		len[2] = (unsigned char)(n >> 8), len[3] = (unsigned char)n;
		buf_add(list, dest, strlen(dest) + 1);
		buf_add(list, e->xattrs[i].name, strlen(e->xattrs[i].name) + 1);
		buf_add(list, len, sizeof(len));
		buf_add(list, e->xattrs[i].value, n);
	}
}

static int stage(const struct image *img, const char *root, struct buf *state, struct buf *xattrs,
		 long long epoch)
{
	unsigned char *linked = xcalloc(img->count + 1, 1); /* by entry->ino */
	int rc = mkdir(root, 0700) < 0 ? error("%s: %s", root, strerror(errno)) : 0;
	for (size_t i = 0; i < img->count && rc == 0; i++) {
		char *dest = xasprintf("%s/%s", root, img->entries[i]->path);
		int was_linked;
		rc = stage_entry(img->entries[i], dest, epoch, &was_linked);
		linked[img->entries[i]->ino] = (unsigned char)was_linked;
		free(dest);
	}
	for (size_t i = 0; i < img->count && rc == 0; i++) {
		const struct entry *e = img->entries[i];
		char *first, *dest;
		if (e->type != ENTRY_HARDLINK)
			continue;
		first = xasprintf("%s/%s", root, e->link_primary->path);
		dest = xasprintf("%s/%s", root, e->path);
		if (link(first, dest) < 0)
			rc = error("%s: %s", dest, strerror(errno));
		free(first);
		free(dest);
	}
	/* times last, children before their directory */
	for (size_t i = img->count; i-- > 0 && rc == 0;) {
		const struct entry *e = img->entries[i];
		char *dest = xasprintf("%s/%s", root, e->path);
		struct timespec t[2] = { { entry_mtime(e, epoch), 0 }, { entry_mtime(e, epoch), 0 } };
		if (e->type != ENTRY_HARDLINK) {
			rc = add_state(state, e, dest);
			add_xattrs(xattrs, e, dest);
		}
		/* a linked host file already has its time */
		if (rc == 0 && e->type != ENTRY_HARDLINK && !linked[e->ino] &&
		    utimensat(AT_FDCWD, dest, t, AT_SYMLINK_NOFOLLOW) < 0)
			rc = error("%s: %s", dest, strerror(errno));
		free(dest);
	}
	free(linked);
	return rc;
}

static int write_text(const char *path, const struct buf *b)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write_all(fd, b->data ? b->data : "", b->len) < 0 || close(fd) < 0)
		return error("%s: %s", path, strerror(errno));
	return 0;
}

/* mkimage --erofs-session LIST -- COMMAND...: run inside fakeroot, sets
 * LIST's extended attributes (fakeroot keeps them for the session), then
 * execs COMMAND (mkfs.erofs). Exit 1 with a message on any failure. */
int erofs_session(const char *list_path, char **command)
{
	struct buf list = { 0 };
	size_t off = 0;
	if (buf_read_file(list_path, &list) < 0)
		return error("%s: %s", list_path, strerror(errno)), 1;
	while (off < list.len) {
		const char *path = list.data + off, *name, *value;
		size_t left = list.len - off, plen = strnlen(path, left), nlen, vlen;
		name = path + plen + 1;
		if (plen == left || (nlen = strnlen(name, left - plen - 1)) == left - plen - 1 ||
		    left - plen - nlen - 2 < 4)
			return error("%s: a cut record", list_path), 1;
		value = name + nlen + 1 + 4;
		vlen = (size_t)(unsigned char)name[nlen + 1] << 24 | (size_t)(unsigned char)name[nlen + 2] << 16 |
		       (size_t)(unsigned char)name[nlen + 3] << 8 | (unsigned char)name[nlen + 4];
		if (vlen > left - plen - nlen - 6)
			return error("%s: a cut record", list_path), 1;
		if (lsetxattr(path, name, value, vlen, 0) < 0)
			return error("%s: extended attribute '%s': %s", path, name, strerror(errno)), 1;
		off += plen + nlen + 6 + vlen;
	}
	buf_free(&list);
	execvp(command[0], command);
	error("cannot run %s: %s", command[0], strerror(errno));
	return 1;
}

/* This program's own path, for the fakeroot session to run. */
static char *self_path(void)
{
	char path[4096];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	if (n <= 0)
		return NULL;
	path[n] = '\0';
	return xstrdup(path);
}

int write_erofs(const struct image *img, const struct image_opts *o)
{
	char *root = xasprintf("%s/root", o->workdir);
	char *state_path = xasprintf("%s/fakeroot.state", o->workdir);
	char *list_path = xasprintf("%s/xattrs.list", o->workdir);
	char *self = self_path(), *epoch = xasprintf("-T%lld", o->epoch);
	struct buf state = { 0 }, xattrs = { 0 };
	unsigned char uuid[16];
	char uuid_str[37], uuid_opt[40];
	int rc = image_uuid(o, uuid);

	uuid_text(uuid, uuid_str);
	snprintf(uuid_opt, sizeof(uuid_opt), "-U%s", uuid_str);
	if (!self)
		rc = error("cannot find mkimage's own path in /proc/self/exe: %s", strerror(errno));
	if (rc == 0)
		rc = stage(img, root, &state, &xattrs, o->epoch);
	if (rc == 0)
		rc = write_text(state_path, &state);
	if (rc == 0)
		rc = write_text(list_path, &xattrs);
	if (rc == 0) {
		/* an ASan build is not first in the library list under fakeroot's
		 * preload; -T: the build time; --preserve-mtime: each file's own */
		char *argv[] = { "fakeroot", "-i", state_path, "--", "env", "ASAN_OPTIONS=verify_asan_link_order=0",
				 self, "--erofs-session", list_path, "--", "mkfs.erofs", "--quiet", epoch,
				 "--preserve-mtime", uuid_opt, (char *)o->tmp_out, root, NULL };
		if (run(argv, -2) != 0)
			rc = error("mkfs.erofs failed on %s (Debian packages erofs-utils, fakeroot)", o->out);
	}
	buf_free(&state);
	buf_free(&xattrs);
	free(root);
	free(state_path);
	free(list_path);
	free(self);
	free(epoch);
	return rc;
}
