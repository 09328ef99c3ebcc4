#define _GNU_SOURCE
#include "resolve.h"
#include "deb.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "content.h"
#include "recipe.h"
#include "spawn.h"
#include "tarread.h"

void strlist_add(struct strlist *l, const char *s)
{
	if (l->count == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->items = xrealloc(l->items, l->cap * sizeof(*l->items));
	}
	l->items[l->count++] = xstrdup(s);
}

void strlist_free(struct strlist *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->items[i]);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

void resolver_init(struct resolver *r, struct tree *tree, const char *blob_path, int blob_fd)
{
	memset(r, 0, sizeof(*r));
	r->tree = tree;
	r->blob_path = blob_path;
	r->blob_fd = blob_fd;
}

void resolver_free(struct resolver *r)
{
	strlist_free(&r->deps);
	strlist_free(&r->includes);
	strlist_free(&r->names);
	strlist_free(&r->passwd);
	strlist_free(&r->shadow);
	strlist_free(&r->group);
	strlist_free(&r->gshadow);
	free(r->debian_suite);
}

/* A host path from a recipe is relative to the recipe's directory. */
static char *host_path(const struct directive *d, const char *location)
{
	char *dir, *path;
	if (location[0] == '/')
		return xstrdup(location);
	dir = dir_of(d->origin.file);
	path = xasprintf("%s/%s", dir, location);
	free(dir);
	return path;
}

/* Image path "prefix/rest", normalized; NULL (after an error) on escape. */
static char *join_image_path(const char *prefix, const char *rest, const struct origin *at)
{
	char *p = xasprintf("%s/%s", prefix, rest);
	if (path_normalize(p) < 0) {
		error_at(at, "path '%s' escapes the image ('..' is not allowed)", rest);
		free(p);
		return NULL;
	}
	return p;
}

/* Extended attributes kept from host files: the namespaces every image
 * format with xattrs can store (ACLs in system.* are not carried). */
static int xattr_kept(const char *name)
{
	return !strncmp(name, "user.", 5) || !strncmp(name, "security.", 9) ||
	       !strncmp(name, "trusted.", 8);
}

/* Copy a host file's extended attributes onto e (without following a
 * symlink). A filesystem without xattrs has none to copy. */
static int host_xattrs(const char *host, struct entry *e)
{
	char names[65536], value[65536];
	ssize_t n = llistxattr(host, names, sizeof(names));
	if (n < 0)
		return errno == ENOTSUP ? 0 : error_at(&e->origin, "'%s': reading its extended "
						       "attributes: %s", host, strerror(errno));
	for (char *name = names; name < names + n; name += strlen(name) + 1) {
		ssize_t len;
		if (!xattr_kept(name))
			continue;
		len = lgetxattr(host, name, value, sizeof(value));
		if (len < 0 && errno == ENODATA)
			continue;
		if (len < 0)
			return error_at(&e->origin, "'%s': extended attribute %s: %s", host, name,
					strerror(errno));
		entry_set_xattr(e, name, value, (size_t)len);
	}
	return 0;
}

static int add_simple(struct resolver *r, const struct directive *d, enum entry_type type)
{
	struct entry *e = entry_new(d->argv[0], type, d->mode, d->uid, d->gid, &d->origin);
	e->major = d->major;
	e->minor = d->minor;
	return tree_add(r->tree, e);
}

