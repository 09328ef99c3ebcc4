/* Applying recipes to the image tree: includes, host files, trees, tar
 * archives, BusyBox, users and groups. Records every host file read. */
#ifndef MKIMAGE_RESOLVE_H
#define MKIMAGE_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>

#include "tree.h"

struct strlist {
	char **items;
	size_t count, cap;
};
void strlist_add(struct strlist *l, const char *s);
void strlist_free(struct strlist *l);

struct resolver {
	struct tree *tree;
	struct strlist deps;     /* every host file and directory read */
	struct strlist includes; /* recipes being read, for cycle detection */
	struct strlist names; /* recipe names that origins point to */
	struct strlist passwd, shadow, group, gshadow; /* "name:..." lines, later wins */
	struct origin accounts_at; /* where the last user/group line was */
	bool note_replaced; /* say on stderr when a directive replaces an entry */
	/* debian lines: the configured tree (a tar archive made by
	 * rootfs-recipes/debian.sh) unpacked where the first line stands;
	 * or, when request is set, only collected: suite, then packages */
	const char *debian_tree;
	struct strlist *debian_request;
	char *debian_suite;
	struct origin debian_at;
	const char *blob_path; /* temporary file for tar member data */
	int blob_fd;
};

void resolver_init(struct resolver *r, struct tree *tree, const char *blob_path, int blob_fd);
void resolver_free(struct resolver *r);
/* Read a recipe file (at: the include line, or NULL on the command line). */
int resolve_recipe(struct resolver *r, const char *path, const struct origin *at);
/* Merge the user and group lines into the account files; call once after
 * all recipes. */
int resolve_finish(struct resolver *r);

/* What each directive does to the image (its row in directives.c). */
struct directive;
int apply_file(struct resolver *r, const struct directive *d);
int apply_dir(struct resolver *r, const struct directive *d);
int apply_nod(struct resolver *r, const struct directive *d);
int apply_slink(struct resolver *r, const struct directive *d);
int apply_pipe(struct resolver *r, const struct directive *d);
int apply_sock(struct resolver *r, const struct directive *d);
int apply_include(struct resolver *r, const struct directive *d);
int apply_tree(struct resolver *r, const struct directive *d);
int apply_tar(struct resolver *r, const struct directive *d);
int apply_deb(struct resolver *r, const struct directive *d);
int apply_debian(struct resolver *r, const struct directive *d);
int apply_busybox(struct resolver *r, const struct directive *d);
int apply_text(struct resolver *r, const struct directive *d);
int apply_user(struct resolver *r, const struct directive *d);
int apply_group(struct resolver *r, const struct directive *d);
int apply_remove(struct resolver *r, const struct directive *d);
int apply_prune(struct resolver *r, const struct directive *d);
int apply_xattr(struct resolver *r, const struct directive *d);

#endif
