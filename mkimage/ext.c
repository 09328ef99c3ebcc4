/* ext2 and ext4 images, written with e2fsprogs' libext2fs (the library
 * under mke2fs -d): the features, 256-byte inodes and bytes-per-inode of
 * Debian's mke2fs.conf, extended attributes, kept (clamped) times. No root,
 * no host tool. */
#define _GNU_SOURCE
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ext2fs/ext2fs.h>

#include "content.h"

#define INODE_SIZE 256
#define LOST_FOUND "lost+found"

struct geometry {
	unsigned block_size;
	unsigned long long blocks;
	unsigned long long inodes;
};

static unsigned long long div_up(unsigned long long a, unsigned long long b)
{
	return (a + b - 1) / b;
}

/* mke2fs.conf's usage types by size: floppy under 3 MiB, small under
 * 512 MiB (1 KiB blocks), default above. */
static unsigned block_size_for(unsigned long long bytes)
{
	return bytes < (512ULL << 20) ? 1024 : 4096;
}

static unsigned long long inode_ratio_for(unsigned long long bytes)
{
	if (bytes < (3ULL << 20))
		return 8192;
	return bytes < (512ULL << 20) ? 4096 : 16384;
}

/* Blocks the content needs, counted generously: data with extent or
 * indirect blocks, directories, long symlinks, xattr blocks, inode tables
 * and group metadata. */
