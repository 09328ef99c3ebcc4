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

/* "zstd", "zstd:LEVEL" (1-22) or "xz"; the level into *level (0: the
 * tool's default), when LEVEL is given */
static int parse_compression(const char *value, int *level)
{
	char *end;
	long n;
	*level = 0;
	if (!strcmp(value, "zstd") || !strcmp(value, "xz"))
		return 1;
	if (strncmp(value, "zstd:", 5))
		return 0;
	n = strtol(value + 5, &end, 10);
	if (!value[5] || *end || n < 1 || n > 22)
		return 0;
	*level = (int)n;
	return 1;
}

int squashfs_compression_ok(const char *value)
{
	int level;
	return parse_compression(value, &level);
}

int write_squashfs(const struct image *img, const struct image_opts *o)
{
	char *log = xasprintf("%s/tar2sqfs.log", o->workdir);
	char defaults[64], extra[32];
	int fds[2] = { -1, -1 }, log_fd = -1, rc = 0, n = 9, level;
	int xz = parse_compression(o->compress, &level) && !strcmp(o->compress, "xz");
	char *argv[16] = { "tar2sqfs", "--quiet", "--force", "--compressor", xz ? "xz" : "zstd",
			   "--num-jobs", "2", "--defaults", defaults };
	pid_t pid = -1;

	snprintf(defaults, sizeof(defaults), "mtime=%lld", o->epoch);
	/* xz is chosen for size: 1 MiB blocks (the largest) compress about
	 * 10% smaller than the 128 KiB default, at some cost in reading */
	if (xz) {
		argv[n++] = "--block-size";
		argv[n++] = "1048576";
	}
	if (level) {
		snprintf(extra, sizeof(extra), "level=%d", level);
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
