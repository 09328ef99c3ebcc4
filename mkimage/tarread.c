#define _GNU_SOURCE
#include "tarread.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn.h"
#include "util.h"

struct reader {
	int fd;
	off_t pos;
	const char *archive;
};

/* Read exactly len bytes; 0 at a clean end of file before any byte. */
static int read_exact(struct reader *r, void *data, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(r->fd, (char *)data + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error("%s: read: %s", r->archive, strerror(errno));
		if (n == 0)
			return got ? error("%s: truncated archive at byte %lld", r->archive,
					   (long long)(r->pos + (off_t)got)) : 0;
		got += (size_t)n;
	}
	r->pos += (off_t)len;
	return 1;
}

/* Copy (or with out_fd < 0 skip) size bytes plus padding to 512. */
static int copy_data(struct reader *r, off_t size, int out_fd)
{
	char chunk[65536];
	off_t left = (size + 511) / 512 * 512;
	off_t payload = size;
	while (left > 0) {
		size_t n = left < (off_t)sizeof(chunk) ? (size_t)left : sizeof(chunk);
		int rc = read_exact(r, chunk, n);
		if (rc <= 0)
			return rc == 0 ? error("%s: truncated archive", r->archive) : -1;
		if (out_fd >= 0 && payload > 0) {
			size_t w = payload < (off_t)n ? (size_t)payload : n;
			if (write_all(out_fd, chunk, w) < 0)
				return error("writing temporary data: %s", strerror(errno));
			payload -= (off_t)w;
		}
		left -= (off_t)n;
	}
	return 0;
}

static unsigned long long octal(const char *field, size_t len, int *bad)
{
	unsigned long long v = 0;
	size_t i = 0;
	if ((unsigned char)field[0] & 0x80) { /* GNU base-256 */
		for (i = 1; i < len; i++)
			v = (v << 8) | (unsigned char)field[i];
		return v;
	}
	while (i < len && (field[i] == ' ' || field[i] == '\0'))
		i++;
	for (; i < len && field[i] >= '0' && field[i] <= '7'; i++)
		v = v * 8 + (unsigned)(field[i] - '0');
	if (i < len && field[i] != ' ' && field[i] != '\0')
		*bad = 1;
	return v;
}

static int checksum_ok(const unsigned char *h)
{
	unsigned long sum = 0;
	int bad = 0;
	for (int i = 0; i < 512; i++)
		sum += (i >= 148 && i < 156) ? ' ' : h[i];
	return octal((const char *)h + 148, 8, &bad) == sum && !bad;
}

static char *read_long(struct reader *r, off_t size)
{
	char *s;
	if (size <= 0 || size > (1 << 20)) {
		error("%s: bad long name record at byte %lld", r->archive, (long long)r->pos);
		return NULL;
	}
	s = xmalloc((size_t)size + 512);
	if (read_exact(r, s, (size_t)((size + 511) / 512 * 512)) <= 0) {
		error("%s: truncated archive", r->archive);
		free(s);
		return NULL;
	}
	s[size] = '\0';
	return s;
}

/* Apply pax records "LEN key=value\n" we care about. */
static void apply_pax(char *data, size_t size, struct tar_member *m, char **path, char **link)
{
	char *p = data, *end = data + size;
	while (p < end) {
		char *sp, *eq, *rec_end;
		unsigned long len = strtoul(p, &sp, 10);
		if (len == 0 || sp >= end || *sp != ' ' || p + len > end)
			return;
		rec_end = p + len - 1; /* the newline */
		*rec_end = '\0';
		eq = strchr(sp + 1, '=');
		if (eq) {
			*eq = '\0';
			if (!strcmp(sp + 1, "path")) {
				free(*path);
				*path = xstrdup(eq + 1);
			} else if (!strcmp(sp + 1, "linkpath")) {
				free(*link);
				*link = xstrdup(eq + 1);
			} else if (!strcmp(sp + 1, "size")) {
				m->size = (off_t)strtoull(eq + 1, NULL, 10);
			} else if (!strcmp(sp + 1, "uid")) {
				m->uid = (unsigned)strtoul(eq + 1, NULL, 10);
			} else if (!strcmp(sp + 1, "gid")) {
				m->gid = (unsigned)strtoul(eq + 1, NULL, 10);
			}
		}
		p += len;
	}
}

static const char *decompressor(const unsigned char *magic, size_t n)
{
	if (n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b)
		return "gzip";
	if (n >= 6 && !memcmp(magic, "\xfd" "7zXZ\0", 6))
		return "xz";
	if (n >= 4 && !memcmp(magic, "\x28\xb5\x2f\xfd", 4))
		return "zstd";
	if (n >= 3 && !memcmp(magic, "BZh", 3))
		return "bzip2";
	return NULL;
}