static unsigned long long blocks_needed(const struct image *img, unsigned bs,
					unsigned long long inodes)
{
	unsigned long long blocks = 0, per_ind = bs / 4, names = 0;
	for (size_t i = 0; i < img->count; i++) {
		const struct entry *e = img->entries[i];
		if (e->type == ENTRY_FILE) {
			unsigned long long data = div_up((unsigned long long)e->content.size, bs);
			blocks += data;
			if (data > 12)
				blocks += 1 + div_up(data - 12, per_ind) + div_up(data, per_ind * per_ind);
		} else if (e->type == ENTRY_SYMLINK && strlen(e->target) >= 60) {
			blocks++;
		} else if (e->type == ENTRY_DIR) {
			blocks++;
		}
		if (e->nxattrs)
			blocks++;
		names += 12 + strlen(e->path) % 256;
	}
	blocks += div_up(names, bs);
	blocks += div_up(inodes * INODE_SIZE, bs);
	blocks += 64 + 16384 / bs + 4 * div_up(blocks, 8ULL * bs); /* sb, gdt, bitmaps, lost+found */
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

/* Size the image: the given size, or the content plus headroom; inodes
 * from bytes-per-inode, raised to what the content needs. */
static int plan_geometry(const struct image *img, const struct image_opts *o, struct geometry *g)
{
	int ext4 = !strcmp(o->type, "ext4");
	unsigned long long min_inodes = img->count + 16, need, bytes;
	min_inodes += min_inodes * o->headroom / 100;
	if (o->size) {
		g->block_size = block_size_for(o->size);
		g->blocks = o->size / g->block_size;
	} else {
		g->block_size = 1024;
		for (;;) {
			need = blocks_needed(img, g->block_size, min_inodes);
			need += need * o->headroom / 100;
			need = need * 100 / 95; /* 5% reserved for root */
			if (ext4)
				need += journal_blocks(need);
			if (need < 2048)
				need = 2048;
			if (block_size_for(need * g->block_size) == g->block_size)
				break;
			g->block_size = 4096;
		}
		g->blocks = need;
	}
	bytes = g->blocks * g->block_size;
	g->inodes = bytes / (o->bytes_per_inode ? o->bytes_per_inode : inode_ratio_for(bytes));
	if (g->inodes < min_inodes)
		g->inodes = min_inodes;
	need = blocks_needed(img, g->block_size, g->inodes);
	if (ext4)
		need += journal_blocks(g->blocks);
	if (o->size && need > g->blocks)
		return error("%s: image too small: the content needs about %llu KiB, the size "
			     "given is %llu KiB; raise the size or leave it automatic",
			     o->out, need * g->block_size / 1024, o->size / 1024);
	if (g->inodes > 0xffffffffULL - 1024)
		return error("%s: too many inodes (%llu): raise the bytes per inode", o->out, g->inodes);
	return 0;
}

static int fail(errcode_t err, const char *what, const char *path)
{
	return error("%s%s%s: %s", what, path ? " /" : "", path ? path : "", error_message(err));
}

/* The superblock mke2fs -t TYPE would ask for. */
static void fill_params(struct ext2_super_block *p, const struct geometry *g, int ext4)
{
	memset(p, 0, sizeof(*p));
	ext2fs_blocks_count_set(p, g->blocks);
	p->s_log_block_size = g->block_size == 1024 ? 0 : 2;
	p->s_inodes_count = (uint32_t)g->inodes;
	p->s_rev_level = EXT2_DYNAMIC_REV;
	p->s_inode_size = INODE_SIZE;
	p->s_r_blocks_count = (uint32_t)(g->blocks / 20);
	ext2fs_set_feature_sparse_super(p);
	ext2fs_set_feature_large_file(p);
	ext2fs_set_feature_filetype(p);
	ext2fs_set_feature_resize_inode(p);
	ext2fs_set_feature_dir_index(p);
	ext2fs_set_feature_xattr(p);
	if (ext4) {
		ext2fs_set_feature_journal(p);
		ext2fs_set_feature_extents(p);
		ext2fs_set_feature_huge_file(p);
		ext2fs_set_feature_flex_bg(p);
		ext2fs_set_feature_metadata_csum(p);
		ext2fs_set_feature_64bit(p);
		ext2fs_set_feature_dir_nlink(p);
		ext2fs_set_feature_extra_isize(p);
		p->s_log_groups_per_flex = 4;
		p->s_desc_size = EXT2_MIN_DESC_SIZE_64BIT;
		p->s_min_extra_isize = p->s_want_extra_isize =
			sizeof(struct ext2_inode_large) - EXT2_GOOD_OLD_INODE_SIZE;
	}
}

/* What mke2fs does between ext2fs_initialize and populating: identity,
 * tables, root, lost+found, reserved and special inodes, the journal. */
static int lay_out(ext2_filsys fs, const struct image_opts *o, const unsigned char uuid[16])
{
	struct ext2_super_block *sb = fs->super;
	ext2_ino_t lpf;
	errcode_t err;
	unsigned size = 0;

	memcpy(sb->s_uuid, uuid, 16);
	derive_uuid(o, 1, (unsigned char *)sb->s_hash_seed);
	sb->s_def_hash_version = EXT2_HASH_HALF_MD4;
	sb->s_default_mount_opts = EXT2_DEFM_XATTR_USER | EXT2_DEFM_ACL;
	sb->s_max_mnt_count = (uint16_t)-1;
	sb->s_checkinterval = 0;
	if (o->label)
		strncpy((char *)sb->s_volume_name, o->label, sizeof(sb->s_volume_name));
	if (ext2fs_has_feature_metadata_csum(sb))
		sb->s_checksum_type = EXT2_CRC32C_CHKSUM;
	ext2fs_init_csum_seed(fs);
	if ((err = ext2fs_allocate_tables(fs)))
		return fail(err, "allocating tables", NULL);
	if ((err = ext2fs_convert_subcluster_bitmap(fs, &fs->block_map)))
		return fail(err, "block bitmap", NULL);
	/* the file was made sparse: its inode tables already read as zeros */
	for (dgrp_t i = 0; i < fs->group_desc_count; i++)
		ext2fs_bg_flags_set(fs, i, EXT2_BG_INODE_ZEROED);
	if ((err = ext2fs_mkdir(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, 0)))
		return fail(err, "creating the root directory", NULL);
	if ((err = ext2fs_new_inode(fs, EXT2_ROOT_INO, LINUX_S_IFDIR | 0700, 0, &lpf)) ||
	    (err = ext2fs_mkdir(fs, EXT2_ROOT_INO, lpf, LOST_FOUND)))
		return fail(err, "creating", LOST_FOUND);
	/* e2fsck wants room in lost+found without allocating: 16 KiB */
	for (size = fs->blocksize; size < 16384 || size < 2 * fs->blocksize; size += fs->blocksize)
		if ((err = ext2fs_expand_dir(fs, lpf)))
			return fail(err, "expanding", LOST_FOUND);
	for (ext2_ino_t i = EXT2_ROOT_INO + 1; i < EXT2_FIRST_INODE(sb); i++)
		ext2fs_inode_alloc_stats2(fs, i, +1, 0);
	ext2fs_mark_ib_dirty(fs);
	ext2fs_mark_inode_bitmap2(fs->inode_map, EXT2_BAD_INO);
	ext2fs_inode_alloc_stats2(fs, EXT2_BAD_INO, +1, 0);
	if ((err = ext2fs_update_bb_inode(fs, NULL)))
		return fail(err, "bad block inode", NULL);
	if (ext2fs_has_feature_resize_inode(sb) && (err = ext2fs_create_resize_inode(fs)))
		return fail(err, "resize inode", NULL);
	if (ext2fs_has_feature_journal(sb)) {
		struct ext2fs_journal_params jp;
		if ((err = ext2fs_get_journal_params(&jp, fs)) ||
		    (err = ext2fs_add_journal_inode3(fs, &jp, ~0ULL, EXT2_MKJOURNAL_LAZYINIT)))
			return fail(err, "creating the journal", NULL);
	}
	return 0;
}

static int file_type(enum entry_type type)
{
	switch (type) {
	case ENTRY_DIR: return EXT2_FT_DIR;
	case ENTRY_SYMLINK: return EXT2_FT_SYMLINK;
	case ENTRY_CHR: return EXT2_FT_CHRDEV;
	case ENTRY_BLK: return EXT2_FT_BLKDEV;
	case ENTRY_FIFO: return EXT2_FT_FIFO;
	case ENTRY_SOCK: return EXT2_FT_SOCK;
	default: return EXT2_FT_REG_FILE;
	}
}


/* Add a name in dir, growing the directory when it is full. */
static errcode_t link_name(ext2_filsys fs, ext2_ino_t dir, const char *name, ext2_ino_t ino,
			   int type)
{
	errcode_t err = ext2fs_link(fs, dir, name, ino, type);
	if (err == EXT2_ET_DIR_NO_SPACE) {
		err = ext2fs_expand_dir(fs, dir);
		if (!err)
			err = ext2fs_link(fs, dir, name, ino, type);
	}
	return err;
}

/* Copy a regular file's bytes in through libext2fs's file interface. */
static errcode_t write_data(ext2_filsys fs, ext2_ino_t ino, const struct entry *e, char *chunk,
			    size_t chunk_size)
{
	const struct content *c = &e->content;
	ext2_file_t file;
	errcode_t err = ext2fs_file_open(fs, ino, EXT2_FILE_WRITE, &file);
	off_t done = 0;
	int fd = -1;
	if (err)
		return err;
	if (c->host_path && (fd = open(c->host_path, O_RDONLY | O_CLOEXEC)) < 0)
		err = errno;
	while (!err && done < c->size) {
		size_t want = c->size - done < (off_t)chunk_size ? (size_t)(c->size - done) : chunk_size;
		const char *data = c->data + done;
		unsigned int wrote;
		if (fd >= 0) {
			ssize_t n = pread(fd, chunk, want, c->offset + done);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				err = n < 0 ? errno : EIO;
				break;
			}
			want = (size_t)n;
			data = chunk;
		}
		err = ext2fs_file_write(file, data, (unsigned)want, &wrote);
		done += wrote;
	}
	if (fd >= 0)
		close(fd);
	if (!err)
		err = ext2fs_file_close(file);
	else
		ext2fs_file_close(file);
	return err;
}

