#define _GNU_SOURCE
#include "content.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/sendfile.h>
#include <unistd.h>

int content_write(const struct entry *e, int out_fd)
{
	const struct content *c = &e->content;
	char chunk[131072];
	off_t left = c->size, pos = c->offset;
	int fd;

	if (!c->host_path)
		return write_all(out_fd, c->data, (size_t)c->size) < 0
			? error("writing /%s: %s", e->path, strerror(errno)) : 0;
	fd = open(c->host_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_at(&e->origin, "host file '%s': %s", c->host_path, strerror(errno));
	/* in-kernel copy where the output allows it (pipes and files do) */
	while (left > 0) {
		ssize_t n = sendfile(out_fd, fd, &pos, (size_t)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		left -= n;
	}
	while (left > 0) {
		size_t want = left < (off_t)sizeof(chunk) ? (size_t)left : sizeof(chunk);
		ssize_t n = pread(fd, chunk, want, pos);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return error_at(&e->origin, "host file '%s' %s while the image was written",
					c->host_path, n < 0 ? strerror(errno) : "shrank");
		}
		if (write_all(out_fd, chunk, (size_t)n) < 0) {
			int saved = errno;
			close(fd);
			return error("writing /%s: %s", e->path, strerror(saved));
		}
		left -= n;
		pos += n;
	}
	close(fd);
	return 0;
}

int content_read(const struct entry *e, struct buf *out)
{
	const struct content *c = &e->content;
	off_t done = 0;
	int fd;
	buf_add(out, "", 0);
	if (!c->host_path) {
		buf_add(out, c->data, (size_t)c->size);
		return 0;
	}
	fd = open_regular(c->host_path);
	if (fd < 0)
		return error_at(&e->origin, "host file '%s': %s", c->host_path, strerror(errno));
	while (done < c->size) {
		char chunk[65536];
		size_t want = c->size - done < (off_t)sizeof(chunk) ? (size_t)(c->size - done) : sizeof(chunk);
		ssize_t n = pread(fd, chunk, want, c->offset + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return error_at(&e->origin, "host file '%s': %s", c->host_path,
					n < 0 ? strerror(errno) : "shorter than expected");
		}
		buf_add(out, chunk, (size_t)n);
		done += n;
	}
	close(fd);
	return 0;
}
