/* The runtime's own file helpers (the shared ones: support/lib). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "run.h"

/* Write DATA to PATH (created 0600); -1 with errno on failure. */
int write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	const char *p = data;
	if (fd < 0)
		return -1;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return close(fd);
}

/* Copy FROM to TO keeping holes (data disks are mostly holes): written
 * under a temporary name and renamed, so a killed copy leaves no half file. */
int copy_sparse(const char *from, const char *to)
{
	char *tmp = xasprintf("%s.tmp-%d", to, (int)getpid());
	int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, e;
	struct stat st;
	off_t data = 0, hole;

	if (in < 0 || fstat(in, &st) < 0)
		goto fail;
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0 || ftruncate(out, st.st_size) < 0)
		goto fail;
	while ((data = lseek(in, data, SEEK_DATA)) >= 0) {
		hole = lseek(in, data, SEEK_HOLE);
		if (hole < 0)
			goto fail;
		while (data < hole) {
			char buf[65536];
			size_t want = (size_t)(hole - data) < sizeof(buf) ? (size_t)(hole - data) : sizeof(buf);
			ssize_t n = pread(in, buf, want, data);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0 || pwrite(out, buf, (size_t)n, data) != n)
				goto fail;
			data += n;
		}
	}
	if (errno != ENXIO)
		goto fail;
	if (close(out) < 0) {
		out = -1;
		goto fail;
	}
	close(in);
	if (rename(tmp, to) < 0) {
		e = errno;
		unlink(tmp);
		free(tmp);
		errno = e;
		return -1;
	}
	free(tmp);
	return 0;
fail:
	e = errno;
	if (in >= 0)
		close(in);
	if (out >= 0) {
		close(out);
		unlink(tmp);
	}
	free(tmp);
	errno = e;
	return -1;
}

/* UML's command line splits on spaces and its ubd option on commas. */
int path_is_plain(const char *path)
{
	return !strpbrk(path, " \t\n,\"");
}

/* Is DIR a real directory of this user's alone? */
static int ours_alone(const char *dir)
{
	struct stat st;
	return lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == getuid() && !(st.st_mode & 077);
}

/* This user's directory NAME for sockets and state: $XDG_RUNTIME_DIR/NAME,
 * else /tmp/NAME-UID; made if missing, and used only if it is a real
 * directory of this user's, closed to others. Another user can make
 * /tmp/NAME-UID first: then NAME-UID.1 to .9 are tried, in that order, so
 * every run of this user's still meets in the same one. -1 (said why)
 * when none is left. */
int private_dir(const char *prog, const char *name, char *dir, size_t size)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	if (xdg && *xdg == '/' && stat(xdg, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == getuid()) {
		snprintf(dir, size, "%s/%s", xdg, name);
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			say(prog, "cannot create %s: %s", dir, strerror(errno));
			return -1;
		}
		if (ours_alone(dir))
			return 0;
		say(prog, "%s is not yours alone (a symlink, another owner, or open to others): remove it", dir);
		return -1;
	}
	for (int k = 0; k < 10; k++) {
		if (k)
			snprintf(dir, size, "/tmp/%s-%u.%d", name, (unsigned)getuid(), k);
		else
			snprintf(dir, size, "/tmp/%s-%u", name, (unsigned)getuid());
		if ((mkdir(dir, 0700) == 0 || errno == EEXIST) && ours_alone(dir))
			return 0;
	}
	say(prog, "/tmp/%s-%u and .1 to .9 are all taken by others: set XDG_RUNTIME_DIR to a directory of "
	    "your own", name, (unsigned)getuid());
	return -1;
}

/* Milliseconds on the monotonic clock. */
long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
