/* ext2 and ext4 images: genext2fs reads the tree as a tar stream, then
 * tune2fs and e2fsck upgrade to ext4; no root, no fakeroot. */
#define _GNU_SOURCE
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spawn.h"
#include "tarw.h"

#define INODE_SIZE 128 /* genext2fs writes 128-byte inodes */

static unsigned long long div_up(unsigned long long a, unsigned long long b)
{
	return (a + b - 1) / b;
}

/* Blocks the content needs, counted generously: data, indirect blocks,
 * directories, long symlinks, inode tables and group metadata. */
static unsigned long long blocks_needed(const struct image *img, unsigned bs,
					unsigned long long inodes)
{
	unsigned long long blocks = 0, per_ind = bs / 4;
	for (size_t i = 0; i < img->count; i++) {
		const struct entry *e = img->entries[i];
		if (e->type == ENTRY_FILE) {
			unsigned long long data = div_up((unsigned long long)e->content.size, bs);
			blocks += data;
			if (data > 12)
				blocks += 1 + div_up(data - 12, per_ind) + div_up(data, per_ind * per_ind);
		} else if (e->type == ENTRY_SYMLINK && strlen(e->target) >= 60) {
			blocks++;
		}
	}
	for (size_t i = 0; i < img->count; i++)
		if (img->entries[i]->type == ENTRY_DIR)
			blocks++;
	/* each name takes a directory record in its parent */
	{
		unsigned long long names = 0;
		for (size_t i = 0; i < img->count; i++)
			names += 12 + strlen(img->entries[i]->path) % 256;
		blocks += div_up(names, bs);
	}
	blocks += div_up(inodes * INODE_SIZE, bs);
	blocks += 16 + 4 * div_up(blocks, 8ULL * bs); /* superblocks, bitmaps, lost+found */
	return blocks;
}

/* ext4 journal size, as e2fsprogs chooses it (ext2fs_default_journal_size). */
static unsigned long long journal_blocks(unsigned long long blocks)
{
	if (blocks < 2048)
		return 0;
	if (blocks < 32768)
		return 1024;
	if (blocks < 256 * 1024)
		return 4096;
	if (blocks < 512 * 1024)
		return 8192;
	if (blocks < 4096 * 1024)
		return 16384;
	return 32768;
}

/* A UUID from the output's name and the timestamp: stable across builds,
 * different between images. */
static char *derive_uuid(const struct image_opts *o)
{
	const char *name = strrchr(o->out, '/') ? strrchr(o->out, '/') + 1 : o->out;
	uint64_t h1 = 1469598103934665603ULL, h2 = 0x9e3779b97f4a7c15ULL;
	char *s;
	for (const char *p = name; *p; p++) {
		h1 = (h1 ^ (unsigned char)*p) * 1099511628211ULL;
		h2 = (h2 ^ (unsigned char)*p) * 0x100000001b3ULL + 7;
	}
	h1 ^= (uint64_t)o->epoch;
	h2 ^= (uint64_t)o->epoch * 31;
	s = xasprintf("%08x-%04x-4%03x-%04x-%012llx", (unsigned)(h1 >> 32),
		      (unsigned)(h1 >> 16) & 0xffff, (unsigned)h1 & 0xfff,
		      (unsigned)(0x8000 | ((h2 >> 48) & 0x3fff)),
		      (unsigned long long)(h2 & 0xffffffffffffULL));
	return s;
}

/* Tool chatter goes to a log in the work directory, shown only if the tool
 * fails (exits above ok_status). in_fd feeds its stdin (-1: none). */
static int run_logged(char *const argv[], const struct image_opts *o, int in_fd, int ok_status,
		      struct buf *log_text)
{
	char *log = xasprintf("%s/%s.log", o->workdir, argv[0]);
	int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int status = -1;
	pid_t pid;
	if (fd < 0) {
		free(log);
		return error("%s: %s", o->workdir, strerror(errno));
	}
	pid = spawn_io(argv, in_fd, fd, fd);
	if (in_fd >= 0)
		close(in_fd);
	if (pid >= 0)
		status = spawn_wait(pid, argv[0]);
	close(fd);
	if (status < 0 || status > ok_status) {
		struct buf text = { 0 };
		if (read_file(log, &text) == 0 && text.len)
			fprintf(stderr, "%s", text.data);
		if (log_text)
			*log_text = text;
		else
			buf_free(&text);
		status = -1;
	} else {
		status = 0;
	}
	free(log);
	return status;
}

static int run_quiet(char *const argv[], const struct image_opts *o, int ok_status)
{
	if (run_logged(argv, o, -1, ok_status, NULL) < 0)
		return error("%s failed on %s", argv[0], o->out);
	return 0;
}

