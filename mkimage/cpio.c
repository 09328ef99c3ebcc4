/* initramfs images: cpio "newc" as the kernel's gen_init_cpio writes it,
 * optionally compressed by the host's gzip, xz or zstd. */
#define _GNU_SOURCE
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "content.h"
#include "spawn.h"

static int pad4(int fd, size_t len)
{
	static const char zeros[4];
	return len % 4 ? write_all(fd, zeros, 4 - len % 4) : 0;
}

static int write_header(int fd, const struct entry *attr, const char *name, unsigned long ino,
			unsigned mode_type, unsigned nlink, unsigned long long size,
			const struct entry *dev, long long mtime)
{
	char h[112];
	size_t namelen = strlen(name) + 1;
	if (size > 0xffffffffULL)
		return error("/%s: cpio (newc) cannot hold files of 4 GiB or more", name);
	snprintf(h, sizeof(h), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		 (unsigned)ino, mode_type | attr->mode, attr->uid, attr->gid, nlink,
		 (unsigned)mtime, (unsigned)size, 0u, 0u,
		 dev ? dev->major : 0u, dev ? dev->minor : 0u, (unsigned)namelen, 0u);
	if (write_all(fd, h, 110) < 0 || write_all(fd, name, namelen) < 0 ||
	    pad4(fd, 110 + namelen) < 0)
		return error("writing cpio: %s", strerror(errno));
	return 0;
}


static int write_archive(const struct image *img, long long epoch, int fd)
{
	/* data goes with the last name of a file, as gen_init_cpio does */
	unsigned *names_left = xcalloc(img->count + 1, sizeof(*names_left));
	int rc = 0;
	for (size_t i = 0; i < img->count; i++) {
		const struct entry *e = img->entries[i];
		if (e->type == ENTRY_FILE)
			names_left[e->ino] = e->nlink;
	}
	for (size_t i = 0; i < img->count && rc == 0; i++) {
		const struct entry *e = img->entries[i];
		const struct entry *attr = e->type == ENTRY_HARDLINK ? e->link_primary : e;
		const char *name = e->path[0] ? e->path : ".";
		unsigned long long size = 0;
		unsigned nlink = e->type == ENTRY_DIR ? 2 : 1;

		if (e->type == ENTRY_SYMLINK) {
			size = strlen(e->target);
			rc = write_header(fd, e, name, e->ino, S_IFLNK, 1, size, NULL,
					  entry_mtime(e, epoch));
			if (rc == 0 && (write_all(fd, e->target, size) < 0 || pad4(fd, size) < 0))
				rc = error("writing cpio: %s", strerror(errno));
			continue;
		}
		if (e->type == ENTRY_FILE || e->type == ENTRY_HARDLINK) {
			nlink = attr->nlink;
			if (--names_left[attr->ino] == 0)
				size = (unsigned long long)attr->content.size;
		}
		rc = write_header(fd, attr, name, attr->ino, entry_type_bits(attr->type), nlink, size,
				  e, entry_mtime(attr, epoch));
		if (rc == 0 && size) {
			rc = content_write(attr, fd);
			if (rc == 0 && pad4(fd, size) < 0)
				rc = error("writing cpio: %s", strerror(errno));
		}
	}
	if (rc == 0) {
		struct entry trailer = { .path = "" };
		rc = write_header(fd, &trailer, "TRAILER!!!", 0, 0, 1, 0, NULL, 0);
	}
	free(names_left);
	return rc;
}

int write_cpio(const struct image *img, const struct image_opts *o)
{
	int out, fds[2], rc, status = 0;
	pid_t pid = -1;
	char *tool = NULL, *argv[6] = { 0 };

	out = open(o->tmp_out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0)
		return error("%s: %s", o->tmp_out, strerror(errno));
	if (!strcmp(o->compress, "none")) {
		rc = write_archive(img, o->epoch, out);
		close(out);
		return rc;
	}
	/* pinned options: no names, no timestamps, one thread */
	if (!strcmp(o->compress, "gzip")) {
		char *a[] = { "gzip", "-9", "-n", "-c", NULL };
		memcpy(argv, a, sizeof(a));
	} else if (!strcmp(o->compress, "xz")) {
		/* the kernel's xz decoder wants crc32 checks */
		char *a[] = { "xz", "-T1", "--check=crc32", "-c", NULL };
		memcpy(argv, a, sizeof(a));
	} else {
		char *a[] = { "zstd", "-q", "-19", "-T1", "-c", NULL };
		memcpy(argv, a, sizeof(a));
	}
	tool = argv[0];
	if (pipe2(fds, O_CLOEXEC) < 0) {
		close(out);
		return error("pipe: %s", strerror(errno));
	}
	pid = spawn(argv, fds[0], out);
	close(fds[0]);
	close(out);
	rc = pid < 0 ? -1 : write_archive(img, o->epoch, fds[1]);
	close(fds[1]);
	if (pid >= 0)
		status = spawn_wait(pid, tool);
	if (rc == 0 && status != 0)
		rc = error("%s failed on %s", tool, o->out);
	return rc;
}
