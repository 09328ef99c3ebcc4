/* squashfs images: a scratch tree of links to (or copies of) the host files,
 * with every owner, mode and special file given to mksquashfs as pseudo
 * definitions, so nothing needs root. */
#define _GNU_SOURCE
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "content.h"
#include "spawn.h"

/* Quote a path for a pseudo file: backslash before anything unusual. */
static void add_quoted(struct buf *b, const char *path)
{
	buf_add(b, "/", 1);
	for (const char *p = path; *p; p++) {
		if (*p == ' ' || *p == '\\' || *p == '"' || *p == '\t' || *p == '\n')
			buf_add(b, "\\", 1);
		buf_add(b, p, 1);
	}
}

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

/* A whole host file with the wanted mode (and, as root, owner) is
 * hard-linked into the scratch tree when allowed; else copied. Only a host
 * file with one link qualifies, so a second image file made from the same
 * host file (which then has two) gets a copy: mksquashfs must not see a
 * hard link the recipe did not declare. A linked host file is never
 * chmod-ed or chown-ed. */
static int stage_file(const struct entry *e, const char *dest, int as_root)
{
	const struct content *c = &e->content;
	struct stat st;
	if (c->host_path && c->offset == 0 && stat(c->host_path, &st) == 0 &&
	    st.st_size == c->size && st.st_nlink == 1 && (st.st_mode & 07777) == e->mode &&
	    (!as_root || (st.st_uid == e->uid && st.st_gid == e->gid)) &&
	    link(c->host_path, dest) == 0)
		return 0;
	if (copy_into(e, dest) < 0)
		return -1;
	if (as_root && chown(dest, e->uid, e->gid) < 0)
		return error("%s: %s", dest, strerror(errno));
	return chmod(dest, e->mode | (as_root ? 0 : 0400)) < 0 ? error("%s: %s", dest, strerror(errno)) : 0;
}

/* What the scratch tree cannot say goes into a pseudo definition: special
 * files always; without root also owners and unreadable modes, since only
 * root can give the scratch tree any owner. mksquashfs 4.5 cannot modify a
 * directory and define something below it too. */
static int needs_pseudo(const struct entry *e, int as_root)
{
	if (as_root)
		return e->type != ENTRY_DIR && e->type != ENTRY_FILE &&
		       e->type != ENTRY_HARDLINK && e->type != ENTRY_SYMLINK;
	if (e->type == ENTRY_HARDLINK || e->type == ENTRY_SYMLINK)
		return e->type == ENTRY_SYMLINK && (e->uid || e->gid);
	if (e->type != ENTRY_DIR && e->type != ENTRY_FILE)
		return 1;
	if (e->uid || e->gid)
		return 1;
	return e->type == ENTRY_DIR ? (e->mode & 0500) != 0500 : !(e->mode & 0400);
}

static int check_pseudo_nesting(const struct image *img, int as_root)
{
	const struct entry *dir = NULL;
	size_t len = 0;
	for (size_t i = 0; i < img->count; i++) {
		const struct entry *e = img->entries[i];
		if (dir && !strncmp(e->path, dir->path, len) && e->path[len] == '/') {
			if (needs_pseudo(e, as_root))
				return error_at(&e->origin, "squashfs: '/%s' needs an owner or mode set inside "
						"'/%s', which needs one too; mksquashfs 4.5 cannot do both: "
						"build as root, use an ext image or change one owner to 0:0",
						e->path, dir->path);
			continue;
		}
		dir = NULL;
		if (e->type == ENTRY_DIR && e->path[0] && needs_pseudo(e, as_root)) {
			dir = e;
			len = strlen(e->path);
		}
	}
	return 0;
}