/* Run debugfs -w with commands, one per line. */
static int debugfs_write(const struct image_opts *o, const char *cmds)
{
	char *file = xasprintf("%s/debugfs.cmds", o->workdir);
	char *argv[] = { "debugfs", "-w", "-f", file, (char *)o->tmp_out, NULL };
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int rc;
	if (fd < 0 || write_all(fd, cmds, strlen(cmds)) < 0 || close(fd) < 0)
		rc = error("%s: %s", file, strerror(errno));
	else
		rc = run_quiet(argv, o, 0);
	free(file);
	return rc;
}

/* "01234567-89ab-..." to 16 bytes; -1 if malformed. */
static int parse_uuid(const char *s, unsigned char out[16])
{
	static const char hex[] = "0123456789abcdef";
	int n = 0;
	for (; *s && n < 32; s++) {
		const char *d;
		if (*s == '-')
			continue;
		d = strchr(hex, *s | 0x20);
		if (!d || !*d)
			return -1;
		if (n % 2 == 0)
			out[n / 2] = (unsigned char)((d - hex) << 4);
		else
			out[n / 2] |= (unsigned char)(d - hex);
		n++;
	}
	return n == 32 && !*s ? 0 : -1;
}

/* Patch every superblock copy in place: the UUID (set before tune2fs, whose
 * group descriptor checksums include it), and the times e2fsprogs tools set
 * to "now", pinned to SOURCE_DATE_EPOCH. The backups also keep the random
 * directory hash seed tune2fs chose before we set ours: copy the primary's.
 * No checksum covers these fields without metadata_csum, which we do not
 * enable. Patching beats tune2fs -U here: that one flushes the whole image
 * to disk. */
static int patch_superblocks(const char *path, long long epoch, const unsigned char uuid[16])
{
	unsigned char sb[1024];
	uint32_t t = (uint32_t)epoch;
	unsigned long long bs, per_group, groups, first;
	int fd = open(path, O_RDWR | O_CLOEXEC), rc = 0;
	if (fd < 0 || pread(fd, sb, sizeof(sb), 1024) != (ssize_t)sizeof(sb)) {
		if (fd >= 0)
			close(fd);
		return error("%s: cannot read superblock", path);
	}
	bs = 1024ULL << (sb[24] | sb[25] << 8);
	per_group = sb[32] | sb[33] << 8 | (unsigned long long)sb[34] << 16 | (unsigned long long)sb[35] << 24;
	groups = div_up((sb[4] | sb[5] << 8 | (unsigned long long)sb[6] << 16 |
			 (unsigned long long)sb[7] << 24), per_group);
	first = sb[20] | sb[21] << 8;
	for (unsigned long long g = 0; g < groups && rc == 0; g++) {
		off_t at = (off_t)((first + g * per_group) * bs) + (g == 0 ? 1024 - (off_t)(first * bs) : 0);
		unsigned char copy[1024];
		if (pread(fd, copy, sizeof(copy), at) != (ssize_t)sizeof(copy))
			break;
		if (copy[56] != 0x53 || copy[57] != 0xef)
			continue;
		/* s_mtime, s_wtime, s_lastcheck, s_mkfs_time, s_uuid, s_hash_seed */
		if (pwrite(fd, &t, 4, at + 44) != 4 || pwrite(fd, &t, 4, at + 48) != 4 ||
		    pwrite(fd, &t, 4, at + 64) != 4 || pwrite(fd, &t, 4, at + 264) != 4 ||
		    pwrite(fd, uuid, 16, at + 104) != 16 || pwrite(fd, sb + 236, 16, at + 236) != 16)
			rc = error("%s: cannot write superblock: %s", path, strerror(errno));
	}
	if (close(fd) < 0 && rc == 0)
		rc = error("%s: %s", path, strerror(errno));
	return rc;
}

static int retype_sockets(const struct image *img, const struct image_opts *o)
{
	struct buf cmds = { 0 };
	int rc = 0;
	for (size_t i = 0; i < img->count; i++)
		if (img->entries[i]->type == ENTRY_SOCK)
			buf_addf(&cmds, "sif \"/%s\" mode 0%o\n", img->entries[i]->path,
				 0140000 | img->entries[i]->mode);
	if (cmds.len)
		rc = debugfs_write(o, cmds.data);
	buf_free(&cmds);
	return rc;
}

