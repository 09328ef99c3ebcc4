/* .deb files: finding a member of the ar archive (deb.c). Pure: reads the
 * file descriptor it is given, prints nothing. */
#ifndef MKIMAGE_DEB_H
#define MKIMAGE_DEB_H

#include <sys/types.h>

struct deb_member {
	char name[17];
	off_t offset, size;	/* the member's data within the file */
};

enum { DEB_NOT_AR = -1, DEB_CORRUPT = -2, DEB_MISSING = -3 };

/* The first member whose name starts with PREFIX ("data.tar"): 0, or
 * DEB_NOT_AR, DEB_CORRUPT or DEB_MISSING. */
int deb_find_member(int fd, const char *prefix, struct deb_member *found);

#endif