static int stage(const struct image *img, const char *root, struct buf *pseudo, long long epoch)
{
	int as_root = geteuid() == 0;
	int rc = check_pseudo_nesting(img, as_root);
	for (size_t i = 0; i < img->count && rc == 0; i++) {
		const struct entry *e = img->entries[i];
		char *dest = xasprintf("%s/%s", root, e->path);
		char type = 0;
		if (!e->path[0]) {
			free(dest);
			continue; /* the root: -root-mode/-root-uid/-root-gid */
		}
		switch (e->type) {
		case ENTRY_DIR:
			if (mkdir(dest, 0700) < 0)
				rc = error("%s: %s", dest, strerror(errno));
			break;
		case ENTRY_FILE:
			rc = stage_file(e, dest, as_root);
			break;
		case ENTRY_HARDLINK:
			break; /* below, once every primary name exists */
		case ENTRY_SYMLINK:
			if (symlink(e->target, dest) < 0)
				rc = error("%s: %s", dest, strerror(errno));
			break;
		case ENTRY_CHR: type = 'C'; break;
		case ENTRY_BLK: type = 'B'; break;
		case ENTRY_FIFO: case ENTRY_SOCK: type = 'I'; break;
		}
		if (rc == 0 && as_root && e->type == ENTRY_SYMLINK && lchown(dest, e->uid, e->gid) < 0)
			rc = error("%s: %s", dest, strerror(errno));
		if (needs_pseudo(e, as_root)) {
			add_quoted(pseudo, e->path);
			if (!type)
				buf_addf(pseudo, " M %lld %o %u %u\n", epoch, e->mode, e->uid, e->gid);
			else if (type == 'I')
				buf_addf(pseudo, " I %lld %o %u %u %c\n", epoch, e->mode, e->uid, e->gid,
					 e->type == ENTRY_FIFO ? 'f' : 's');
			else
				buf_addf(pseudo, " %c %lld %o %u %u %u %u\n", type, epoch, e->mode,
					 e->uid, e->gid, e->major, e->minor);
		}
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
	/* directory modes last, children first: a 0500 directory is full by then */
	for (size_t i = img->count; i-- > 0 && rc == 0;) {
		const struct entry *e = img->entries[i];
		char *dest;
		if (e->type != ENTRY_DIR || !e->path[0])
			continue;
		dest = xasprintf("%s/%s", root, e->path);
		if (as_root && chown(dest, e->uid, e->gid) < 0)
			rc = error("%s: %s", dest, strerror(errno));
		if (rc == 0 && chmod(dest, e->mode | (as_root ? 0 : 0500)) < 0)
			rc = error("%s: %s", dest, strerror(errno));
		free(dest);
	}
	return rc;
}

int write_squashfs(const struct image *img, const struct image_opts *o)
{
	char *root = xasprintf("%s/root", o->workdir);
	char *pseudo_path = xasprintf("%s/pseudo", o->workdir);
	struct buf pseudo = { 0 };
	const struct entry *top = img->entries[0];
	char mode[16], uid[16], gid[16], epoch[32];
	int rc, fd;

	buf_add(&pseudo, "", 0);
	rc = mkdir(root, 0700) < 0 ? error("%s: %s", root, strerror(errno)) : 0;
	if (rc == 0)
		rc = stage(img, root, &pseudo, o->epoch);
	if (rc == 0) {
		fd = open(pseudo_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || write_all(fd, pseudo.data, pseudo.len) < 0 || close(fd) < 0)
			rc = error("%s: %s", pseudo_path, strerror(errno));
	}
	snprintf(mode, sizeof(mode), "%o", top->mode);
	snprintf(uid, sizeof(uid), "%u", top->uid);
	snprintf(gid, sizeof(gid), "%u", top->gid);
	snprintf(epoch, sizeof(epoch), "%lld", o->epoch);
	if (rc == 0) {
		/* Without root, mksquashfs runs in a user namespace where our own
		 * files are root's: the scratch tree then reads as 0:0. */
		char *argv[] = { "unshare", "--map-root-user",
				 "mksquashfs", root, (char *)o->tmp_out, "-noappend", "-quiet",
				 "-no-progress", "-no-xattrs", "-comp", "zstd",
				 "-all-time", epoch, "-mkfs-time", epoch, "-root-time", epoch,
				 "-root-mode", mode, "-root-uid", uid, "-root-gid", gid,
				 "-pf", pseudo_path, NULL };
		/* mksquashfs refuses SOURCE_DATE_EPOCH next to -all-time */
		unsetenv("SOURCE_DATE_EPOCH");
		rc = run(geteuid() == 0 ? argv + 2 : argv, -2) == 0 ? 0 :
			error("mksquashfs failed on %s%s", o->out, geteuid() == 0 ? "" :
			      " (without root it needs user namespaces: 'unshare --map-root-user true' must work)");
		setenv("SOURCE_DATE_EPOCH", epoch, 1);
	}
	buf_free(&pseudo);
	free(root);
	free(pseudo_path);
	return rc;
}
