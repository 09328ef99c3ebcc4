#define _GNU_SOURCE
#include "tarread.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn.h"
#include "util.h"

struct reader {
	int fd;
	off_t pos;
	off_t size; /* of an uncompressed archive, read in place */
	const char *archive;
	const struct origin *at; /* the tar directive */
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
			return error_at(r->at, "%s: read: %s", r->archive, strerror(errno));
		if (n == 0)
			return got ? error_at(r->at, "%s: truncated archive at byte %lld", r->archive,
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
			return rc == 0 ? error_at(r->at, "%s: truncated archive", r->archive) : -1;
		if (out_fd >= 0 && payload > 0) {
			size_t w = payload < (off_t)n ? (size_t)payload : n;
			if (write_all(out_fd, chunk, w) < 0)
				return error_at(r->at, "writing temporary data: %s", strerror(errno));
			payload -= (off_t)w;
		}
		left -= (off_t)n;
	}
	return 0;
}

/* Skip size bytes plus padding to 512 without reading them. */
static int skip_data(struct reader *r, off_t size)
{
	off_t len = (size + 511) / 512 * 512;
	if (size < 0 || r->pos + size > r->size)
		return error_at(r->at, "%s: truncated archive at byte %lld", r->archive, (long long)r->size);
	if (lseek(r->fd, len, SEEK_CUR) < 0)
		return error_at(r->at, "%s: seek: %s", r->archive, strerror(errno));
	r->pos += len;
	return 0;
}

/* Numbers above this are refused: sizes and times fit in an off_t. */
#define NUMBER_MAX 0x3fffffffffffffffULL

static unsigned long long octal(const char *field, size_t len, int *bad)
{
	unsigned long long v = 0;
	size_t i = 0;
	if ((unsigned char)field[0] & 0x80) { /* GNU base-256 */
		for (i = 1; i < len; i++) {
			if (v > (NUMBER_MAX >> 8)) {
				*bad = 1;
				return 0;
			}
			v = (v << 8) | (unsigned char)field[i];
		}
		return v;
	}
	while (i < len && (field[i] == ' ' || field[i] == '\0'))
		i++;
	for (; i < len && field[i] >= '0' && field[i] <= '7'; i++)
		v = v * 8 + (unsigned)(field[i] - '0'); /* 11 digits: no overflow */
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
		error_at(r->at, "%s: bad long name record at byte %lld", r->archive, (long long)r->pos);
		return NULL;
	}
	s = xmalloc((size_t)size + 512);
	if (read_exact(r, s, (size_t)((size + 511) / 512 * 512)) <= 0) {
		error_at(r->at, "%s: truncated archive", r->archive);
		free(s);
		return NULL;
	}
	s[size] = '\0';
	return s;
}

static void add_xattr(struct tar_member *m, const char *name, const char *value, size_t len)
{
	m->xattrs = xrealloc(m->xattrs, (m->nxattrs + 1) * sizeof(*m->xattrs));
	m->xattrs[m->nxattrs].name = xstrdup(name);
	m->xattrs[m->nxattrs].value = xmalloc(len + 1);
	memcpy(m->xattrs[m->nxattrs].value, value, len);
	m->xattrs[m->nxattrs].value[len] = '\0';
	m->xattrs[m->nxattrs++].len = len;
}

static void free_xattrs(struct tar_member *m)
{
	for (size_t i = 0; i < m->nxattrs; i++) {
		free(m->xattrs[i].name);
		free(m->xattrs[i].value);
	}
	free(m->xattrs);
	m->xattrs = NULL;
	m->nxattrs = 0;
}

