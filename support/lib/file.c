/* Whole files, writes that finish, tree removal (hostlib.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostlib.h"

static char *read_open(const char *path, int flags, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | flags);
	size_t size = 0, cap = 4096;
	struct stat st;
	char *data;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	data = xmalloc(cap);
	while (size < max) {
		size_t want;
		ssize_t n;
		if (size + 1 >= cap)
			data = xrealloc(data, cap *= 2);
		want = cap - size - 1 < max - size ? cap - size - 1 : max - size;
		n = read(fd, data + size, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			free(data);
			close(fd);
			errno = e;
			return NULL;
		}
		if (n == 0)
			break;
		size += (size_t)n;
	}
	close(fd);
	data[size] = '\0';
	if (len)
		*len = size;
	return data;
}

char *read_file(const char *path, size_t max, size_t *len)
{
	return read_open(path, 0, max, len);
}

char *read_file_nofollow(const char *path, size_t max, size_t *len)
{
	return read_open(path, O_NOFOLLOW, max, len);
}

int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

int remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	return nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}