static int upgrade_to_ext4(const struct image_opts *o, const char *uuid)
{
	char *tune[] = { "tune2fs", "-O", "extents,uninit_bg,dir_index,has_journal",
			 (char *)o->tmp_out, NULL };
	/* e2fsck exits 1 when it optimized directories: that is success */
	char *fsck[] = { "e2fsck", "-fyD", (char *)o->tmp_out, NULL };
	/* the directory hash seed is random unless set; tune2fs stamps the
	 * journal inode (8) with the current time */
	char *seed = xasprintf("ssv hash_seed %s\n", uuid);
	char *times = xasprintf("sif <8> atime %lld\nsif <8> ctime %lld\nsif <8> mtime %lld\n",
				o->epoch, o->epoch, o->epoch);
	int rc = run_quiet(tune, o, 0);
	if (rc == 0)
		rc = debugfs_write(o, seed);
	if (rc == 0)
		rc = run_quiet(fsck, o, 1);
	if (rc == 0)
		rc = debugfs_write(o, times);
	free(seed);
	free(times);
	return rc;
}

int write_ext(const struct image *img, const struct image_opts *o)
{
	int ext4 = !strcmp(o->type, "ext4");
	unsigned long long inodes = img->count + 32, need, blocks;
	unsigned bs = 1024;
	char *uuid = o->uuid ? xstrdup(o->uuid) : derive_uuid(o);
	char bs_arg[16], blocks_arg[32], inodes_arg[32];
	unsigned char uuid_bytes[16];
	int fds[2], rc = -1;

	if (parse_uuid(uuid, uuid_bytes) < 0) {
		error("bad UUID '%s': use the form 01234567-89ab-cdef-0123-456789abcdef", uuid);
		goto out;
	}

	if (o->size >= 64ULL << 20 ||
	    (!o->size && blocks_needed(img, 1024, inodes) > (32ULL << 10)))
		bs = 4096;
	need = blocks_needed(img, bs, inodes);
	if (ext4)
		need += journal_blocks(need * 2);
	if (o->size) {
		blocks = o->size / bs;
		if (need > blocks) {
			error("%s: image too small: the content needs about %llu KiB, the size "
			      "given is %llu KiB; raise the size or leave it automatic",
			      o->out, need * bs / 1024, o->size / 1024);
			goto out;
		}
	} else {
		blocks = need + need * o->headroom / 100;
		blocks = blocks * 100 / 95; /* genext2fs reserves 5% for root */
		if (ext4) {
			if (blocks < 4096)
				blocks = 4096;
			blocks += journal_blocks(blocks);
		}
	}
	inodes = inodes + inodes * o->headroom / 100;
	snprintf(bs_arg, sizeof(bs_arg), "%u", bs);
	snprintf(blocks_arg, sizeof(blocks_arg), "%llu", blocks);
	snprintf(inodes_arg, sizeof(inodes_arg), "%llu", inodes);
	{
		char *argv[] = { "genext2fs", "-B", bs_arg, "-b", blocks_arg, "-N", inodes_arg,
				 "-a", "-", (char *)o->tmp_out, o->label ? "-L" : NULL,
				 (char *)o->label, NULL };
		struct buf log = { 0 };
		int writer_rc = 0;
		pid_t pid;
		if (pipe2(fds, O_CLOEXEC) < 0) {
			error("pipe: %s", strerror(errno));
			goto out;
		}
		/* genext2fs reads the tree as a tar stream on its stdin; a
		 * bigger pipe means fewer switches between writer and reader */
		fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
		pid = fork();
		if (pid == 0) {
			close(fds[0]);
			_exit(tar_write(img->entries, img->count, o->epoch, fds[1]) < 0);
		}
		close(fds[1]);
		if (pid < 0) {
			close(fds[0]);
			error("fork: %s", strerror(errno));
			goto out;
		}
		rc = run_logged(argv, o, fds[0], 0, &log);
		writer_rc = spawn_wait(pid, "tar writer");
		if (rc < 0) {
			if (log.data && strstr(log.data, "no free space"))
				error("%s: image too small (%s blocks of %u bytes): raise the size",
				      o->out, blocks_arg, bs);
			else
				error("genext2fs failed on %s", o->out);
		} else if (writer_rc != 0) {
			rc = -1;
		}
		buf_free(&log);
		if (rc < 0)
			goto out;
	}
	rc = patch_superblocks(o->tmp_out, o->epoch, uuid_bytes);
	if (rc == 0)
		rc = retype_sockets(img, o);
	if (rc == 0 && ext4)
		rc = upgrade_to_ext4(o, uuid);
	if (rc == 0)
		rc = patch_superblocks(o->tmp_out, o->epoch, uuid_bytes);
out:
	free(uuid);
	return rc;
}
