/* Finding a .deb's members (mkimage/deb.c): ar archives made here, byte
 * by byte, well-formed and not. */
#include "../../mkimage/deb.h"
#include "unit.h"

/* an ar archive of MEMBERS ("name:content" ...), written to a temporary
 * file; its descriptor */
static int ar_file(const char *const *members, size_t n, int cut)
{
	FILE *f = tmpfile();
	long end;
	if (!f)
		abort();
	fputs("!<arch>\n", f);
	for (size_t i = 0; i < n; i++) {
		const char *colon = strchr(members[i], ':');
		size_t len = strlen(colon + 1);
		fprintf(f, "%-16.*s%-12s%-6s%-6s%-8s%-10zu`\n", (int)(colon - members[i]), members[i], "0", "0", "0",
			"100644", len);
		fputs(colon + 1, f);
		if (len & 1)
			fputc('\n', f);
	}
	fflush(f);
	end = ftell(f);
	if (cut && ftruncate(fileno(f), end - cut) < 0)
		abort();
	return dup(fileno(f));
}

struct deb_case {
	const char *name;
	const char *members[4];
	size_t n;
	int cut;
	int rc;
	const char *found;	/* the member found, and its content */
	const char *content;
};

static const struct deb_case cases[] = {
	{ "a package", { "debian-binary:2.0\n", "control.tar.xz:CCC", "data.tar.xz:DDDD" }, 3, 0, 0, "data.tar.xz",
	  "DDDD" },
	{ "GNU names end in a slash", { "debian-binary/:2.0\n", "data.tar.zst/:Z" }, 2, 0, 0, "data.tar.zst", "Z" },
	{ "odd sizes are padded", { "debian-binary:2.0\n", "control.tar.gz:odd", "data.tar.gz:xy" }, 3, 0, 0,
	  "data.tar.gz", "xy" },
	{ "no data member", { "debian-binary:2.0\n", "control.tar.xz:C" }, 2, 0, DEB_MISSING, NULL, NULL },
	{ "a cut header", { "debian-binary:2.0\n", "data.tar.xz:DDDD" }, 2, 40, DEB_CORRUPT, NULL, NULL },
};

int main(void)
{
	struct unit u = { 0 };
	for (size_t i = 0; i < UNIT_COUNT(cases); i++) {
		const struct deb_case *c = &cases[i];
		struct deb_member m = { "", 0, 0 };
		char content[64] = "";
		int fd = ar_file(c->members, c->n, c->cut), rc = deb_find_member(fd, "data.tar", &m);
		if (rc == 0 && m.size < (off_t)sizeof(content))
			content[pread(fd, content, (size_t)m.size, m.offset) > 0 ? m.size : 0] = '\0';
		unit_case(&u, rc == c->rc && (rc || (!strcmp(m.name, c->found) && !strcmp(content, c->content))), c->name,
			  "rc %d, member '%s' holding '%s'", rc, m.name, content);
		close(fd);
	}
	{
		FILE *f = tmpfile();
		struct deb_member m;
		fputs("PK\003\004 not an ar archive", f);
		fflush(f);
		unit_case(&u, deb_find_member(fileno(f), "data.tar", &m) == DEB_NOT_AR, "not an ar archive", "accepted");
		fclose(f);
	}
	return unit_done(&u);
}