/* libarchive's names are %-escaped and its values base64. */
static void add_libarchive_xattr(struct tar_member *m, const char *name, const char *value)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *n = xstrdup(name), *o = n, *bytes = xmalloc(strlen(value) + 1);
	size_t len = 0;
	unsigned acc = 0;
	int bits = 0;
	for (const char *p = name; *p; p++) {
		unsigned hi, lo;
		if (*p == '%' && sscanf(p + 1, "%1x%1x", &hi, &lo) == 2) {
			*o++ = (char)(hi * 16 + lo);
			p += 2;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	for (const char *p = value; *p && *p != '='; p++) {
		const char *d = strchr(b64, *p);
		if (!d)
			continue;
		acc = acc << 6 | (unsigned)(d - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			bytes[len++] = (char)(acc >> bits);
		}
	}
	add_xattr(m, n, bytes, len);
	free(n);
	free(bytes);
}

/* Apply pax records "LEN key=value\n" we care about. Returns -1 for a
 * sparse member (GNU.sparse.*), which would need its map applied. */
static int apply_pax(char *data, size_t size, struct tar_member *m, char **path, char **link)
{
	char *p = data, *end = data + size;
	while (p < end) {
		char *sp, *eq, *rec_end;
		unsigned long len = strtoul(p, &sp, 10);
		if (len == 0 || sp >= end || *sp != ' ' || len > (size_t)(end - p))
			return 0;
		rec_end = p + len - 1; /* the newline */
		*rec_end = '\0';
		eq = memchr(sp + 1, '=', (size_t)(rec_end - sp - 1));
		if (eq) {
			*eq = '\0';
			if (!strncmp(sp + 1, "GNU.sparse.", 11))
				return -1;
			if (!strncmp(sp + 1, "SCHILY.xattr.", 13)) {
				add_xattr(m, sp + 14, eq + 1, (size_t)(rec_end - eq - 1));
			} else if (!strncmp(sp + 1, "LIBARCHIVE.xattr.", 17)) {
				add_libarchive_xattr(m, sp + 18, eq + 1);
			} else if (!strcmp(sp + 1, "mtime")) {
				m->mtime = strtoll(eq + 1, NULL, 10);
			} else if (!strcmp(sp + 1, "path")) {
				free(*path);
				*path = xstrdup(eq + 1);
			} else if (!strcmp(sp + 1, "linkpath")) {
				free(*link);
				*link = xstrdup(eq + 1);
			} else if (!strcmp(sp + 1, "size")) {
				unsigned long long v = strtoull(eq + 1, NULL, 10);
				m->size = v > NUMBER_MAX ? -2 : (off_t)v;
			} else if (!strcmp(sp + 1, "uid")) {
				m->uid = (unsigned)strtoul(eq + 1, NULL, 10);
			} else if (!strcmp(sp + 1, "gid")) {
				m->gid = (unsigned)strtoul(eq + 1, NULL, 10);
			}
		}
		p += len;
	}
	return 0;
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

/* What extension headers (GNU L/K, pax x) say about the member after them. */
struct pending {
	char *long_path, *long_link;
	struct tar_member pax;
	int have_pax;
};

/* The ustar header H's own fields into *M; -1 after an error. */
static int parse_header(struct reader *r, const unsigned char *h, off_t at, const struct pending *p,
			struct tar_member *m)
{
	int bad = 0;
	if (!checksum_ok(h))
		return error_at(r->at, "%s: corrupt tar header at byte %lld (is it a tar archive?)", r->archive,
				(long long)at);
	m->type = h[156] ? (char)h[156] : '0';
	m->mode = (unsigned)octal((char *)h + 100, 8, &bad) & 07777;
	m->uid = (unsigned)octal((char *)h + 108, 8, &bad);
	m->gid = (unsigned)octal((char *)h + 116, 8, &bad);
	m->size = (off_t)octal((char *)h + 124, 12, &bad);
	m->mtime = (long long)octal((char *)h + 136, 12, &bad);
	m->major = (unsigned)octal((char *)h + 329, 8, &bad);
	m->minor = (unsigned)octal((char *)h + 337, 8, &bad);
	if (bad || (p->have_pax && p->pax.size == -2))
		return error_at(r->at, "%s: bad number in tar header at byte %lld", r->archive, (long long)at);
	if (m->type == 'S')
		return error_at(r->at, "%s: member at byte %lld is a GNU sparse file, which the tar directive "
				"does not read: make the archive without --sparse", r->archive, (long long)at);
	return 0;
}

/* An extension header (GNU long name or link, pax): its data kept in *P
 * for the next member. 1 if M was one, 0 if not, -1 after an error. */
static int take_extension(struct reader *r, const struct tar_member *m, off_t at, struct pending *p)
{
	char *s;
	if (!strchr("LKxg", m->type))
		return 0;
	if (!(s = read_long(r, m->size)))
		return -1;
	if (m->type == 'L' || m->type == 'K') {
		free(m->type == 'L' ? p->long_path : p->long_link);
		*(m->type == 'L' ? &p->long_path : &p->long_link) = s;
		return 1;
	}
	if (m->type == 'x') {
		free_xattrs(&p->pax);
		memset(&p->pax, 0, sizeof(p->pax));
		p->pax.size = -1;
		p->pax.mtime = -1;
		p->pax.uid = p->pax.gid = ~0u;
		if (apply_pax(s, (size_t)m->size, &p->pax, &p->long_path, &p->long_link) < 0) {
			free(s);
			return error_at(r->at, "%s: member at byte %lld is a sparse file (pax GNU.sparse), which "
					"the tar directive does not read: make the archive without --sparse",
					r->archive, (long long)at);
		}
		p->have_pax = 1;
	}
	free(s);
	return 1;
}

/* What the extension headers before it say, and its names, into *M. */
static void apply_pending(const unsigned char *h, struct pending *p, struct tar_member *m)
{
	char name[257] = { 0 }, link[101] = { 0 };
	if (p->have_pax) {
		if (p->pax.size >= 0)
			m->size = p->pax.size;
		if (p->pax.uid != ~0u)
			m->uid = p->pax.uid;
		if (p->pax.gid != ~0u)
			m->gid = p->pax.gid;
		if (p->pax.mtime >= 0)
			m->mtime = p->pax.mtime;
		m->xattrs = p->pax.xattrs;
		m->nxattrs = p->pax.nxattrs;
		p->pax.xattrs = NULL;
		p->pax.nxattrs = 0;
		p->have_pax = 0;
	}
	if (h[345] && !memcmp(h + 257, "ustar", 5)) {
		memcpy(name, h + 345, strnlen((char *)h + 345, 155));
		strcat(name, "/");
	}
	memcpy(name + strlen(name), h, strnlen((char *)h, 100));
	memcpy(link, h + 157, 100);
	m->path = p->long_path ? p->long_path : xstrdup(name);
	m->linkname = p->long_link ? p->long_link : xstrdup(link);
	p->long_path = p->long_link = NULL;
}

/* The member's data: a file's left in the archive (IN_PLACE) or copied to
 * the blob at *BLOB_POS; anything else's skipped. */
static int member_data(struct reader *r, struct tar_member *m, int in_place, int blob_fd, off_t *blob_pos)
{
	if (m->type != '0' && m->type != '7')
		return in_place ? skip_data(r, m->size) : copy_data(r, m->size, -1);
	m->type = '0';
	if (in_place) {
		m->blob_offset = r->pos;
		m->in_archive = 1;
		return skip_data(r, m->size);
	}
	m->blob_offset = *blob_pos;
	*blob_pos += m->size;
	return copy_data(r, m->size, blob_fd);
}

static int read_members(struct reader *r, int blob_fd, int in_place,
			int (*member)(void *, const struct tar_member *), void *ctx)
{
	unsigned char h[512];
	struct pending p = { 0 };
	int rc = 0;
	off_t blob_pos = lseek(blob_fd, 0, SEEK_END);

	for (;;) {
		struct tar_member m = { 0 };
		int got = read_exact(r, h, sizeof(h)), ext;
		off_t header_at = r->pos - 512;
		if (got < 0) {
			rc = -1;
			break;
		}
		if (got == 0 || h[0] == '\0') /* end-of-archive blocks */
			break;
		if (parse_header(r, h, header_at, &p, &m) < 0 || (ext = take_extension(r, &m, header_at, &p)) < 0) {
			rc = -1;
			break;
		}
		if (ext)
			continue;
		apply_pending(h, &p, &m);
		rc = member_data(r, &m, in_place, blob_fd, &blob_pos);
		if (rc == 0)
			rc = member(ctx, &m);
		free(m.path);
		free(m.linkname);
		free_xattrs(&m);
		if (rc < 0)
			break;
	}
	free_xattrs(&p.pax);
	free(p.long_path);
	free(p.long_link);
	return rc;
}

/* A child that copies bytes [START, START+LEN) of FD into a pipe: the
 * decompressor's stdin for an archive inside another file (a .deb). The
 * read end, or -1. */
static int feed_window(int fd, off_t start, off_t len, pid_t *pid)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return error("pipe: %s", strerror(errno));
	*pid = fork();
	if (*pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return error("fork: %s", strerror(errno));
	}
	if (*pid == 0) {
		char chunk[65536];
		signal(SIGPIPE, SIG_DFL);
		while (len > 0) {
			ssize_t n = pread(fd, chunk, len < (off_t)sizeof(chunk) ? (size_t)len : sizeof(chunk), start);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0 || write_all(fds[1], chunk, (size_t)n) < 0)
				_exit(1);
			start += n;
			len -= n;
		}
		_exit(0);
	}
	close(fds[1]);
	return fds[0];
}