/* Make the inode for e (a file's first name) in dir. */
static errcode_t make_inode(ext2_filsys fs, ext2_ino_t dir, const char *name,
			    const struct entry *e, ext2_ino_t *ino, char *chunk, size_t chunk_size)
{
	struct ext2_inode inode;
	errcode_t err = ext2fs_new_inode(fs, dir, (int)(entry_type_bits(e->type) | e->mode), 0, ino);
	if (err)
		return err;
	if (e->type == ENTRY_DIR) {
		err = ext2fs_mkdir(fs, dir, *ino, name);
		if (err == EXT2_ET_DIR_NO_SPACE && !(err = ext2fs_expand_dir(fs, dir)))
			err = ext2fs_mkdir(fs, dir, *ino, name);
		return err;
	}
	if (e->type == ENTRY_SYMLINK) {
		err = ext2fs_symlink(fs, dir, *ino, name, e->target);
		if (err == EXT2_ET_DIR_NO_SPACE && !(err = ext2fs_expand_dir(fs, dir)))
			err = ext2fs_symlink(fs, dir, *ino, name, e->target);
		return err;
	}
	if ((err = link_name(fs, dir, name, *ino, file_type(e->type))))
		return err;
	ext2fs_inode_alloc_stats2(fs, *ino, +1, 0);
	memset(&inode, 0, sizeof(inode));
	inode.i_mode = (uint16_t)(entry_type_bits(e->type) | e->mode);
	inode.i_links_count = (uint16_t)(e->type == ENTRY_FILE ? e->nlink : 1);
	if (e->type == ENTRY_CHR || e->type == ENTRY_BLK) {
		if (e->major < 256 && e->minor < 256) {
			inode.i_block[0] = e->major * 256 + e->minor;
		} else {
			inode.i_block[1] = (e->minor & 0xff) | (e->major << 8) | ((e->minor & ~0xffu) << 12);
		}
	}
	if (e->type == ENTRY_FILE && ext2fs_has_feature_extents(fs->super)) {
		ext2_extent_handle_t handle;
		if ((err = ext2fs_extent_open2(fs, *ino, &inode, &handle)))
			return err;
		ext2fs_extent_free(handle);
	}
	if ((err = ext2fs_write_new_inode(fs, *ino, &inode)))
		return err;
	return e->type == ENTRY_FILE && e->content.size ? write_data(fs, *ino, e, chunk, chunk_size) : 0;
}