int apply_file(struct resolver *r, const struct directive *d)
{
	struct stat st;
	char *path = host_path(d, d->argv[1]);
	struct entry *e;
	int fd;

	strlist_add(&r->deps, path);
	fd = open_regular(path);
	if (fd < 0 && errno == EINVAL) {
		error_at(&d->origin, "host file '%s' is not a regular file", path);
		goto fail;
	}
	if (fd < 0 || fstat(fd, &st) < 0) {
		error_at(&d->origin, "host file '%s': %s", path, strerror(errno));
		goto fail;
	}
	close(fd);
	e = entry_new(d->argv[0], ENTRY_FILE, d->mode, d->uid, d->gid, &d->origin);
	e->content.host_path = path;
	e->content.size = st.st_size;
	/* no e->mtime: a single host file's time is when it was built or
	 * checked out, which would make the image depend on that */
	if (host_xattrs(path, e) < 0) {
		entry_free(e);
		return -1;
	}
	if (tree_add(r->tree, e) < 0)
		return -1;
	for (size_t i = 5; i < d->argc; i++) {
		e = entry_new(d->argv[i], ENTRY_HARDLINK, d->mode, d->uid, d->gid, &d->origin);
		e->target = xstrdup(d->argv[0]);
		if (tree_add(r->tree, e) < 0)
			return -1;
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(path);
	return -1;
}

int apply_slink(struct resolver *r, const struct directive *d)
{
	struct entry *e = entry_new(d->argv[0], ENTRY_SYMLINK, d->mode, d->uid, d->gid, &d->origin);
	e->target = xstrdup(d->argv[1]);
	return tree_add(r->tree, e);
}

int apply_text(struct resolver *r, const struct directive *d)
{
	struct entry *e = entry_new(d->argv[0], ENTRY_FILE, d->mode, d->uid, d->gid, &d->origin);
	e->content.data = xstrdup(d->argv[4]);
	e->content.size = (off_t)strlen(d->argv[4]);
	return tree_add(r->tree, e);
}

/* --- tree: a host directory, walked without following symlinks --- */

struct walk {
	struct resolver *r;
	const struct directive *d;
	struct { dev_t dev; ino_t ino; char *path; } *seen; /* hard links */
	size_t nseen;
};

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk_entry(struct walk *w, const char *host, const char *image, const struct stat *st);

static int walk_dir(struct walk *w, const char *host, const char *image)
{
	DIR *dir;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	strlist_add(&w->r->deps, host);
	dir = opendir(host);
	if (!dir)
		return error_at(&w->d->origin, "host directory '%s': %s", host, strerror(errno));
	while ((errno = 0, de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			names = xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = xstrdup(de->d_name);
	}
	if (errno)
		rc = error_at(&w->d->origin, "reading '%s': %s", host, strerror(errno));
	closedir(dir);
	/* readdir order differs between hosts; the image must not */
	qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		char *h = xasprintf("%s/%s", host, names[i]);
		char *img = xasprintf("%s/%s", image, names[i]);
		struct stat st;
		if (rc == 0) {
			if (lstat(h, &st) < 0)
				rc = error_at(&w->d->origin, "'%s': %s", h, strerror(errno));
			else
				rc = walk_entry(w, h, img, &st);
		}
		free(h);
		free(img);
		free(names[i]);
	}
	free(names);
	return rc;
}

static int walk_entry(struct walk *w, const char *host, const char *image, const struct stat *st)
{
	const struct directive *d = w->d;
	unsigned uid = d->argc == 4 ? d->uid : 0, gid = d->argc == 4 ? d->gid : 0;
	unsigned mode = st->st_mode & 07777;
	struct entry *e;
	char *path = join_image_path(image, "", &d->origin);

	if (!path)
		return -1;
	switch (st->st_mode & S_IFMT) {
	case S_IFDIR:
		e = entry_new(path, ENTRY_DIR, mode, uid, gid, &d->origin);
		free(path);
		e->mtime = st->st_mtime;
		if (host_xattrs(host, e) < 0) {
			entry_free(e);
			return -1;
		}
		if (tree_add(w->r->tree, e) < 0)
			return -1;
		return walk_dir(w, host, image);
	case S_IFREG:
		if (st->st_nlink > 1) {
			for (size_t i = 0; i < w->nseen; i++) {
				if (w->seen[i].dev == st->st_dev && w->seen[i].ino == st->st_ino) {
					e = entry_new(path, ENTRY_HARDLINK, mode, uid, gid, &d->origin);
					e->target = xstrdup(w->seen[i].path);
					free(path);
					return tree_add(w->r->tree, e);
				}
			}
			w->seen = xrealloc(w->seen, (w->nseen + 1) * sizeof(*w->seen));
			w->seen[w->nseen].dev = st->st_dev;
			w->seen[w->nseen].ino = st->st_ino;
			w->seen[w->nseen++].path = xstrdup(path);
		}
		if (access(host, R_OK) < 0) {
			free(path);
			return error_at(&d->origin, "host file '%s': %s", host, strerror(errno));
		}
		e = entry_new(path, ENTRY_FILE, mode, uid, gid, &d->origin);
		e->content.host_path = xstrdup(host);
		e->content.size = st->st_size;
		strlist_add(&w->r->deps, host);
		break;
	case S_IFLNK: {
		char target[PATH_MAX];
		ssize_t len = readlink(host, target, sizeof(target) - 1);
		if (len < 0) {
			free(path);
			return error_at(&d->origin, "'%s': %s", host, strerror(errno));
		}
		target[len] = '\0';
		/* copied as a link, never followed: the target is the guest's */
		e = entry_new(path, ENTRY_SYMLINK, 0777, uid, gid, &d->origin);
		e->target = xstrdup(target);
		break;
	}
	case S_IFCHR: case S_IFBLK:
		e = entry_new(path, S_ISCHR(st->st_mode) ? ENTRY_CHR : ENTRY_BLK, mode, uid, gid,
			      &d->origin);
		e->major = major(st->st_rdev);
		e->minor = minor(st->st_rdev);
		break;
	case S_IFIFO:
		e = entry_new(path, ENTRY_FIFO, mode, uid, gid, &d->origin);
		break;
	default:
		e = entry_new(path, ENTRY_SOCK, mode, uid, gid, &d->origin);
		break;
	}
	free(path);
	e->mtime = st->st_mtime;
	if (host_xattrs(host, e) < 0) {
		entry_free(e);
		return -1;
	}
	return tree_add(w->r->tree, e);
}

int apply_tree(struct resolver *r, const struct directive *d)
{
	struct walk w = { .r = r, .d = d };
	char *host = host_path(d, d->argv[1]);
	struct stat st;
	int rc;

	if (stat(host, &st) < 0)
		rc = error_at(&d->origin, "host directory '%s': %s", host, strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		rc = error_at(&d->origin, "'%s' is not a directory", host);
	else
		rc = walk_entry(&w, host, d->argv[0], &st);
	for (size_t i = 0; i < w.nseen; i++)
		free(w.seen[i].path);
	free(w.seen);
	free(host);
	return rc;
}

/* --- tar: members of an archive, keeping owners, modes and links --- */

struct tar_ctx {
	struct resolver *r;
	const struct directive *d;
	const char *archive;
	const char *prefix;	/* where in the image the members go */
};

static int add_tar_member(void *ctx, const struct tar_member *m)
{
	struct tar_ctx *c = ctx;
	const struct origin *at = &c->d->origin;
	enum entry_type type;
	struct entry *e;
	char *path = join_image_path(c->prefix, m->path, at);

	if (!path)
		return -1;
	switch (m->type) {
	case '0': type = ENTRY_FILE; break;
	case '1': type = ENTRY_HARDLINK; break;
	case '2': type = ENTRY_SYMLINK; break;
	case '3': type = ENTRY_CHR; break;
	case '4': type = ENTRY_BLK; break;
	case '5': type = ENTRY_DIR; break;
	case '6': type = ENTRY_FIFO; break;
	default:
		free(path);
		return error_at(at, "%s: member '%s' has unsupported type '%c'", c->archive,
				m->path, m->type);
	}
	e = entry_new(path, type, m->mode, m->uid, m->gid, at);
	free(path);
	e->major = m->major;
	e->minor = m->minor;
	e->mtime = m->mtime;
	for (size_t i = 0; i < m->nxattrs; i++)
		entry_set_xattr(e, m->xattrs[i].name, m->xattrs[i].value, m->xattrs[i].len);
	if (type == ENTRY_FILE) {
		e->content.host_path = xstrdup(m->in_archive ? c->archive : c->r->blob_path);
		e->content.offset = m->blob_offset;
		e->content.size = m->size;
	} else if (type == ENTRY_SYMLINK) {
		e->target = xstrdup(m->linkname);
	} else if (type == ENTRY_HARDLINK) {
		e->target = join_image_path(c->prefix, m->linkname, at);
		if (!e->target) {
			free(e->path);
			free(e);
			return -1;
		}
	}
	return tree_add(c->r->tree, e);
}

int apply_tar(struct resolver *r, const struct directive *d)
{
	char *archive = host_path(d, d->argv[1]);
	struct tar_ctx c = { r, d, archive, d->argv[0] };
	int rc;
	strlist_add(&r->deps, archive);
	if (access(archive, R_OK) < 0)
		rc = error_at(&d->origin, "archive '%s': %s", archive, strerror(errno));
	else
		rc = tar_read(archive, &d->origin, r->blob_fd, add_tar_member, &c);
	free(archive);
	return rc;
}

/* --- deb: a Debian package's files (its data member), read in place --- */

int apply_deb(struct resolver *r, const struct directive *d)
{
	char *package = host_path(d, d->argv[0]);
	struct tar_ctx c = { r, d, package, "/" };
	struct deb_member data;
	int fd = open(package, O_RDONLY | O_CLOEXEC | O_NONBLOCK), rc;
	struct stat st;
	strlist_add(&r->deps, package);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = error_at(&d->origin, "package '%s': %s", package, fd < 0 ? strerror(errno) : "not a regular file");
	} else {
		rc = deb_find_member(fd, "data.tar", &data);
		if (rc == DEB_NOT_AR || rc == DEB_CORRUPT)
			rc = error_at(&d->origin, "'%s' is not a Debian package (%s)", package,
				      rc == DEB_NOT_AR ? "no ar header" : "a cut or corrupt ar member");
		else if (rc == DEB_MISSING)
			rc = error_at(&d->origin, "'%s' has no data.tar member: not a Debian binary package", package);
		else
			rc = tar_read_at(package, data.offset, data.size, &d->origin, r->blob_fd, add_tar_member, &c);
	}
	if (fd >= 0)
		close(fd);
	free(package);
	return rc;
}

/* --- debian: packages resolved, fetched and configured outside mkimage --- */

int apply_debian(struct resolver *r, const struct directive *d)
{
	struct directive tar = *d;
	char *argv[2];
	if (r->debian_suite && strcmp(r->debian_suite, d->argv[0]))
		return error_at(&d->origin, "suite '%s' differs from '%s' at %s:%d: an image has one suite",
				d->argv[0], r->debian_suite, r->debian_at.file, r->debian_at.line);
	if (r->debian_request) {
		if (!r->debian_suite)
			strlist_add(r->debian_request, d->argv[0]);
		for (size_t i = 1; i < d->argc; i++)
			strlist_add(r->debian_request, d->argv[i]);
	}
	if (r->debian_suite)
		return 0; /* the packages accumulate into the one tree */
	r->debian_suite = xstrdup(d->argv[0]);
	r->debian_at = d->origin;
	if (r->debian_request)
		return 0;
	if (!r->debian_tree)
		return error_at(&d->origin, "'debian' needs the configured package tree: build with "
				"make (see docs/debian.md), or give mkimage --debian-tree TAR");
	argv[0] = "";
	argv[1] = (char *)r->debian_tree;
	tar.argv = argv;
	tar.argc = 2;
	return apply_tar(r, &tar);
}

/* --- busybox: the binary plus one symlink per applet it reports --- */

int apply_busybox(struct resolver *r, const struct directive *d)
{
	char *binary = host_path(d, d->argv[0]);
	const char *dir = d->argc > 1 ? d->argv[1] : "";
	char *argv[] = { binary, "--list-full", NULL };
	struct buf list = { 0 };
	struct stat st;
	char *image_bin = NULL, *target = NULL, *line, *save = NULL;
	int rc = -1;

	strlist_add(&r->deps, binary);
	if (stat(binary, &st) < 0 || !S_ISREG(st.st_mode) || access(binary, X_OK) < 0) {
		error_at(&d->origin, "'%s' is not an executable file: install Debian package "
			 "busybox-static or fix the path", binary);
		goto out;
	}
	if (run_capture(argv, &list) != 0 || list.len == 0) {
		error_at(&d->origin, "'%s --list-full' failed: is it BusyBox?", binary);
		goto out;
	}
	image_bin = join_image_path(dir, "bin/busybox", &d->origin);
	target = xasprintf("/%s", image_bin);
	{
		struct entry *e = entry_new(image_bin, ENTRY_FILE, 0755, 0, 0, &d->origin);
		e->content.host_path = xstrdup(binary);
		e->content.size = st.st_size;
		if (tree_add(r->tree, e) < 0)
			goto out;
	}
	for (line = strtok_r(list.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *path = join_image_path(dir, line, &d->origin);
		struct entry *e;
		if (!path)
			goto out;
		if (!strcmp(path, image_bin)) {
			free(path);
			continue;
		}
		e = entry_new(path, ENTRY_SYMLINK, 0777, 0, 0, &d->origin);
		e->target = xstrdup(target);
		free(path);
		if (tree_add(r->tree, e) < 0)
			goto out;
	}
	rc = 0;
out:
	buf_free(&list);
	free(image_bin);
	free(target);
	free(binary);
	return rc;
}

/* --- users and groups --- */

/* Replace the line for the same name, else append. */
static void set_account(struct strlist *l, const char *line)
{
	size_t namelen = strcspn(line, ":");
	for (size_t i = 0; i < l->count; i++) {
		if (!strncmp(l->items[i], line, namelen + 1)) {
			free(l->items[i]);
			l->items[i] = xstrdup(line);
			return;
		}
	}
	strlist_add(l, line);
}

int apply_user(struct resolver *r, const struct directive *d)
{
	char **a = d->argv;
	char *line = xasprintf("%s:x:%u:%u:%s:%s:%s", a[0], d->uid, d->gid, a[0], a[3], a[4]);
	set_account(&r->passwd, line);
	free(line);
	/* no date of last change: no password ageing */
	line = xasprintf("%s:%s::0:99999:7:::", a[0], d->argc > 5 ? a[5] : "!");
	set_account(&r->shadow, line);
	free(line);
	r->accounts_at = d->origin;
	return 0;
}

int apply_group(struct resolver *r, const struct directive *d)
{
	char **a = d->argv;
	char *line = xasprintf("%s:x:%u:%s", a[0], d->gid, d->argc > 2 ? a[2] : "");
	set_account(&r->group, line);
	free(line);
	line = xasprintf("%s:!::%s", a[0], d->argc > 2 ? a[2] : "");
	set_account(&r->gshadow, line);
	free(line);
	r->accounts_at = d->origin;
	return 0;
}

/* Merge the user and group lines into an account file: an entry with the
 * same name is replaced in place, others are appended, and the rest of the
 * file with its mode and owner is kept (Debian's /etc/shadow is 0640
 * root:shadow). Without such a file in the image, one is made with
 * default_mode unless only_merge. */
static int merge_account_file(struct resolver *r, const char *path, unsigned default_mode,
			      const struct strlist *lines, int only_merge)
{
	struct entry *old = tree_lookup(r->tree, path, true), *e;
	struct strlist merged = { 0 };
	struct buf data = { 0 };
	unsigned mode = default_mode, uid = 0, gid = 0;
	if (old && old->type == ENTRY_HARDLINK)
		old = tree_lookup(r->tree, old->target, false);
	if (old && old->type != ENTRY_FILE)
		old = NULL;
	if (!lines->count || (only_merge && !old))
		return 0;
	if (old) {
		struct buf text = { 0 };
		char *line, *save = NULL;
		if (content_read(old, &text) < 0)
			return -1;
		for (line = strtok_r(text.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			strlist_add(&merged, line);
		buf_free(&text);
		mode = old->mode;
		uid = old->uid;
		gid = old->gid;
	}
	for (size_t i = 0; i < lines->count; i++)
		set_account(&merged, lines->items[i]);
	for (size_t i = 0; i < merged.count; i++)
		buf_addf(&data, "%s\n", merged.items[i]);
	e = entry_new(path, ENTRY_FILE, mode, uid, gid, &r->accounts_at);
	if (old)
		for (size_t i = 0; i < old->nxattrs; i++)
			entry_set_xattr(e, old->xattrs[i].name, old->xattrs[i].value, old->xattrs[i].len);
	e->content.data = data.data;
	e->content.size = (off_t)data.len;
	strlist_free(&merged);
	return tree_add(r->tree, e);
}

int resolve_finish(struct resolver *r)
{
	if (merge_account_file(r, "etc/passwd", 0644, &r->passwd, 0) < 0 ||
	    merge_account_file(r, "etc/shadow", 0600, &r->shadow, 0) < 0 ||
	    merge_account_file(r, "etc/group", 0644, &r->group, 0) < 0 ||
	    merge_account_file(r, "etc/gshadow", 0600, &r->gshadow, 1) < 0)
		return -1;
	return 0;
}

/* --- xattr: one extended attribute on an entry already in the image --- */

int apply_xattr(struct resolver *r, const struct directive *d)
{
	struct entry *e = tree_lookup(r->tree, d->argv[0], false);
	const char *v = d->argv[2];
	if (!e)
		return error_at(&d->origin, "xattr '/%s': nothing at that path (declare it first)",
				d->argv[0]);
	if (e->type == ENTRY_HARDLINK) {
		struct entry *file = tree_lookup(r->tree, e->target, false);
		if (file)
			e = file;
	}
	if (!strncmp(v, "0x", 2)) {
		size_t n = strlen(v + 2) / 2;
		char *bytes = xmalloc(n + 1);
		for (size_t i = 0; i < n; i++) {
			unsigned byte;
			sscanf(v + 2 + 2 * i, "%2x", &byte);
			bytes[i] = (char)byte;
		}
		entry_set_xattr(e, d->argv[1], bytes, n);
		free(bytes);
	} else {
		entry_set_xattr(e, d->argv[1], v, strlen(v));
	}
	return 0;
}

/* --- recipes --- */

/* Configuration recipes win over the recipes' content, and say so. */
static void note_replacement(const struct resolver *r, const struct directive *d)
{
	const struct entry *old;
	if (!(d->def->flags & DIRECTIVE_DECLARES))
		return;
	old = tree_lookup(r->tree, d->argv[0], false);
	if (old && old->origin.file)
		fprintf(stderr, "mkimage: note: %s:%d: /%s replaces the %s from %s:%d\n",
			d->origin.file, d->origin.line, old->path, entry_type_name(old->type),
			old->origin.file, old->origin.line);
}

int apply_dir(struct resolver *r, const struct directive *d)
{
	return add_simple(r, d, ENTRY_DIR);
}

int apply_nod(struct resolver *r, const struct directive *d)
{
	return add_simple(r, d, d->devtype == 'b' ? ENTRY_BLK : ENTRY_CHR);
}

int apply_pipe(struct resolver *r, const struct directive *d)
{
	return add_simple(r, d, ENTRY_FIFO);
}

int apply_sock(struct resolver *r, const struct directive *d)
{
	return add_simple(r, d, ENTRY_SOCK);
}

int apply_remove(struct resolver *r, const struct directive *d)
{
	if (tree_remove(r->tree, d->argv[0]) < 0)
		return error_at(&d->origin, "remove '/%s': nothing at that path", d->argv[0]);
	return 0;
}

int apply_prune(struct resolver *r, const struct directive *d)
{
	const char *const *keep = (const char *const *)d->argv + 1;
	int rc = tree_prune(r->tree, d->argv[0], keep, d->argc - 1);
	if (rc < 0)
		return error_at(&d->origin, "prune '/%s': %s", d->argv[0],
				rc == -1 ? "nothing at that path" : "not a directory");
	return 0;
}

int apply_include(struct resolver *r, const struct directive *d)
{
	char *path = host_path(d, d->argv[0]);
	int rc = resolve_recipe(r, path, &d->origin);
	free(path);
	return rc;
}

#define MAX_INCLUDE_DEPTH 64

int resolve_recipe(struct resolver *r, const char *path, const struct origin *at)
{
	struct buf text = { 0 };
	char real[PATH_MAX];
	char *line, *next;
	int lineno = 0, rc = 0;
	const char *file;

	strlist_add(&r->deps, path);
	if (r->includes.count >= MAX_INCLUDE_DEPTH)
		return error_at(at, "include '%s': includes nest deeper than %d", path,
				MAX_INCLUDE_DEPTH);
	if (buf_read_file(path, &text) < 0 || !realpath(path, real)) {
		rc = error_at(at, "recipe '%s': %s", path,
			      errno == EINVAL ? "not a regular file" : strerror(errno));
		buf_free(&text);
		return rc;
	}
	for (size_t i = 0; i < r->includes.count; i++) {
		if (!strcmp(r->includes.items[i], real)) {
			buf_free(&text);
			return error_at(at, "include cycle: '%s' includes itself (through '%s')",
					path, r->includes.items[r->includes.count - 1]);
		}
	}
	if (memchr(text.data, '\0', text.len)) {
		struct origin here = { path, 1 };
		for (const char *p = text.data; *p; p++)
			here.line += *p == '\n';
		buf_free(&text);
		return error_at(&here, "NUL byte: a recipe is a text file");
	}
	strlist_add(&r->includes, real);
	/* origins point at this name for the rest of the run */
	strlist_add(&r->names, path);
	file = r->names.items[r->names.count - 1];
	for (line = text.data; line && rc == 0; line = next) {
		struct directive d;
		struct origin here = { file, ++lineno };
		int got;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		got = recipe_parse_line(line, &here, &d);
		if (got < 0) {
			rc = -1;
			break;
		}
		if (got > 0) {
			if (r->note_replaced)
				note_replacement(r, &d);
			if (!r->debian_request || d.def->apply == apply_include ||
			    d.def->apply == apply_debian)
				rc = d.def->apply(r, &d);
			directive_free(&d);
		}
	}
	free(r->includes.items[--r->includes.count]);
	buf_free(&text);
	return rc;
}
