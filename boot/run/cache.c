/* Housekeeping of the cache (unpacked bundles, ~/.cache/umlkit/DIGEST) and
 * of run directories. Liveness is a lock, never a PID: every run holds a
 * shared lock on its cache entry's ".lock" (and bumps its time, the "last
 * used" the eviction reads) and an exclusive one on its run directory's
 * "lock". A lock that can be taken belongs to no live run. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "run.h"

#define ORPHAN_GRACE_SECONDS 60	/* a run directory without its lock yet */
#define UNPACK_GRACE_SECONDS 3600	/* an unpack still under way */

int cache_lock_entry(const char *entry)
{
	char *path = xasprintf("%s/.lock", entry);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	free(path);
	if (fd < 0 || flock(fd, LOCK_SH) < 0 || futimens(fd, NULL) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* 1 if no run holds DIR's lock file NAME (and it stays ours, locked, in
 * *fd), 0 if one does, -1 if there is no such file. */
static int lock_if_unused(const char *dir, const char *name, int *fd)
{
	char *path = xasprintf("%s/%s", dir, name);
	*fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	free(path);
	if (*fd < 0)
		return -1;
	if (flock(*fd, LOCK_EX | LOCK_NB) < 0) {
		close(*fd);
		*fd = -1;
		return 0;
	}
	return 1;
}

static int older_than(const struct stat *st, long seconds)
{
	return time(NULL) - st->st_mtime > seconds;
}

void cache_sweep_runs(const char *tmpbase)
{
	DIR *d = opendir(tmpbase);
	struct dirent *e;
	if (!d)
		return;
	while ((e = readdir(d))) {
		struct stat st;
		char *path;
		int fd, unused;
		/* mkdtemp's names only: umlkit-run.XXXXXX */
		if (strncmp(e->d_name, "umlkit-run.", 11) || strlen(e->d_name) != 17)
			continue;
		path = xasprintf("%s/%s", tmpbase, e->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == getuid()) {
			unused = lock_if_unused(path, "lock", &fd);
			if (unused == 1 || (unused < 0 && older_than(&st, ORPHAN_GRACE_SECONDS)))
				remove_tree(path);
			if (fd >= 0)
				close(fd);
		}
		free(path);
	}
	closedir(d);
}

static int is_digest(const char *name)
{
	return strspn(name, "0123456789abcdef") == 64 && name[64] == '\0';
}

/* What boot.sh leaves of a killed unpack (DIGEST.tmp.PID) or removal
 * (DIGEST.evict-PID): the only other names the runtime may remove. */
static int is_leftover(const char *name)
{
	const char *rest = name + 64;
	if (strspn(name, "0123456789abcdef") != 64)
		return 0;
	if (!strncmp(rest, ".tmp.", 5))
		rest += 5;
	else if (!strncmp(rest, ".evict-", 7))
		rest += 7;
	else
		return 0;
	return *rest && strspn(rest, "0123456789") == strlen(rest);
}

/* A cache entry boot.sh made: a digest name holding its stamp. The
 * directory is shared with other tools (the build's kernel cache lives in
 * ~/.cache/umlkit/kernels): nothing else is ever listed or removed. */
static int is_entry(const char *path, const char *name)
{
	char *stamp;
	struct stat st;
	int ok;
	if (!is_digest(name))
		return 0;
	stamp = xasprintf("%s/.stamp", path);
	ok = lstat(stamp, &st) == 0 && S_ISREG(st.st_mode);
	free(stamp);
	return ok;
}

/* Remove entry PATH if no run uses it: renamed first, so no run starts
 * from a half-removed entry. */
static int remove_entry(const char *path)
{
	int fd, rc = -1;
	if (lock_if_unused(path, ".lock", &fd) == 0)
		return -1;
	char *doomed = xasprintf("%s.evict-%d", path, (int)getpid());
	if (rename(path, doomed) == 0)
		rc = remove_tree(doomed);
	free(doomed);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Disk space used by PATH, never following symlinks. */
static long long disk_usage(const char *path)
{
	struct stat st;
	struct dirent *e;
	long long sum;
	DIR *d;
	if (lstat(path, &st) < 0)
		return 0;
	sum = (long long)st.st_blocks * 512;
	if (!S_ISDIR(st.st_mode) || !(d = opendir(path)))
		return sum;
	while ((e = readdir(d))) {
		char *sub;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		sub = xasprintf("%s/%s", path, e->d_name);
		sum += disk_usage(sub);
		free(sub);
	}
	closedir(d);
	return sum;
}

/* Calls FN on every cache entry and unpack leftover below ENTRY's parent,
 * and on nothing else there. */
static void for_each_entry(const char *entry, void (*fn)(const char *path, const char *name,
							  const struct stat *st, void *ctx), void *ctx)
{
	char *copy = xstrdup(entry), *root = dirname(copy);
	DIR *d = opendir(root);
	struct dirent *e;
	if (d) {
		while ((e = readdir(d))) {
			struct stat st;
			char *path;
			if (e->d_name[0] == '.')
				continue;
			path = xasprintf("%s/%s", root, e->d_name);
			if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == getuid() &&
			    (is_leftover(e->d_name) || is_entry(path, e->d_name)))
				fn(path, e->d_name, &st, ctx);
			free(path);
		}
		closedir(d);
	}
	free(copy);
}

/* Last use of entry PATH: its lock's time (bumped by every run). */
static time_t last_used(const char *path, const struct stat *st)
{
	struct stat lock;
	char *lock_path = xasprintf("%s/.lock", path);
	time_t t = lstat(lock_path, &lock) == 0 ? lock.st_mtime : st->st_mtime;
	free(lock_path);
	return t;
}

/* The bundle.conf name of entry PATH ("" if unreadable), malloc'd. */
static char *entry_name(const char *path)
{
	char *conf_path = xasprintf("%s/bundle.conf", path), *name;
	struct bundle_conf conf;
	char *data = read_file_nofollow(conf_path, CONF_MAX, NULL);
	free(conf_path);
	if (!data)
		return xstrdup("");
	conf_parse(data, &conf);
	name = xstrdup(conf.name);
	free(data);
	return name;
}

struct evict_ctx {
	const char *keep;
	char *keep_name;
	long max_age;
	/* the other entries of the same bundle name, for the per-name cap */
	char *paths[CACHE_MAX_SAME_NAME];
	time_t used[CACHE_MAX_SAME_NAME];
	int n;
};

static void evict_one(const char *path, const char *name, const struct stat *st, void *ctx)
{
	struct evict_ctx *c = ctx;
	char *same;
	time_t t;
	if (!strcmp(path, c->keep))
		return;
	if (is_leftover(name)) {
		if (older_than(st, UNPACK_GRACE_SECONDS))
			remove_tree(path);
		return;
	}
	t = last_used(path, st);
	if (time(NULL) - t > c->max_age) {
		remove_entry(path);
		return;
	}
	same = entry_name(path);
	if (!strcmp(same, c->keep_name) && c->n < CACHE_MAX_SAME_NAME) {
		c->paths[c->n] = xstrdup(path);
		c->used[c->n++] = t;
	}
	free(same);
}

/* The cap on all entries together: UMLKIT_CACHE_MAX (a size such as 2G;
 * 0: none), else CACHE_MAX_BYTES. A bad value is said, and ignored: the
 * run is not the place to stop for it. */
long long cache_max_bytes(const char *prog)
{
	const char *value = getenv("UMLKIT_CACHE_MAX");
	unsigned long long bytes;
	if (!value || !*value)
		return CACHE_MAX_BYTES;
	if (parse_size(value, &bytes) < 0 || bytes > (unsigned long long)LLONG_MAX) {
		say(prog, "note: UMLKIT_CACHE_MAX='%s' is not a size such as 2G: the cache is capped at %lld GiB",
		    value, CACHE_MAX_BYTES >> 30);
		return CACHE_MAX_BYTES;
	}
	return bytes ? (long long)bytes : LLONG_MAX;
}

/* The entries other than the current one, for the total cap. */
struct size_ctx {
	const char *keep;
	char *paths[CACHE_MAX_ENTRIES];
	time_t used[CACHE_MAX_ENTRIES];
	long long bytes[CACHE_MAX_ENTRIES];
	int n;
	long long total;
};

static void size_one(const char *path, const char *name, const struct stat *st, void *ctx)
{
	struct size_ctx *c = ctx;
	long long bytes = disk_usage(path);
	c->total += bytes;
	if (!strcmp(path, c->keep) || is_leftover(name) || c->n == CACHE_MAX_ENTRIES)
		return;
	c->paths[c->n] = xstrdup(path);
	c->used[c->n] = last_used(path, st);
	c->bytes[c->n++] = bytes;
}

/* While the entries hold more than MAX_BYTES together, the one used
 * longest ago goes (one in use stays): lab runs and rebuilds of many
 * configurations once filled a disk within the 30 days. */
static void cap_total(const char *entry, long long max_bytes)
{
	struct size_ctx c = { .keep = entry };
	for_each_entry(entry, size_one, &c);
	while (c.n > 0) {
		int oldest = 0;
		for (int i = 1; i < c.n; i++)
			if (c.used[i] < c.used[oldest])
				oldest = i;
		if (c.total > max_bytes && remove_entry(c.paths[oldest]) == 0)
			c.total -= c.bytes[oldest];
		free(c.paths[oldest]);
		c.paths[oldest] = c.paths[c.n - 1];
		c.used[oldest] = c.used[c.n - 1];
		c.bytes[oldest] = c.bytes[--c.n];
	}
}

/* Entries unused for MAX_AGE_DAYS go, and of the other entries with this
 * bundle's name (earlier builds of one configuration) all but the
 * KEEP_SAME_NAME - 1 used last: every rebuild unpacks a new entry. Then,
 * the ones used longest ago while all of them hold more than MAX_BYTES. */
void cache_evict(const char *entry, long max_age_days, int keep_same_name, long long max_bytes)
{
	struct evict_ctx c = { .keep = entry, .keep_name = entry_name(entry), .max_age = max_age_days * 86400 };
	for_each_entry(entry, evict_one, &c);
	for (int kept = 1; c.n > 0; c.n--) {
		int newest = 0;
		for (int i = 1; i < c.n; i++)
			if (c.used[i] > c.used[newest])
				newest = i;
		if (++kept > keep_same_name)
			remove_entry(c.paths[newest]);
		free(c.paths[newest]);
		c.paths[newest] = c.paths[c.n - 1];
		c.used[newest] = c.used[c.n - 1];
	}
	free(c.keep_name);
	cap_total(entry, max_bytes);
}

static void show_one(const char *path, const char *name, const struct stat *st, void *ctx)
{
	char *conf_name;
	int fd, unused;
	(void)ctx;
	if (is_leftover(name)) {
		printf("%-16.16s %8.1f MiB  (left by an interrupted run)\n", name, (double)disk_usage(path) / (1 << 20));
		return;
	}
	unused = lock_if_unused(path, ".lock", &fd);
	if (fd >= 0)
		close(fd);
	conf_name = entry_name(path);
	printf("%-16.16s %8.1f MiB  used %3ld days ago  %-12s %s\n", name, (double)disk_usage(path) / (1 << 20),
	       (long)(time(NULL) - last_used(path, st)) / 86400, unused == 0 ? "(in use)" : "",
	       *conf_name ? conf_name : "?");
	free(conf_name);
}

int cache_show(const char *entry)
{
	char *copy = xstrdup(entry);
	printf("cache: %s\n", dirname(copy));
	free(copy);
	for_each_entry(entry, show_one, NULL);
	return 0;
}

struct clear_ctx {
	int removed, kept;
};

static void clear_one(const char *path, const char *name, const struct stat *st, void *ctx)
{
	struct clear_ctx *c = ctx;
	(void)st;
	if (is_leftover(name) ? remove_tree(path) == 0 : remove_entry(path) == 0)
		c->removed++;
	else
		c->kept++;
}

int cache_clear(const char *entry, const char *prog)
{
	struct clear_ctx c = { 0, 0 };
	for_each_entry(entry, clear_one, &c);
	say(prog, "removed %d cache entries%s", c.removed, c.kept ? "; kept the ones in use" : "");
	return 0;
}
