/* EROFS images with erofs-utils' mkfs.erofs, which reads a directory. The
 * tree is staged in the work directory (host files hard-linked where they
 * can be), and every owner, mode, device number and link count is handed to
 * mkfs.erofs through a fakeroot session loaded from a state file we write:
 * no root, and device nodes need no mknod. Extended attributes are set in
 * the same session. Uncompressed: the bundle compresses the image anyway. */
#define _GNU_SOURCE
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
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

/* Shell-quote s into b. */
static void add_quoted(struct buf *b, const char *s)
{
	buf_add(b, "'", 1);
	for (; *s; s++) {
		if (*s == '\'')
			buf_add(b, "'\\''", 4);
		else
			buf_add(b, s, 1);
	}
	buf_add(b, "'", 1);
}

static void add_setfattr(struct buf *script, const struct entry *e, const char *dest)
{
	for (size_t i = 0; i < e->nxattrs; i++) {
		buf_addf(script, "setfattr -h -n %s -v 0x", e->xattrs[i].name);
		for (size_t k = 0; k < e->xattrs[i].len; k++)
			buf_addf(script, "%02x", (unsigned char)e->xattrs[i].value[k]);
		buf_add(script, " ", 1);
		add_quoted(script, dest);
		buf_add(script, "\n", 1);
	}
}

static int stage(const struct image *img, const char *root, struct buf *state, struct buf *script,
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
			add_setfattr(script, e, dest);
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

int write_erofs(const struct image *img, const struct image_opts *o)
{
	char *root = xasprintf("%s/root", o->workdir);
	char *state_path = xasprintf("%s/fakeroot.state", o->workdir);
	char *script_path = xasprintf("%s/mkfs.sh", o->workdir);
	struct buf state = { 0 }, script = { 0 };
	unsigned char uuid[16];
	char uuid_str[37];
	int rc = image_uuid(o, uuid);

	uuid_text(uuid, uuid_str);
	buf_addstr(&script, "set -e\n");
	if (rc == 0)
		rc = stage(img, root, &state, &script, o->epoch);
	/* -T: the build time; --preserve-mtime: each file keeps its own */
	buf_addf(&script, "exec mkfs.erofs --quiet -T%lld --preserve-mtime -U%s ", o->epoch, uuid_str);
	add_quoted(&script, o->tmp_out);
	buf_add(&script, " ", 1);
	add_quoted(&script, root);
	buf_add(&script, "\n", 1);
	if (rc == 0)
		rc = write_text(state_path, &state);
	if (rc == 0)
		rc = write_text(script_path, &script);
	if (rc == 0) {
		char *argv[] = { "fakeroot", "-i", state_path, "--", "sh", script_path, NULL };
		if (run(argv, -2) != 0)
			rc = error("mkfs.erofs failed on %s (Debian packages erofs-utils, fakeroot, attr)",
				   o->out);
	}
	buf_free(&state);
	buf_free(&script);
	free(root);
	free(state_path);
	free(script_path);
	return rc;
}