static errcode_t set_xattrs(ext2_filsys fs, ext2_ino_t ino, const struct entry *e)
{
	struct ext2_xattr_handle *h;
	errcode_t err;
	if (!e->nxattrs)
		return 0;
	if ((err = ext2fs_xattrs_open(fs, ino, &h)))
		return err;
	err = ext2fs_xattrs_read(h);
	for (size_t i = 0; i < e->nxattrs && !err; i++)
		err = ext2fs_xattr_set(h, e->xattrs[i].name, e->xattrs[i].value, e->xattrs[i].len);
	if (!err)
		return ext2fs_xattrs_close(&h);
	ext2fs_xattrs_close(&h);
	return err;
}

/* Owner, permission bits and times, set last: libext2fs stamps new inodes
 * with the current time. */
static errcode_t set_attributes(ext2_filsys fs, ext2_ino_t ino, const struct entry *e, long long epoch)
{
	char raw[INODE_SIZE];
	struct ext2_inode_large *inode = (struct ext2_inode_large *)raw;
	uint32_t t = (uint32_t)entry_mtime(e, epoch);
	errcode_t err = ext2fs_read_inode_full(fs, ino, (struct ext2_inode *)inode, sizeof(raw));
	if (err)
		return err;
	inode->i_mode = (uint16_t)((inode->i_mode & 0170000) | e->mode);
	inode->i_uid = (uint16_t)e->uid;
	inode->i_gid = (uint16_t)e->gid;
	ext2fs_set_i_uid_high(*inode, e->uid >> 16);
	ext2fs_set_i_gid_high(*inode, e->gid >> 16);
	inode->i_atime = inode->i_ctime = inode->i_mtime = t;
	if (EXT2_INODE_SIZE(fs->super) > EXT2_GOOD_OLD_INODE_SIZE && inode->i_extra_isize >= 24) {
		inode->i_atime_extra = inode->i_ctime_extra = inode->i_mtime_extra = 0;
		inode->i_crtime = t;
		inode->i_crtime_extra = 0;
	}
	return ext2fs_write_inode_full(fs, ino, (struct ext2_inode *)inode, sizeof(raw));
}

/* Every entry in path order: a stack of open directories gives each
 * entry's parent, since a directory's children follow it. */
static int populate(ext2_filsys fs, const struct image *img, const struct image_opts *o)
{
	ext2_ino_t *inos = xcalloc(img->count + 1, sizeof(*inos)); /* by entry->ino */
	ext2_ino_t *first = xcalloc(img->count + 1, sizeof(*first)); /* file data, by primary */
	const struct entry **stack = xcalloc(img->count + 1, sizeof(*stack));
	size_t depth = 0, chunk_size = 1 << 20;
	char *chunk = xmalloc(chunk_size);
	errcode_t err = 0;
	const char *failed = NULL;

	for (size_t i = 0; i < img->count && !err; i++) {
		const struct entry *e = img->entries[i];
		const struct entry *file = e->type == ENTRY_HARDLINK ? e->link_primary : e;
		const char *name = strrchr(e->path, '/') ? strrchr(e->path, '/') + 1 : e->path;
		size_t parent_len = (size_t)(name - e->path) - (name != e->path);
		ext2_ino_t dir;
		failed = e->path;
		if (!e->path[0]) {
			inos[e->ino] = EXT2_ROOT_INO;
			stack[depth++] = e;
			continue;
		}
		while (depth > 1 && (strlen(stack[depth - 1]->path) != parent_len ||
				     strncmp(stack[depth - 1]->path, e->path, parent_len)))
			depth--;
		dir = inos[stack[depth - 1]->ino];
		if (dir == EXT2_ROOT_INO && e->type == ENTRY_DIR && !strcmp(name, LOST_FOUND)) {
			err = ext2fs_lookup(fs, dir, name, strlen(name), NULL, &inos[e->ino]);
		} else if ((e->type == ENTRY_FILE || e->type == ENTRY_HARDLINK) && first[file->ino]) {
			inos[e->ino] = first[file->ino];
			err = link_name(fs, dir, name, inos[e->ino], EXT2_FT_REG_FILE);
		} else {
			err = make_inode(fs, dir, name, file, &inos[e->ino], chunk, chunk_size);
			if (e->type == ENTRY_FILE || e->type == ENTRY_HARDLINK)
				first[file->ino] = inos[e->ino];
			if (!err)
				err = set_xattrs(fs, inos[e->ino], file);
		}
		if (e->type == ENTRY_DIR)
			stack[depth++] = e;
	}
	for (size_t i = 0; i < img->count && !err; i++) {
		const struct entry *e = img->entries[i];
		failed = e->path;
		if (e->type != ENTRY_HARDLINK)
			err = set_attributes(fs, inos[e->ino], e, o->epoch);
	}
	free(inos);
	free(first);
	free(stack);
	free(chunk);
	if (err == EXT2_ET_BLOCK_ALLOC_FAIL || err == EXT2_ET_INODE_ALLOC_FAIL || err == ENOSPC ||
	    err == EXT2_ET_DIR_NO_SPACE)
		return error("%s: image too small (%s at /%s): raise the size", o->out,
			     error_message(err), failed);
	return err ? fail(err, "writing", failed) : 0;
}

