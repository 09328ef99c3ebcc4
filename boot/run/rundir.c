/* The run directory: where UML's memory file, the copy-on-write files and
 * the files the guest init reads live, one per run, removed at exit. Its
 * "lock" file is held locked for the run's whole life, so the next run can
 * tell a directory a killed run left (unlocked) from a live one. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "run.h"

#define MIN_FREE_MIB 32

/* UML maps guest memory from a file in TMPDIR and executes it: the
 * directory must be writable, not noexec, and its path plain enough for
 * UML's command line. */
static const char *tmpbase_problem(const char *dir, unsigned long long *free_mib)
{
	struct statvfs vfs;
	if (access(dir, W_OK | X_OK) < 0 || statvfs(dir, &vfs) < 0)
		return "not a writable directory";
	if (vfs.f_flag & ST_NOEXEC)
		return "mounted noexec";
	if (!path_is_plain(dir))
		return "its path has a space, comma or quote";
	*free_mib = (unsigned long long)vfs.f_bavail * vfs.f_frsize >> 20;
	return NULL;
}

void rundir_pick_tmpbase(struct run *r)
{
	const char *env = getenv("TMPDIR"), *candidates[] = { env, "/dev/shm", "/tmp" };
	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		const char *dir = candidates[i], *why;
		unsigned long long free_mib = 0;
		if (!dir || !*dir)
			continue;
		why = tmpbase_problem(dir, &free_mib);
		if (!why && free_mib < MIN_FREE_MIB)
			die(EX_HOST, r->prog, "%s has only %llu MiB free: UML needs at least %d MiB there for "
			    "guest memory and copy-on-write files; free some or set TMPDIR", dir, free_mib, MIN_FREE_MIB);
		if (why) {
			if (dir == env)
				say(r->prog, "TMPDIR=%s is not usable (%s): UML maps guest memory there; trying %s",
				    env, why, candidates[i + 1]);
			continue;
		}
		snprintf(r->tmpbase, sizeof(r->tmpbase), "%s", dir);
		return;
	}
	die(EX_HOST, r->prog, "no writable directory without noexec for UML's memory file: set TMPDIR to one");
}

