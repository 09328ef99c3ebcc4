/* Recipe lines (mkimage/recipe.c, directives.c): a table of lines, each
 * with the fields it must give or the one error (FILE:LINE) it must print. */
#include "../../mkimage/recipe.h"
#include "unit.h"

struct recipe_case {
	const char *line;
	int rc;			/* 1 a directive, 0 blank or comment, -1 an error */
	const char *want;	/* rc 1: "keyword argc mode uid gid"; rc -1: a part of the error */
};

static const struct recipe_case cases[] = {
	{ "", 0, NULL },
	{ "   # a comment", 0, NULL },
	{ "dir /etc 0755 0 0", 1, "dir 4 755 0 0" },
	{ "file /bin/sh /bin/busybox 4755 0 0 /bin/ash /bin/bash", 1, "file 7 4755 0 0" },
	{ "nod /dev/null 0666 0 0 c 1 3", 1, "nod 7 666 0 0" },
	{ "slink /lib usr/lib 0777 0 0", 1, "slink 5 777 0 0" },
	{ "text /etc/motd 0644 0 0 \"Hello\\nWorld\"", 1, "text 5 644 0 0" },
	{ "text \"/etc/with space\" 0644 1000 100 x", 1, "text 5 644 1000 100" },
	{ "user alice 1000 1000 /home/alice /bin/sh", 1, "user 5 0 1000 1000" },
	{ "xattr /bin/ping security.capability 0x0100000200200000", 1, "xattr 3 0 0 0" },
	{ "frobnicate /x", -1, "unknown directive 'frobnicate'" },
	{ "dir /etc 0755 0", -1, "dir <name> <mode> <uid> <gid>" },
	{ "dir /etc 0855 0 0", -1, "mode" },
	{ "dir /etc 0755 root 0", -1, "uid" },
	{ "nod /dev/x 0666 0 0 q 1 3", -1, "bad device type 'q'" },
	{ "text /etc/a 0644 0 0 \"unclosed", -1, "quote" },
	{ "dir /etc 0755 0 0 extra", -1, "dir <name> <mode> <uid> <gid>" },
	{ "xattr /a system.posix_acl_access b", -1, "bad attribute name" },
	{ "xattr /a user.x 0xabc", -1, "bad value '0xabc'" },
	{ "tree /opt /src 0", -1, "takes a uid and a gid together" },
};

struct parse_run {
	const char *line;
	struct directive d;
	int rc;
};

static void do_parse(void *ctx)
{
	struct parse_run *p = ctx;
	struct origin at = { "r.recipe", 7 };
	memset(&p->d, 0, sizeof(p->d));
	p->rc = recipe_parse_line(p->line, &at, &p->d);
}

int main(void)
{
	struct unit u = { 0 };
	char said[2048], got[128];
	for (size_t i = 0; i < UNIT_COUNT(cases); i++) {
		const struct recipe_case *c = &cases[i];
		struct parse_run p = { c->line, { 0 }, 0 };
		int ok;
		unit_stderr(do_parse, &p, said, sizeof(said));
		got[0] = '\0';
		if (p.rc == 1)
			snprintf(got, sizeof(got), "%s %zu %o %u %u", p.d.def->keyword, p.d.argc, p.d.mode, p.d.uid,
				 p.d.gid);
		ok = p.rc == c->rc;
		if (ok && c->rc == 1)
			ok = !strcmp(got, c->want);
		if (ok && c->rc == -1)
			ok = strstr(said, "r.recipe:7: ") && strstr(said, c->want);
		unit_case(&u, ok, *c->line ? c->line : "(blank)", "rc %d, got '%s', said '%s'", p.rc, got, said);
		if (p.rc == 1)
			directive_free(&p.d);
	}
	return unit_done(&u);
}
