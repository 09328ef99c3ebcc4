#include "tree.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void tree_init(struct tree *t)
{
	memset(t, 0, sizeof(*t));
	t->nslots = 1024;
	t->slots = xcalloc(t->nslots, sizeof(*t->slots));
}

void entry_free(struct entry *e)
{
	for (size_t i = 0; i < e->nxattrs; i++) {
		free(e->xattrs[i].name);
		free(e->xattrs[i].value);
	}
	free(e->xattrs);
	free(e->path);
	free(e->target);
	free(e->content.host_path);
	free(e->content.data);
	free(e);
}

void tree_free(struct tree *t)
{
	for (size_t i = 0; i < t->count; i++)
		entry_free(t->entries[i]);
	free(t->entries);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

unsigned entry_type_bits(enum entry_type type)
{
	switch (type) {
	case ENTRY_DIR: return S_IFDIR;
	case ENTRY_SYMLINK: return S_IFLNK;
	case ENTRY_CHR: return S_IFCHR;
	case ENTRY_BLK: return S_IFBLK;
	case ENTRY_FIFO: return S_IFIFO;
	case ENTRY_SOCK: return S_IFSOCK;
	default: return S_IFREG;
	}
}

const char *entry_type_name(enum entry_type type)
{
	static const char *const names[] = {
		"file", "dir", "slink", "char device", "block device",
		"pipe", "sock", "hard link",
	};
	return names[type];
}

struct entry *entry_new(const char *path, enum entry_type type, unsigned mode,
			unsigned uid, unsigned gid, const struct origin *at)
{
	struct entry *e = xcalloc(1, sizeof(*e));
	e->path = xstrdup(path);
	e->type = type;
	e->mode = mode & 07777;
	e->uid = uid;
	e->gid = gid;
	e->mtime = -1;
	if (at)
		e->origin = *at;
	return e;
}

void entry_set_xattr(struct entry *e, const char *name, const void *value, size_t len)
{
	size_t i = 0;
	while (i < e->nxattrs && strcmp(e->xattrs[i].name, name) < 0)
		i++;
	if (i == e->nxattrs || strcmp(e->xattrs[i].name, name)) {
		e->xattrs = xrealloc(e->xattrs, (e->nxattrs + 1) * sizeof(*e->xattrs));
		memmove(e->xattrs + i + 1, e->xattrs + i, (e->nxattrs - i) * sizeof(*e->xattrs));
		e->nxattrs++;
		e->xattrs[i].name = xstrdup(name);
	} else {
		free(e->xattrs[i].value);
	}
	e->xattrs[i].value = xmalloc(len + 1);
	memcpy(e->xattrs[i].value, value, len);
	e->xattrs[i].value[len] = '\0';
	e->xattrs[i].len = len;
}

long long entry_mtime(const struct entry *e, long long epoch)
{
	return e->mtime < 0 || e->mtime > epoch ? epoch : e->mtime;
}

/* Strip leading, trailing and double slashes and "." components. A ".."
 * is refused (-1) unless in_root, where it goes up one component and at
 * the root stays there, as for a process chrooted into the image. */
static int normalize(char *path, bool in_root)
{
	char *out = path;
	const char *p = path;
	while (*p) {
		const char *start;
		size_t len;
		while (*p == '/')
			p++;
		start = p;
		while (*p && *p != '/')
			p++;
		len = (size_t)(p - start);
		if (len == 0 || (len == 1 && start[0] == '.'))
			continue;
		if (len == 2 && start[0] == '.' && start[1] == '.') {
			if (!in_root)
				return -1;
			while (out > path && *--out != '/')
				;
			continue;
		}
		if (out != path)
			*out++ = '/';
		memmove(out, start, len);
		out += len;
	}
	*out = '\0';
	return 0;
}

int path_normalize(char *path)
{
	return normalize(path, false);
}

static uint64_t hash_path(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

/* Slot holding path, or the empty slot where it would go. */
static size_t *find_slot(const struct tree *t, const char *path)
{
	size_t i = hash_path(path) & (t->nslots - 1);
	for (;; i = (i + 1) & (t->nslots - 1)) {
		size_t *slot = &t->slots[i];
		if (*slot == 0 || (*slot != SIZE_MAX &&
				   strcmp(t->entries[*slot - 1]->path, path) == 0))
			return slot;
	}
}

static void rehash(struct tree *t)
{
	free(t->slots);
	t->used = t->live;
	if (t->live * 4 > t->nslots)
		t->nslots *= 2;
	t->slots = xcalloc(t->nslots, sizeof(*t->slots));
	for (size_t i = 0; i < t->count; i++)
		if (!t->entries[i]->removed)
			*find_slot(t, t->entries[i]->path) = i + 1;
}

struct entry *tree_find(const struct tree *t, const char *path)
{
	size_t *slot = find_slot(t, path);
	return *slot ? t->entries[*slot - 1] : NULL;
}

/* Open addressing: a removed entry leaves a tombstone (SIZE_MAX) that
 * lookups step over; rehash() drops them. */
static void unlink_entry(struct tree *t, struct entry *e)
{
	*find_slot(t, e->path) = SIZE_MAX;
	e->removed = true;
	t->live--;
}

static void remove_below(struct tree *t, const char *path)
{
	size_t len = strlen(path);
	for (size_t i = 0; i < t->count; i++) {
		struct entry *e = t->entries[i];
		if (e->removed)
			continue;
		if (len == 0 ? e->path[0] != '\0'
			     : (strncmp(e->path, path, len) == 0 && e->path[len] == '/')) {
			unlink_entry(t, e);
		}
	}
}

static void append(struct tree *t, struct entry *e)
{
	if (t->count == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 256;
		t->entries = xrealloc(t->entries, t->cap * sizeof(*t->entries));
	}
	t->entries[t->count++] = e;
	t->live++;
	t->used++;
	if (t->used * 2 > t->nslots)
		rehash(t);
	*find_slot(t, e->path) = t->count;
}

#define MAX_SYMLINKS 40

/* Follow symlinks in the components of path (the last one too when
 * follow_last). Returns the resolved path, or NULL with *why set: "loop",
 * or the entry that is in the way (a non-directory used as a parent). */
static char *resolve_path(const struct tree *t, const char *path, bool follow_last,
			  const struct entry **in_way, int *loop)
{
	char *cur = xstrdup(path);
	size_t pos = 0;
	int links = 0;
	*in_way = NULL;
	*loop = 0;
	while (cur[pos]) {
		char *end = strchr(cur + pos, '/');
		bool last = !end;
		struct entry *e;
		if (last && !follow_last)
			break;
		if (end)
			*end = '\0';
		e = tree_find(t, cur);
		if (e && e->type == ENTRY_SYMLINK) {
			char *base = xstrdup(cur), *slash = strrchr(base, '/'), *next;
			if (++links > MAX_SYMLINKS) {
				free(base);
				free(cur);
				*loop = 1;
				return NULL;
			}
			if (slash)
				*slash = '\0';
			else
				base[0] = '\0';
			next = xasprintf("%s/%s%s%s", e->target[0] == '/' ? "" : base, e->target,
					 end ? "/" : "", end ? end + 1 : "");
			normalize(next, true);
			free(base);
			free(cur);
			cur = next;
			pos = 0;
			continue;
		}
		if (end)
			*end = '/';
		if (!e)
			break; /* nothing below a missing name exists either */
		if (e->type != ENTRY_DIR && !last) {
			*in_way = e;
			free(cur);
			return NULL;
		}
		pos = end ? (size_t)(end - cur) + 1 : strlen(cur);
	}
	return cur;
}

struct entry *tree_lookup(const struct tree *t, const char *path, bool follow_last)
{
	const struct entry *in_way;
	int loop;
	char *real = resolve_path(t, path, follow_last, &in_way, &loop);
	struct entry *e = real ? tree_find(t, real) : NULL;
	free(real);
	return e;
}

/* Put e at its path with parent symlinks followed; -1 after an error. */
static int place(struct tree *t, struct entry *e)
{
	const struct entry *in_way;
	int loop;
	char *real = resolve_path(t, e->path, false, &in_way, &loop);
	if (real && e->type == ENTRY_DIR) {
		const struct entry *old = tree_find(t, real);
		if (old && old->type == ENTRY_SYMLINK) {
			char *dir = resolve_path(t, real, true, &in_way, &loop);
			const struct entry *target = dir ? tree_find(t, dir) : NULL;
			if (target && target->type == ENTRY_DIR) {
				free(real);
				real = dir;
			} else {
				free(dir);
			}
		}
	}
	if (!real && loop)
		return error_at(&e->origin, "'/%s': too many levels of symbolic links (over %d)",
				e->path, MAX_SYMLINKS);
	if (!real)
		return error_at(&e->origin, "'/%s': '/%s' is a %s, not a directory", e->path,
				in_way->path, entry_type_name(in_way->type));
	free(e->path);
	e->path = real;
	return 0;
}

static int check_names(const struct entry *e)
{
	const char *p = e->path;
	if (!p[0] && e->type != ENTRY_DIR)
		return error_at(&e->origin, "the image root '/' can only be a directory, not a %s",
				entry_type_name(e->type));
	while (*p) {
		size_t len = strcspn(p, "/");
		if (len > 255)
			return error_at(&e->origin, "'/%s': a name is %zu bytes long; the limit is 255",
					e->path, len);
		p += len + (p[len] == '/');
	}
	if (e->type == ENTRY_SYMLINK && strlen(e->target) > 4095)
		return error_at(&e->origin, "'/%s': the symlink target is longer than 4095 bytes",
				e->path);
	return 0;
}

static int ensure_parents(struct tree *t, const char *path, const struct origin *at)
{
	char *parent = xstrdup(path);
	int rc = 0;
	for (char *p = parent; (p = strchr(p, '/')); *p++ = '/') {
		struct entry *e;
		*p = '\0';
		e = tree_find(t, parent);
		if (!e) {
			append(t, entry_new(parent, ENTRY_DIR, 0755, 0, 0, at));
		} else if (e->type != ENTRY_DIR) {
			rc = error_at(at, "'/%s': parent '/%s' is a %s, not a directory",
				      path, parent, entry_type_name(e->type));
			break;
		}
	}
	free(parent);
	return rc;
}

int tree_add(struct tree *t, struct entry *e)
{
	struct entry *old;
	if (check_names(e) < 0 || place(t, e) < 0) {
		entry_free(e);
		return -1;
	}
	if (!tree_find(t, "") && e->path[0] != '\0')
		append(t, entry_new("", ENTRY_DIR, 0755, 0, 0, &e->origin));
	if (ensure_parents(t, e->path, &e->origin) < 0) {
		entry_free(e);
		return -1;
	}
	old = tree_find(t, e->path);
	if (old) {
		if (old->type == ENTRY_DIR && e->type != ENTRY_DIR)
			remove_below(t, e->path);
		unlink_entry(t, old);
	}
	append(t, e);
	return 0;
}

int tree_remove(struct tree *t, const char *path)
{
	const struct entry *in_way;
	int loop;
	char *real = resolve_path(t, path, false, &in_way, &loop);
	struct entry *e = real ? tree_find(t, real) : NULL;
	if (e) {
		remove_below(t, real);
		unlink_entry(t, e);
	}
	free(real);
	return e ? 0 : -1;
}

static bool below(const char *path, const char *dir, size_t len)
{
	return len == 0 ? path[0] != '\0' : strncmp(path, dir, len) == 0 && path[len] == '/';
}

static bool kept_name(const char *path, const char *const *keep, size_t nkeep)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	for (size_t i = 0; i < nkeep; i++)
		if (!strcmp(base, keep[i]))
			return true;
	return false;
}

/* Mark the directories from E's parent up to, not including, the one
 * LEN bytes long (the pruned directory) as leading to a kept entry. */
static void mark_parents(const struct tree *t, const struct entry *e, size_t len, bool *needed)
{
	char *p = xstrdup(e->path), *slash;
	while ((slash = strrchr(p, '/')) && (size_t)(slash - p) > len) {
		*slash = '\0';
		size_t *slot = find_slot(t, p);
		if (*slot && *slot != SIZE_MAX)
			needed[*slot - 1] = true;
	}
	free(p);
}

int tree_prune(struct tree *t, const char *path, const char *const *keep, size_t nkeep)
{
	const struct entry *in_way;
	int loop;
	char *real = resolve_path(t, path, true, &in_way, &loop);
	struct entry *top = real ? tree_find(t, real) : NULL;
	bool *needed;
	size_t len;
	if (!top || top->type != ENTRY_DIR) {
		free(real);
		return top ? -2 : -1;
	}
	len = strlen(real);
	for (size_t i = 0; i < t->count; i++) {
		struct entry *e = t->entries[i];
		if (!e->removed && e->type != ENTRY_DIR && below(e->path, real, len) &&
		    !kept_name(e->path, keep, nkeep))
			unlink_entry(t, e);
	}
	needed = xcalloc(t->count, sizeof(*needed));
	for (size_t i = 0; i < t->count; i++) {
		struct entry *e = t->entries[i];
		if (!e->removed && e->type != ENTRY_DIR && below(e->path, real, len))
			mark_parents(t, e, len, needed);
	}
	for (size_t i = 0; i < t->count; i++) {
		struct entry *e = t->entries[i];
		if (!e->removed && e->type == ENTRY_DIR && !needed[i] && below(e->path, real, len))
			unlink_entry(t, e);
	}
	free(needed);
	free(real);
	return 0;
}

/* Component-wise order: "a/b" sorts before "a-b" because '/' sorts first. */
static int path_cmp(const void *a, const void *b)
{
	const unsigned char *x = (const unsigned char *)(*(struct entry *const *)a)->path;
	const unsigned char *y = (const unsigned char *)(*(struct entry *const *)b)->path;
	for (; *x && *x == *y; x++, y++)
		;
	if (*x == *y)
		return 0;
	if (*x == '/')
		return *y ? -1 : 1;
	if (*y == '/')
		return *x ? 1 : -1;
	return *x < *y ? -1 : 1;
}

int tree_finish(struct tree *t, struct entry ***out, size_t *count)
{
	struct entry **list;
	size_t n = 0;
	int rc = 0;

	if (!tree_find(t, ""))
		append(t, entry_new("", ENTRY_DIR, 0755, 0, 0, NULL));
	list = xcalloc(t->live, sizeof(*list));
	for (size_t i = 0; i < t->count; i++) {
		struct entry *e = t->entries[i];
		if (e->removed)
			continue;
		e->nlink = 1;
		list[n++] = e;
	}
	for (size_t i = 0; i < n; i++) {
		struct entry *e = list[i], *file;
		if (e->type != ENTRY_HARDLINK)
			continue;
		file = tree_lookup(t, e->target, false);
		if (!file) {
			rc = error_at(&e->origin, "hard link '/%s' to '/%s': no such file in the image",
				      e->path, e->target);
			continue;
		}
		if (file->type == ENTRY_HARDLINK && file->link_primary)
			file = file->link_primary;
		if (file->type != ENTRY_FILE) {
			rc = error_at(&e->origin, "hard link '/%s' to '/%s': not a regular file (%s)",
				      e->path, e->target, entry_type_name(file->type));
			continue;
		}
		e->link_primary = file;
		file->nlink++;
	}
	qsort(list, n, sizeof(*list), path_cmp);
	for (size_t i = 0; i < n; i++)
		list[i]->ino = i + 1;
	*out = list;
	*count = n;
	return rc;
}