void rundir_create(struct run *r)
{
	int n = snprintf(r->dir, sizeof(r->dir), "%s/umlkit-run.XXXXXX", r->tmpbase);
	char *lock, *locking;
	if (n < 0 || (size_t)n >= sizeof(r->dir) || !mkdtemp(r->dir))
		die(EX_HOST, r->prog, "cannot create a run directory in %s: %s", r->tmpbase, strerror(errno));
	/* Locked under another name, then renamed: another run's sweep
	 * (cache_sweep_runs) takes a directory whose "lock" is free as left
	 * behind, and must never find this one's between open and flock. */
	lock = xasprintf("%s/lock", r->dir);
	locking = xasprintf("%s/lock.new", r->dir);
	r->lock_fd = open(locking, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (r->lock_fd < 0 || flock(r->lock_fd, LOCK_EX) < 0 || rename(locking, lock) < 0) {
		int e = errno;
		remove_tree(r->dir);
		die(EX_HOST, r->prog, "cannot lock %s: %s", lock, strerror(e));
	}
	free(lock);
	free(locking);
}

static int link_into_run(struct run *r, const char *target, const char *name)
{
	char *path = xasprintf("%s/%s", r->dir, name);
	int rc = symlink(target, path);
	if (rc < 0)
		say(r->prog, "cannot create %s: %s", path, strerror(errno));
	free(path);
	return rc;
}

/* Names in the run directory: bN the bundled image (a link into the
 * cache), cN its copy-on-write file, pN the --persist copy, xN --disk,
 * sN --share (hostfs reaches it through the link). */
int rundir_prepare(struct run *r)
{
	char *disks = xstrdup(r->conf.disks), *words[MAX_DISKS], name[32];
	int n = split_words(disks, words, MAX_DISKS), rc = 0;
	/* a squashfs or EROFS root: the guest writes to a tmpfs overlay */
	if (r->opt.persist && strstr(r->conf.cmdline, "umlkit.overlay"))
		say(r->prog, "note: --persist: this bundle's root image is read-only under a tmpfs "
			     "overlay: its writes are not kept (an ext4 root keeps them)");
	for (int i = 0; i < n && rc == 0; i++) {
		char *cached = xasprintf("%s/%s", r->entry, words[i]);
		if (r->opt.persist) {
			char *kept = xasprintf("%s/%s", r->opt.persist, words[i]);
			if (access(kept, F_OK) < 0 && copy_sparse(cached, kept) < 0) {
				say(r->prog, "--persist: cannot write %s: %s", kept, strerror(errno));
				rc = EX_USAGE;
			}
			snprintf(name, sizeof(name), "p%d", i);
			if (rc == 0 && link_into_run(r, kept, name) < 0)
				rc = EX_HOST;
			free(kept);
		} else {
			snprintf(name, sizeof(name), "b%d", i);
			if (link_into_run(r, cached, name) < 0)
				rc = EX_HOST;
		}
		free(cached);
	}
	for (int i = 0; i < r->opt.n_disks && rc == 0; i++) {
		snprintf(name, sizeof(name), "x%d", i);
		if (link_into_run(r, r->opt.disks[i], name) < 0)
			rc = EX_HOST;
	}
	for (int i = 0; i < r->opt.n_shares && rc == 0; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		if (link_into_run(r, r->opt.shares[i].host, name) < 0)
			rc = EX_HOST;
	}
	if (*r->conf.initrd && rc == 0) {
		char *cached = xasprintf("%s/%s", r->entry, r->conf.initrd);
		if (link_into_run(r, cached, "initrd") < 0)
			rc = EX_HOST;
		free(cached);
	}
	free(disks);
	return rc;
}

/* The size an initramfs unpacks to: gzip records it (modulo 4 GiB) in its
 * last four bytes, an uncompressed cpio is its own size; 0 if unknown. */
static unsigned long long unpacked_size(const char *path, unsigned long long packed)
{
	unsigned char head[2], tail[4];
	unsigned long long size = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (pread(fd, head, 2, 0) == 2 && head[0] == 0x1f && head[1] == 0x8b) {
		if (packed >= 4 && pread(fd, tail, 4, (off_t)packed - 4) == 4)
			size = tail[0] | tail[1] << 8 | (unsigned long long)tail[2] << 16 |
			       (unsigned long long)tail[3] << 24;
	} else if (pread(fd, head, 2, 0) == 2 && head[0] == '0' && head[1] == '7') {
		size = packed;
	}
	close(fd);
	return size;
}

/* The bundle's initramfs root: its size and what it unpacks to (0 when
 * unknown); -1 without one. */
int rundir_initrd_sizes(const struct run *r, unsigned long long *packed, unsigned long long *unpacked)
{
	char *path;
	struct stat st;
	int rc;
	if (!*r->conf.initrd)
		return -1;
	path = xasprintf("%s/%s", r->entry, r->conf.initrd);
	rc = stat(path, &st);
	if (rc == 0) {
		*packed = (unsigned long long)st.st_size;
		*unpacked = unpacked_size(path, *packed);
	}
	free(path);
	return rc;
}

/* Guest memory that holds an initramfs root with room: a Debian tree
 * (200 MiB unpacked, 72 MiB packed) ran out at 320 MiB and booted at
 * 350 MiB; this asks for 372 MiB there. */
unsigned long long rundir_initrd_mem_hint(unsigned long long packed, unsigned long long unpacked)
{
	return (packed + unpacked) * 5 / 4 + (32ULL << 20);
}

/* An initramfs lives in guest memory (packed, then unpacked): a --mem that
 * cannot even hold both is refused here; a tight one that runs out while
 * unpacking is explained after the crash (supervise.c). */
int rundir_check_memory(const struct run *r)
{
	unsigned long long mem = r->opt.mem, packed, unpacked;
	if (rundir_initrd_sizes(r, &packed, &unpacked) < 0 || !unpacked)
		return 0;
	if (!mem && parse_size(r->conf.mem, &mem) < 0)
		return 0;
	if (mem >= packed + unpacked + (16ULL << 20))
		return 0;
	say(r->prog, "the initramfs root unpacks to %llu MiB (%llu MiB packed), more than the guest's "
	    "%llu MiB of memory: run with --mem %lluM or more", unpacked >> 20, packed >> 20, mem >> 20,
	    rundir_initrd_mem_hint(packed, unpacked) >> 20);
	return EX_USAGE;
}

/* Without --disk-limit, the run directory (in RAM when it is /dev/shm) is
 * capped all the same: the memory file, a copy-on-write file as large as
 * each image, the spooled stdin, and DISK_SLACK for the init's files and
 * what the guest writes there through hostfs. */
void rundir_default_disk_limit(struct run *r)
{
	unsigned long long mem = r->opt.mem, sum = DISK_SLACK;
	char *disks = xstrdup(r->conf.disks), *words[MAX_DISKS], *path;
	struct stat st;
	int n = split_words(disks, words, MAX_DISKS);
	if (r->opt.guard.disk_limit_set)
		goto out;
	if (!mem && parse_size(r->conf.mem, &mem) < 0)
		mem = 0;
	sum += mem;
	for (int i = 0; i < n; i++) {
		path = xasprintf("%s/%s", r->entry, words[i]);
		if (stat(path, &st) == 0)
			sum += (unsigned long long)st.st_size;
		free(path);
	}
	path = xasprintf("%s/stdin", r->dir);
	if (stat(path, &st) == 0)
		sum += (unsigned long long)st.st_size;
	free(path);
	r->opt.guard.disk_limit = sum;
out:
	free(disks);
}

/* Before a retry: fresh copy-on-write files. */
int rundir_reset_cows(struct run *r)
{
	for (int i = 0; i < MAX_DISKS; i++) {
		char *cow = xasprintf("%s/c%d.cow", r->dir, i);
		int rc = unlink(cow);
		free(cow);
		if (rc < 0 && errno != ENOENT)
			return -1;
	}
	return 0;
}

char **rundir_uml_argv(struct run *r, char **cons, int n_cons)
{
	char *cmdline = xstrdup(r->conf.cmdline), *disks = xstrdup(r->conf.disks);
	char *words[MAX_APPEND], *images[MAX_DISKS];
	int n_words = split_words(cmdline, words, MAX_APPEND);
	int n_images = split_words(disks, images, MAX_DISKS), n = 0, ubd = 0;
	char **argv = xcalloc((size_t)(n_words > 0 ? n_words : 0) + (size_t)n_cons + MAX_DISKS * 2 +
			      MAX_APPEND + 16, sizeof(char *));

	argv[n++] = xasprintf("%s/linux", r->entry);
	if (r->opt.mem)
		argv[n++] = xasprintf("mem=%lluK", r->opt.mem >> 10);
	else
		argv[n++] = xasprintf("mem=%s", r->conf.mem);
	for (int i = 0; i < n_images; i++, ubd++) {
		if (r->opt.persist)
			argv[n++] = xasprintf("ubd%d=%s/p%d", ubd, r->dir, i);
		else
			argv[n++] = xasprintf("ubd%d=%s/c%d.cow,%s/b%d", ubd, r->dir, i, r->dir, i);
	}
	for (int i = 0; i < r->opt.n_disks; i++, ubd++)
		argv[n++] = xasprintf("ubd%d%s=%s/x%d", ubd, r->opt.disk_readonly[i] ? "r" : "", r->dir, i);
	if (*r->conf.initrd)
		argv[n++] = xasprintf("initrd=%s/initrd", r->dir);
	for (int i = 0; i < n_words; i++)
		argv[n++] = words[i];
	argv[n++] = "con=null";
	for (int i = 0; i < n_cons; i++)
		argv[n++] = cons[i];
	argv[n++] = "ssl=null";
	argv[n++] = "noreboot";
	/* no fallback devices (tunl0, gre0, sit0, ...) beside lo: a guest's
	 * own tunnels work without them (--append fb_tunnels=initns: back) */
	argv[n++] = "fb_tunnels=none";
	/* KUnit prints its results at the info level: never quiet */
	if (!r->opt.verbose && !r->kunit)
		argv[n++] = "quiet";
	if (r->opt.kunit.filter)
		argv[n++] = xasprintf("kunit.filter_glob=%s", r->opt.kunit.filter);
	if (r->opt.time_travel)
		argv[n++] = "time-travel=inf-cpu";
	argv[n++] = xasprintf("uml_dir=%s", r->dir);
	argv[n++] = "umid=run";
	if (r->opt.guard.sandbox == SANDBOX_OFF) {
		argv[n++] = xasprintf("umlkit.run=%s", r->dir);
	} else {
		/* hostfs mounts resolve below the run directory only */
		argv[n++] = xasprintf("hostfs=%s", r->dir);
		argv[n++] = "umlkit.run=/";
	}
	for (int i = 0; i < r->opt.n_append; i++)
		argv[n++] = r->opt.append[i];
	argv[n] = NULL;
	return argv;
}