static int read_members(struct reader *r, int blob_fd,
			int (*member)(void *, const struct tar_member *), void *ctx)
{
	unsigned char h[512];
	char *long_path = NULL, *long_link = NULL;
	struct tar_member pax = { 0 };
	int have_pax = 0, rc = 0;
	off_t blob_pos = lseek(blob_fd, 0, SEEK_END);

	for (;;) {
		struct tar_member m = { 0 };
		int bad = 0, got = read_exact(r, h, sizeof(h));
		off_t header_at = r->pos - 512;
		if (got < 0) {
			rc = -1;
			break;
		}
		if (got == 0 || h[0] == '\0') /* end-of-archive blocks */
			break;
		if (!checksum_ok(h)) {
			rc = error("%s: corrupt tar header at byte %lld (is it a tar archive?)",
				   r->archive, (long long)header_at);
			break;
		}
		m.type = h[156] ? (char)h[156] : '0';
		m.mode = (unsigned)octal((char *)h + 100, 8, &bad) & 07777;
		m.uid = (unsigned)octal((char *)h + 108, 8, &bad);
		m.gid = (unsigned)octal((char *)h + 116, 8, &bad);
		m.size = (off_t)octal((char *)h + 124, 12, &bad);
		m.major = (unsigned)octal((char *)h + 329, 8, &bad);
		m.minor = (unsigned)octal((char *)h + 337, 8, &bad);
		if (bad) {
			rc = error("%s: bad number in tar header at byte %lld", r->archive,
				   (long long)header_at);
			break;
		}
		if (m.type == 'L' || m.type == 'K') {
			char *s = read_long(r, m.size);
			if (!s) {
				rc = -1;
				break;
			}
			free(m.type == 'L' ? long_path : long_link);
			*(m.type == 'L' ? &long_path : &long_link) = s;
			continue;
		}
		if (m.type == 'x' || m.type == 'g') {
			char *s = read_long(r, m.size);
			if (!s) {
				rc = -1;
				break;
			}
			if (m.type == 'x') {
				memset(&pax, 0, sizeof(pax));
				pax.size = -1;
				pax.uid = pax.gid = ~0u;
				apply_pax(s, (size_t)m.size, &pax, &long_path, &long_link);
				have_pax = 1;
			}
			free(s);
			continue;
		}
		if (have_pax) {
			if (pax.size >= 0)
				m.size = pax.size;
			if (pax.uid != ~0u)
				m.uid = pax.uid;
			if (pax.gid != ~0u)
				m.gid = pax.gid;
			have_pax = 0;
		}
		if (long_path) {
			m.path = long_path;
			long_path = NULL;
		} else {
			char name[257] = { 0 };
			if (h[345] && !memcmp(h + 257, "ustar", 5)) {
				memcpy(name, h + 345, 155);
				strcat(name, "/");
			}
			memcpy(name + strlen(name), h, strnlen((char *)h, 100));
			m.path = xstrdup(name);
		}
		if (long_link) {
			m.linkname = long_link;
			long_link = NULL;
		} else {
			char link[101] = { 0 };
			memcpy(link, h + 157, 100);
			m.linkname = xstrdup(link);
		}
		if (m.type == '0' || m.type == '7') {
			m.type = '0';
			m.blob_offset = blob_pos;
			rc = copy_data(r, m.size, blob_fd);
			blob_pos += m.size;
		} else {
			rc = copy_data(r, m.size, -1);
		}
		if (rc == 0)
			rc = member(ctx, &m);
		free(m.path);
		free(m.linkname);
		if (rc < 0)
			break;
	}
	free(long_path);
	free(long_link);
	return rc;
}

int tar_read(const char *archive, int blob_fd,
	     int (*member)(void *, const struct tar_member *), void *ctx)
{
	unsigned char magic[6];
	struct reader r = { .archive = archive };
	const char *tool;
	ssize_t n;
	pid_t pid = -1;
	int fd, rc;

	fd = open(archive, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error("%s: %s", archive, strerror(errno));
	n = pread(fd, magic, sizeof(magic), 0);
	tool = decompressor(magic, n > 0 ? (size_t)n : 0);
	r.fd = fd;
	if (tool) {
		int fds[2];
		char *argv[] = { (char *)tool, "-dc", NULL };
		if (pipe2(fds, O_CLOEXEC) < 0) {
			close(fd);
			return error("pipe: %s", strerror(errno));
		}
		pid = spawn(argv, fd, fds[1]);
		close(fds[1]);
		close(fd);
		if (pid < 0) {
			close(fds[0]);
			return -1;
		}
		r.fd = fds[0];
	}
	rc = read_members(&r, blob_fd, member, ctx);
	close(r.fd);
	if (pid > 0) {
		int status = spawn_wait(pid, tool);
		if (rc == 0 && status != 0)
			rc = error("%s: %s could not decompress it", archive, tool);
	}
	return rc;
}
