#include "tarw.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content.h"

/* Octal, or GNU base-256 for values that do not fit (uids over 2097151). */
static void set_octal(char *field, size_t len, unsigned long long v)
{
	if (v >> (3 * (len - 1))) {
		memset(field, 0, len);
		field[0] = (char)0x80;
		for (size_t i = len - 1; i > 0 && v; i--, v >>= 8)
			field[i] = (char)(v & 0xff);
		return;
	}
	snprintf(field, len, "%0*llo", (int)len - 1, v);
}

static void set_checksum(unsigned char *h)
{
	unsigned sum = 0;
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
}

static int write_block(int fd, const void *h)
{
	return write_all(fd, h, 512) < 0 ? error("writing tar stream: %s", strerror(errno)) : 0;
}

/* A GNU long name ('L') or long link ('K') record for strings over 100. */
static int write_long(int fd, char type, const char *s, long long mtime)
{
	unsigned char h[512] = { 0 };
	size_t len = strlen(s) + 1;
	strcpy((char *)h, "././@LongLink");
	set_octal((char *)h + 100, 8, 0644);
	set_octal((char *)h + 108, 8, 0);
	set_octal((char *)h + 116, 8, 0);
	set_octal((char *)h + 124, 12, len);
	set_octal((char *)h + 136, 12, (unsigned long long)mtime);
	h[156] = (unsigned char)type;
	memcpy(h + 257, "ustar  ", 8);
	set_checksum(h);
	if (write_block(fd, h) < 0)
		return -1;
	for (size_t off = 0; off < len; off += 512) {
		unsigned char b[512] = { 0 };
		memcpy(b, s + off, len - off < 512 ? len - off : 512);
		if (write_block(fd, b) < 0)
			return -1;
	}
	return 0;
}

/* One pax record "LEN key=value\n", LEN counting itself. */
static void pax_record(struct buf *b, const char *key, const char *value, size_t len)
{
	size_t body = strlen(key) + len + 3, total = body + 1;
	while (total < body + (size_t)snprintf(NULL, 0, "%zu", total))
		total++;
	buf_addf(b, "%zu %s=", total, key);
	buf_add(b, value, len);
	buf_add(b, "\n", 1);
}

/* A pax extended header ('x') carrying e's extended attributes. */
static int write_pax(int fd, const struct entry *e, long long mtime)
{
	unsigned char h[512] = { 0 };
	struct buf b = { 0 };
	int rc;
	for (size_t i = 0; i < e->nxattrs; i++) {
		char *key = xasprintf("SCHILY.xattr.%s", e->xattrs[i].name);
		pax_record(&b, key, e->xattrs[i].value, e->xattrs[i].len);
		free(key);
	}
	strcpy((char *)h, "././@PaxHeader");
	set_octal((char *)h + 100, 8, 0644);
	set_octal((char *)h + 108, 8, 0);
	set_octal((char *)h + 116, 8, 0);
	set_octal((char *)h + 124, 12, b.len);
	set_octal((char *)h + 136, 12, (unsigned long long)mtime);
	h[156] = 'x';
	memcpy(h + 257, "ustar\0" "00", 8);
	set_checksum(h);
	rc = write_block(fd, h);
	for (size_t off = 0; rc == 0 && off < b.len; off += 512) {
		unsigned char block[512] = { 0 };
		memcpy(block, b.data + off, b.len - off < 512 ? b.len - off : 512);
		rc = write_block(fd, block);
	}
	buf_free(&b);
	return rc;
}

static int write_entry(int fd, const struct entry *e, const struct entry *link_to, long long epoch)
{
	unsigned char h[512] = { 0 };
	char *name = xasprintf("./%s%s", e->path, e->type == ENTRY_DIR && e->path[0] ? "/" : "");
	const struct entry *attr = e->type == ENTRY_HARDLINK ? e->link_primary : e;
	const char *link = NULL;
	unsigned long long size = 0;
	long long mtime = entry_mtime(attr, epoch);
	char type;
	int rc = 0;

	switch (link_to ? ENTRY_HARDLINK : e->type) {
	case ENTRY_FILE: type = '0'; size = (unsigned long long)e->content.size; break;
	case ENTRY_HARDLINK: type = '1'; break;
	case ENTRY_DIR: type = '5'; break;
	case ENTRY_SYMLINK: type = '2'; link = e->target; break;
	case ENTRY_CHR: type = '3'; break;
	case ENTRY_BLK: type = '4'; break;
	case ENTRY_FIFO: type = '6'; break;
	default: type = '0'; break; /* sockets: refused by the callers */
	}
	if (link_to)
		link = xasprintf("./%s", link_to->path);
	if (attr->nxattrs && !link_to && write_pax(fd, attr, mtime) < 0)
		rc = -1;
	if (rc == 0 && strlen(name) > 100 && write_long(fd, 'L', name, mtime) < 0)
		rc = -1;
	if (rc == 0 && link && strlen(link) > 100 && write_long(fd, 'K', link, mtime) < 0)
		rc = -1;
	if (rc == 0) {
		memcpy(h, name, strlen(name) < 100 ? strlen(name) : 100);
		set_octal((char *)h + 100, 8, attr->mode);
		set_octal((char *)h + 108, 8, attr->uid);
		set_octal((char *)h + 116, 8, attr->gid);
		set_octal((char *)h + 124, 12, size);
		set_octal((char *)h + 136, 12, (unsigned long long)mtime);
		h[156] = (unsigned char)type;
		if (link)
			memcpy(h + 157, link, strlen(link) < 100 ? strlen(link) : 100);
		memcpy(h + 257, "ustar  ", 8);
		set_octal((char *)h + 329, 8, e->major);
		set_octal((char *)h + 337, 8, e->minor);
		set_checksum(h);
		rc = write_block(fd, h);
	}
	if (rc == 0 && size) {
		static const char zeros[512];
		rc = content_write(e, fd);
		if (rc == 0 && size % 512 && write_all(fd, zeros, 512 - size % 512) < 0)
			rc = error("writing tar stream: %s", strerror(errno));
	}
	if (link_to)
		free((char *)link);
	free(name);
	return rc;
}

int tar_write(struct entry *const *entries, size_t count, long long epoch, int fd)
{
	static const char zeros[1024];
	/* the first name of a file in path order carries its data; later
	 * names link to it, whichever of them the recipe declared first */
	const struct entry **first = xcalloc(count + 1, sizeof(*first));
	int rc = 0;

	for (size_t i = 0; i < count && rc == 0; i++) {
		const struct entry *e = entries[i];
		const struct entry *file = e->type == ENTRY_HARDLINK ? e->link_primary : e;
		const struct entry *link_to = NULL;
		if (e->type == ENTRY_FILE || e->type == ENTRY_HARDLINK) {
			if (first[file->ino])
				link_to = first[file->ino];
			else
				first[file->ino] = e;
		}
		if (e->type == ENTRY_HARDLINK && !link_to) {
			/* write the data under this name, from the primary */
			struct entry copy = *file;
			copy.path = e->path;
			rc = write_entry(fd, &copy, NULL, epoch);
		} else {
			rc = write_entry(fd, e, link_to, epoch);
		}
	}
	free(first);
	if (rc == 0 && write_all(fd, zeros, sizeof(zeros)) < 0)
		rc = error("writing tar stream: %s", strerror(errno));
	return rc;
}
