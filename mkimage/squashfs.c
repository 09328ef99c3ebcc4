/* squashfs images: the tree streamed as a tar archive into squashfs-tools-ng's
 * tar2sqfs, which keeps owners, modes, devices, times and extended
 * attributes without root and without a staged copy of the files. Tar has
 * no sockets: formats.def says squashfs does not keep them. */
#define _GNU_SOURCE
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spawn.h"
#include "tarw.h"

/* A compression choice: "ALG[:LEVEL][,BLOCK]" */
struct squashfs_comp {
	int xz;			/* else zstd */
	int level;		/* 0: the tool's default */
	long block;		/* bytes */
};

/* BLOCK: 4K to 1M, a power of two ("1M", "256K" or bytes) */
static int parse_block(const char *s, long *block)
{
	char *end;
	long n = strtol(s, &end, 10);
	if (end == s)
		return 0;
	if (*end == 'K' || *end == 'k')
		n <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		n <<= 20, end++;
	if (*end || n < 4096 || n > 1048576 || (n & (n - 1)))
		return 0;
	*block = n;
	return 1;
}

/* "zstd" or "xz", then ":LEVEL" (zstd, 1-22), then ",BLOCK". Defaults:
 * zstd 128 KiB blocks, xz 1 MiB (chosen for size: about 10% smaller than
 * 128 KiB, at some cost in reading). */
static int parse_compression(const char *value, struct squashfs_comp *c)
{
	const char *p = value;
	char *end;
	c->level = 0;
	if (!strncmp(p, "zstd", 4))
		c->xz = 0, c->block = 131072, p += 4;
	else if (!strncmp(p, "xz", 2))
		c->xz = 1, c->block = 1048576, p += 2;
	else
		return 0;
	if (*p == ':' && !c->xz) {
		long n = strtol(p + 1, &end, 10);
		if (end == p + 1 || n < 1 || n > 22)
			return 0;
		c->level = (int)n;
		p = end;
	}
	if (*p == ',')
		return parse_block(p + 1, &c->block);
	return *p == '\0';
}

int squashfs_compression_ok(const char *value)
{
	struct squashfs_comp c;
	return parse_compression(value, &c);
}

int write_squashfs(const struct image *img, const struct image_opts *o)
{
	char *log = xasprintf("%s/tar2sqfs.log", o->workdir);
	char defaults[64], extra[32], block[24];
	int fds[2] = { -1, -1 }, log_fd = -1, rc = 0, n = 11;
	struct squashfs_comp c = { 0, 0, 131072 };
	char *argv[16] = { "tar2sqfs", "--quiet", "--force", "--compressor", "zstd",
			   "--num-jobs", "2", "--defaults", defaults, "--block-size", block };
	pid_t pid = -1;

	parse_compression(o->compress, &c);
	argv[4] = c.xz ? "xz" : "zstd";
	snprintf(defaults, sizeof(defaults), "mtime=%lld", o->epoch);
	snprintf(block, sizeof(block), "%ld", c.block);
	if (c.level) {
		snprintf(extra, sizeof(extra), "level=%d", c.level);
		argv[n++] = "--comp-extra";
		argv[n++] = extra;
	}
	argv[n++] = (char *)o->tmp_out;
	if ((log_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		rc = error("%s: %s", log, strerror(errno));
	if (rc == 0 && pipe2(fds, O_CLOEXEC) < 0)
		rc = error("pipe: %s", strerror(errno));
	if (rc == 0) {
		/* a bigger pipe means fewer switches between writer and reader */
		fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
		pid = spawn_io(argv, fds[0], log_fd, log_fd);
		close(fds[0]);
		rc = pid < 0 ? -1 : tar_write(img->entries, img->count, o->epoch, fds[1]);
		close(fds[1]);
	}
	if (pid > 0 && spawn_wait(pid, argv[0]) != 0 && rc == 0)
		rc = -1;
	if (log_fd >= 0)
		close(log_fd);
	if (rc < 0 && pid > 0) {
		struct buf text = { 0 };
		if (buf_read_file(log, &text) == 0 && text.len)
			fprintf(stderr, "%s", text.data);
		buf_free(&text);
		error("tar2sqfs failed on %s (Debian package squashfs-tools-ng)", o->out);
	}
	free(log);
	return rc;
}
