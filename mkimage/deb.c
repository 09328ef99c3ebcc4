/* .deb files (deb(5)): an ar archive holding debian-binary ("2.0"),
 * control.tar[.xz|.zst|.gz] and data.tar[.xz|.zst|.gz|.bz2]. The deb
 * directive reads the data member in place, as the tar directive reads an
 * archive: no dpkg, no unpacking to disk. */
#define _GNU_SOURCE
#include "deb.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define AR_MAGIC "!<arch>\n"
#define AR_HEADER 60

/* An ar member header's decimal field of LEN bytes (space-padded); -1 if
 * it is not a number. */
static long long ar_number(const char *field, size_t len)
{
	long long v = 0;
	size_t i = 0;
	while (i < len && field[i] == ' ')
		i++;
	if (i == len)
		return -1;
	for (; i < len && field[i] != ' '; i++) {
		if (field[i] < '0' || field[i] > '9' || v > (1LL << 50))
			return -1;
		v = v * 10 + (field[i] - '0');
	}
	return v;
}

int deb_find_member(int fd, const char *prefix, struct deb_member *found)
{
	char header[AR_HEADER];
	off_t pos = 8;
	if (pread(fd, header, 8, 0) != 8 || memcmp(header, AR_MAGIC, 8))
		return DEB_NOT_AR;
	for (;;) {
		ssize_t n = pread(fd, header, AR_HEADER, pos);
		long long size;
		size_t name_len;
		if (n == 0)
			return DEB_MISSING;
		if (n != AR_HEADER || header[58] != '`' || header[59] != '\n' ||
		    (size = ar_number(header + 48, 10)) < 0)
			return DEB_CORRUPT;
		name_len = 16;
		while (name_len && (header[name_len - 1] == ' ' || header[name_len - 1] == '/'))
			name_len--;
		if (name_len >= strlen(prefix) && !memcmp(header, prefix, strlen(prefix))) {
			memcpy(found->name, header, name_len);
			found->name[name_len] = '\0';
			found->offset = pos + AR_HEADER;
			found->size = size;
			return 0;
		}
		pos += AR_HEADER + size + (size & 1);
	}
}
