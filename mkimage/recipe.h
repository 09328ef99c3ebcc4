/* Recipe syntax: one directive a line, checked for field count and number
 * formats. No host file is touched here (see resolve.h). */
#ifndef MKIMAGE_RECIPE_H
#define MKIMAGE_RECIPE_H

#include <stddef.h>

#include "util.h"

enum directive_kind {
	D_FILE, D_DIR, D_NOD, D_SLINK, D_PIPE, D_SOCK,	/* gen_init_cpio */
	D_INCLUDE, D_TREE, D_TAR, D_BUSYBOX, D_TEXT,	/* extensions */
	D_USER, D_GROUP, D_REMOVE, D_XATTR,
};

struct directive {
	enum directive_kind kind;
	struct origin origin;
	char **argv; /* fields after the keyword, unquoted, ${VAR} expanded
			in host locations, image paths normalized */
	size_t argc;
	/* parsed numeric fields, where the directive has them */
	unsigned mode, uid, gid, major, minor;
	char devtype; /* 'b' or 'c' for nod */
	int has_owner; /* tree: uid and gid were given */
};

/* Parse one line (without its newline). Returns 1 and fills *d for a
 * directive, 0 for a blank or comment line, -1 after printing an error. */
int recipe_parse_line(const char *line, const struct origin *at, struct directive *d);
void directive_free(struct directive *d);

#endif
