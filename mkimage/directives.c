/* Every recipe directive, one row each: keyword, fields, usage, an extra
 * check where the field letters (recipe.c) cannot say it, and what it does
 * to the image (resolve.c). Adding a directive is adding a row here and its
 * apply function. The first six are the kernel's gen_init_cpio format. */
#include "recipe.h"
#include "resolve.h"

/* tree: the owner is given whole or not at all */
static int check_tree(struct directive *d)
{
	if (d->argc == 3)
		return error_at(&d->origin, "'tree' takes a uid and a gid together: %s", d->def->usage);
	return 0;
}

const struct directive_def directive_defs[] = {
	{ "file", "phmug|p*", "file <name> <location> <mode> <uid> <gid> [<hard links>...]",
	  NULL, apply_file, DIRECTIVE_DECLARES },
	{ "dir", "pmug", "dir <name> <mode> <uid> <gid>", NULL, apply_dir, 0 },
	{ "nod", "pmugtMN", "nod <name> <mode> <uid> <gid> <b|c> <maj> <min>",
	  NULL, apply_nod, DIRECTIVE_DECLARES },
	{ "slink", "plmug", "slink <name> <target> <mode> <uid> <gid>",
	  NULL, apply_slink, DIRECTIVE_DECLARES },
	{ "pipe", "pmug", "pipe <name> <mode> <uid> <gid>", NULL, apply_pipe, DIRECTIVE_DECLARES },
	{ "sock", "pmug", "sock <name> <mode> <uid> <gid>", NULL, apply_sock, DIRECTIVE_DECLARES },
	{ "include", "h", "include <recipe>", NULL, apply_include, 0 },
	{ "tree", "ph|ug", "tree <path> <host-dir> [<uid> <gid>]", check_tree, apply_tree, 0 },
	{ "tar", "ph", "tar <path> <archive>", NULL, apply_tar, 0 },
	{ "deb", "h", "deb <package.deb>", NULL, apply_deb, 0 },
	{ "debian", "k|k*", "debian <suite> [<package>...]", NULL, apply_debian, 0 },
	{ "busybox", "h|p", "busybox <host-busybox> [<dir>]", NULL, apply_busybox, 0 },
	{ "text", "pmugr", "text <path> <mode> <uid> <gid> <string>", NULL, apply_text,
	  DIRECTIVE_DECLARES },
	{ "user", "augff|f", "user <name> <uid> <gid> <home> <shell> [<password-hash>]",
	  NULL, apply_user, 0 },
	{ "group", "ag|f", "group <name> <gid> [<member>,...]", NULL, apply_group, 0 },
	{ "remove", "p", "remove <path>", NULL, apply_remove, 0 },
	{ "prune", "p|b*", "prune <dir> [<name-to-keep>...]", NULL, apply_prune, 0 },
	{ "xattr", "pxv", "xattr <path> <name> <value|0xHEX>", NULL, apply_xattr, 0 },
};

const size_t directive_count = sizeof(directive_defs) / sizeof(directive_defs[0]);
