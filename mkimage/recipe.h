/* Recipe syntax: one directive a line, its fields checked by the letters of
 * its row in directives.c. No host file is touched here (see resolve.h). */
#ifndef MKIMAGE_RECIPE_H
#define MKIMAGE_RECIPE_H

#include <stddef.h>

#include "util.h"

struct directive;
struct resolver;

/* One directive, defined once: its syntax (the letters of its fields), any
 * check the letters cannot say, and what it does to the image. */
struct directive_def {
	const char *keyword;
	/* One letter a field (see recipe.c): fields after '|' are optional,
	 * a final '*' repeats the letter before it. */
	const char *fields;
	const char *usage;
	int (*check)(struct directive *d); /* NULL: the letters say it all */
	int (*apply)(struct resolver *r, const struct directive *d);
	unsigned flags;
};

/* The directive declares the entry at its first field (configuration
 * recipes note what they replace). */
#define DIRECTIVE_DECLARES 1u

/* The table, in directives.c. */
extern const struct directive_def directive_defs[];
extern const size_t directive_count;

struct directive {
	const struct directive_def *def;
	struct origin origin;
	char **argv; /* fields after the keyword, unquoted, ${VAR} expanded
			in host locations, image paths normalized */
	size_t argc;
	/* parsed numeric fields, where the directive has them */
	unsigned mode, uid, gid, major, minor;
	char devtype; /* 'b' or 'c' for nod */
};

/* Parse one line (without its newline). Returns 1 and fills *d for a
 * directive, 0 for a blank or comment line, -1 after printing an error. */
int recipe_parse_line(const char *line, const struct origin *at, struct directive *d);
void directive_free(struct directive *d);

#endif