/* The archive's decompressed stream into *R (R->fd), through TOOL; the
 * children to wait for in PIDS. 0 or -1. */
static int open_stream(struct reader *r, int fd, off_t start, off_t length, const char *tool, pid_t pids[2])
{
	char *argv[] = { (char *)tool, "-dc", NULL };
	int in = fd, out[2];
	if (length >= 0 && (in = feed_window(fd, start, length, &pids[1])) < 0)
		return -1;
	if (length < 0 && lseek(fd, start, SEEK_SET) < 0)
		return error_at(r->at, "%s: seek: %s", r->archive, strerror(errno));
	if (pipe2(out, O_CLOEXEC) < 0)
		return error("pipe: %s", strerror(errno));
	pids[0] = spawn(argv, in, out[1]);
	close(out[1]);
	if (in != fd)
		close(in);
	if (pids[0] < 0) {
		close(out[0]);
		return -1;
	}
	r->fd = out[0];
	return 0;
}

static void drain(int fd)
{
	char buf[65536];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		;
}

int tar_read_at(const char *archive, off_t start, off_t length, const struct origin *at, int blob_fd,
		int (*member)(void *, const struct tar_member *), void *ctx)
{
	unsigned char magic[6];
	struct reader r = { .archive = archive, .at = at, .pos = start };
	const char *tool;
	ssize_t n;
	pid_t pids[2] = { -1, -1 };
	struct stat st;
	int fd, rc;

	/* O_NONBLOCK: a FIFO named as an archive must not hang the build */
	fd = open(archive, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return error_at(at, "%s: %s", archive, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return error_at(at, "%s: not a regular file (a FIFO or device cannot be an archive)", archive);
	}
	if (fcntl(fd, F_SETFL, 0) < 0 || lseek(fd, start, SEEK_SET) < 0) {
		close(fd);
		return error_at(at, "%s: %s", archive, strerror(errno));
	}
	n = pread(fd, magic, sizeof(magic), start);
	tool = decompressor(magic, n > 0 ? (size_t)n : 0);
	r.fd = fd;
	r.size = length >= 0 ? start + length : st.st_size;
	if (tool) {
		rc = open_stream(&r, fd, start, length, tool, pids);
		close(fd);
		if (rc < 0)
			return -1;
	}
	rc = read_members(&r, blob_fd, !tool, member, ctx);
	/* The archive ends at its zero blocks, but the decompressor may still
	 * be writing the record's padding: read it to the end, or it dies of
	 * SIGPIPE (seen with xz in .deb files, 1 run in 6). */
	if (tool && rc == 0)
		drain(r.fd);
	close(r.fd);
	for (int i = 0; i < 2; i++) {
		int status = pids[i] > 0 ? spawn_wait(pids[i], i ? "the archive's reader" : tool) : 0;
		if (rc == 0 && status != 0)
			rc = error_at(at, "%s: %s could not decompress it", archive, tool);
	}
	return rc;
}

int tar_read(const char *archive, const struct origin *at, int blob_fd,
	     int (*member)(void *, const struct tar_member *), void *ctx)
{
	return tar_read_at(archive, 0, -1, at, blob_fd, member, ctx);
}