/* The times e2fsprogs sets to "now", pinned to SOURCE_DATE_EPOCH. A zero
 * fs->now means "ask the clock", so an epoch of 0 writes 1 as the last
 * write time. */
static void pin_times(ext2_filsys fs, long long epoch)
{
	struct ext2_super_block *sb = fs->super;
	fs->now = (time_t)(epoch ? epoch : 1);
	sb->s_mtime = 0; /* never mounted */
	sb->s_wtime = sb->s_lastcheck = sb->s_mkfs_time = (uint32_t)epoch;
	ext2fs_mark_super_dirty(fs);
}

/* The journal inode, stamped with the current time when it was made. */
static errcode_t pin_journal_times(ext2_filsys fs, long long epoch)
{
	struct ext2_inode inode;
	errcode_t err;
	if (!ext2fs_has_feature_journal(fs->super))
		return 0;
	if ((err = ext2fs_read_inode(fs, EXT2_JOURNAL_INO, &inode)))
		return err;
	inode.i_atime = inode.i_ctime = inode.i_mtime = (uint32_t)epoch;
	return ext2fs_write_inode(fs, EXT2_JOURNAL_INO, &inode);
}

static int create_sparse(const char *path, unsigned long long bytes)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || ftruncate(fd, (off_t)bytes) < 0 || close(fd) < 0) {
		int saved = errno;
		if (fd >= 0)
			close(fd);
		return error("%s: %s", path, strerror(saved));
	}
	return 0;
}

int write_ext(const struct image *img, const struct image_opts *o)
{
	int ext4 = !strcmp(o->type, "ext4");
	struct ext2_super_block params;
	struct geometry g;
	unsigned char uuid[16];
	ext2_filsys fs = NULL;
	errcode_t err;
	int rc;

	if (image_uuid(o, uuid) < 0)
		return -1;
	if (plan_geometry(img, o, &g) < 0 || create_sparse(o->tmp_out, g.blocks * g.block_size) < 0)
		return -1;
	fill_params(&params, &g, ext4);
	add_error_table(&et_ext2_error_table);
	err = ext2fs_initialize(o->tmp_out, EXT2_FLAG_EXCLUSIVE | EXT2_FLAG_64BITS, &params,
				unix_io_manager, &fs);
	if (err)
		return fail(err, "creating", NULL);
	fs->now = (time_t)(o->epoch ? o->epoch : 1);
	rc = lay_out(fs, o, uuid);
	if (rc == 0)
		rc = populate(fs, img, o);
	if (rc == 0 && (err = pin_journal_times(fs, o->epoch)))
		rc = fail(err, "journal inode", NULL);
	/* group flags (uninitialized tables), unused inode counts, checksums */
	if (rc == 0 && (err = ext2fs_set_gdt_csum(fs)))
		rc = fail(err, "group descriptors", NULL);
	if (rc == 0) {
		pin_times(fs, o->epoch);
		if ((err = ext2fs_close_free(&fs)))
			rc = fail(err, "writing", NULL);
	}
	if (fs)
		ext2fs_free(fs);
	return rc;
}
