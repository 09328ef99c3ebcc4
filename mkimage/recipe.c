#include "recipe.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tree.h"

struct syntax {
	const char *keyword;
	enum directive_kind kind;
	size_t min_args, max_args; /* max 0: any number from min up */
	const char *usage;
};

static const struct syntax syntaxes[] = {
	{ "file", D_FILE, 5, 0, "file <name> <location> <mode> <uid> <gid> [<hard links>...]" },
	{ "dir", D_DIR, 4, 4, "dir <name> <mode> <uid> <gid>" },
	{ "nod", D_NOD, 7, 7, "nod <name> <mode> <uid> <gid> <b|c> <maj> <min>" },
	{ "slink", D_SLINK, 5, 5, "slink <name> <target> <mode> <uid> <gid>" },
	{ "pipe", D_PIPE, 4, 4, "pipe <name> <mode> <uid> <gid>" },
	{ "sock", D_SOCK, 4, 4, "sock <name> <mode> <uid> <gid>" },
	{ "include", D_INCLUDE, 1, 1, "include <recipe>" },
	{ "tree", D_TREE, 2, 4, "tree <path> <host-dir> [<uid> <gid>]" },
	{ "tar", D_TAR, 2, 2, "tar <path> <archive>" },
	{ "busybox", D_BUSYBOX, 1, 2, "busybox <host-busybox> [<dir>]" },
	{ "text", D_TEXT, 5, 5, "text <path> <mode> <uid> <gid> <string>" },
	{ "user", D_USER, 5, 6, "user <name> <uid> <gid> <home> <shell> [<password-hash>]" },
	{ "group", D_GROUP, 2, 3, "group <name> <gid> [<member>,...]" },
	{ "remove", D_REMOVE, 1, 1, "remove <path>" },
	{ "xattr", D_XATTR, 3, 3, "xattr <path> <name> <value|0xHEX>" },
};

static void add_arg(struct directive *d, char *arg)
{
	d->argv = xrealloc(d->argv, (d->argc + 2) * sizeof(*d->argv));
	d->argv[d->argc++] = arg;
	d->argv[d->argc] = NULL;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decode one backslash escape at *p (just past the backslash). */
static int unescape(const char **p, struct buf *out, const struct origin *at)
{
	char c = **p;
	int hi, lo;
	switch (c) {
	case 'n': buf_add(out, "\n", 1); break;
	case 't': buf_add(out, "\t", 1); break;
	case '\\': buf_add(out, "\\", 1); break;
	case '"': buf_add(out, "\"", 1); break;
	case 'x':
		hi = hexval((*p)[1]);
		lo = hi < 0 ? -1 : hexval((*p)[2]);
		if (lo < 0)
			return error_at(at, "bad escape '\\x': use \\xHH with two hex digits");
		buf_add(out, &(char){ (char)(hi * 16 + lo) }, 1);
		*p += 2;
		break;
	default:
		return error_at(at, "unknown escape '\\%c': use \\n, \\t, \\\\, \\\" or \\xHH", c ? c : '0');
	}
	(*p)++;
	return 0;
}

/* Append the character at *s (decoding a backslash escape) and advance. */
static int decode_char(const char **s, struct buf *out, const struct origin *at)
{
	if (**s == '\\') {
		(*s)++;
		return unescape(s, out, at);
	}
	buf_add(out, (*s)++, 1);
	return 0;
}

/* Read one field at *p into out. Quoted fields ("...") may hold spaces and
 * escapes; bare fields are taken literally, as gen_init_cpio does. With
 * rest_of_line, a bare field runs to the end of the line and its escapes are
 * decoded (the text directive's string). */
static int read_field(const char **p, struct buf *out, int rest_of_line, const struct origin *at)
{
	const char *s = *p;
	buf_add(out, "", 0);
	if (*s == '"') {
		for (s++; *s != '"'; ) {
			if (!*s)
				return error_at(at, "unterminated quoted field: add the closing '\"'");
			if (decode_char(&s, out, at) < 0)
				return -1;
		}
		s++;
		if (*s && !isspace((unsigned char)*s))
			return error_at(at, "text after a closing quote: separate fields with spaces");
	} else if (rest_of_line) {
		size_t len = strlen(s);
		while (len && isspace((unsigned char)s[len - 1]))
			len--;
		for (const char *end = s + len; s < end; )
			if (decode_char(&s, out, at) < 0)
				return -1;
		s += strlen(s);
	} else {
		const char *start = s;
		while (*s && !isspace((unsigned char)*s))
			s++;
		buf_add(out, start, (size_t)(s - start));
	}
	*p = s;
	return 0;
}

/* Expand ${VAR} from the environment, as gen_init_cpio does for locations.
 * An unset variable is an error rather than an empty string. */
static char *expand_env(const char *s, const struct origin *at)
{
	struct buf out = { 0 };
	buf_add(&out, "", 0);
	while (*s) {
		const char *end;
		char *name, *value;
		if (s[0] != '$' || s[1] != '{') {
			buf_add(&out, s++, 1);
			continue;
		}
		end = strchr(s + 2, '}');
		if (!end) {
			error_at(at, "'${' without '}' in '%s'", s);
			buf_free(&out);
			return NULL;
		}
		name = xstrdup(s + 2);
		name[end - s - 2] = '\0';
		value = getenv(name);
		if (!value) {
			error_at(at, "environment variable '%s' is not set", name);
			free(name);
			buf_free(&out);
			return NULL;
		}
		buf_addstr(&out, value);
		free(name);
		s = end + 1;
	}
	return out.data;
}

static int parse_uint(const char *s, int base, unsigned long max, unsigned *out)
{
	char *end;
	unsigned long v;
	if (!*s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoul(s, &end, base);
	if (errno || *end || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int parse_mode(const char *s, const struct origin *at, unsigned *out)
{
	if (parse_uint(s, 8, 07777, out) < 0)
		return error_at(at, "bad mode '%s': use octal permission bits, at most 07777", s);
	return 0;
}

static int parse_owner(const char *uid, const char *gid, const struct origin *at,
		       struct directive *d)
{
	if (parse_uint(uid, 10, 4294967294UL, &d->uid) < 0)
		return error_at(at, "bad uid '%s': use a number from 0 to 4294967294", uid);
	if (parse_uint(gid, 10, 4294967294UL, &d->gid) < 0)
		return error_at(at, "bad gid '%s': use a number from 0 to 4294967294", gid);
	return 0;
}

/* Normalize argv[i] as an image path. */
static int image_path(struct directive *d, size_t i)
{
	char *original = xstrdup(d->argv[i]);
	int rc = 0;
	if (path_normalize(d->argv[i]) < 0)
		rc = error_at(&d->origin, "path '%s' escapes the image ('..' is not allowed)", original);
	free(original);
	return rc;
}

static int host_location(struct directive *d, size_t i)
{
	char *expanded = expand_env(d->argv[i], &d->origin);
	if (!expanded)
		return -1;
	if (!*expanded) {
		free(expanded);
		return error_at(&d->origin, "empty host path");
	}
	free(d->argv[i]);
	d->argv[i] = expanded;
	return 0;
}

/* Per-directive field checks. */
static int check_fields(struct directive *d)
{
	const struct origin *at = &d->origin;
	char **a = d->argv;
	switch (d->kind) {
	case D_FILE:
		for (size_t i = 5; i < d->argc; i++)
			if (image_path(d, i) < 0)
				return -1;
		if (host_location(d, 1) < 0 || parse_mode(a[2], at, &d->mode) < 0)
			return -1;
		if (parse_owner(a[3], a[4], at, d) < 0)
			return -1;
		break;
	case D_DIR: case D_PIPE: case D_SOCK:
		if (parse_mode(a[1], at, &d->mode) < 0 || parse_owner(a[2], a[3], at, d) < 0)
			return -1;
		break;
	case D_NOD:
		if (parse_mode(a[1], at, &d->mode) < 0 || parse_owner(a[2], a[3], at, d) < 0)
			return -1;
		if (strcmp(a[4], "b") && strcmp(a[4], "c"))
			return error_at(at, "bad device type '%s': use b (block) or c (character)", a[4]);
		d->devtype = a[4][0];
		if (parse_uint(a[5], 10, 4095, &d->major) < 0)
			return error_at(at, "bad major number '%s': use 0 to 4095", a[5]);
		if (parse_uint(a[6], 10, 1048575, &d->minor) < 0)
			return error_at(at, "bad minor number '%s': use 0 to 1048575", a[6]);
		break;
	case D_SLINK:
		if (!*a[1])
			return error_at(at, "empty symlink target");
		if (parse_mode(a[2], at, &d->mode) < 0 || parse_owner(a[3], a[4], at, d) < 0)
			return -1;
		break;
	case D_INCLUDE: case D_BUSYBOX:
		if (host_location(d, 0) < 0)
			return -1;
		if (d->argc == 2 && image_path(d, 1) < 0)
			return -1;
		return 0;
	case D_TREE:
		if (d->argc == 3)
			return error_at(at, "'tree' takes a uid and a gid together: tree <path> <host-dir> [<uid> <gid>]");
		if (host_location(d, 1) < 0)
			return -1;
		if (d->argc == 4) {
			d->has_owner = 1;
			if (parse_owner(a[2], a[3], at, d) < 0)
				return -1;
		}
		break;
	case D_TAR:
		if (host_location(d, 1) < 0)
			return -1;
		break;
	case D_TEXT:
		if (parse_mode(a[1], at, &d->mode) < 0 || parse_owner(a[2], a[3], at, d) < 0)
			return -1;
		break;
	case D_USER:
		if (!*a[0] || strpbrk(a[0], ":\n"))
			return error_at(at, "bad user name '%s'", a[0]);
		if (parse_owner(a[1], a[2], at, d) < 0)
			return -1;
		for (size_t i = 3; i < d->argc; i++)
			if (strpbrk(a[i], ":\n"))
				return error_at(at, "'%s' may not contain ':' or a newline", a[i]);
		return 0;
	case D_GROUP:
		if (!*a[0] || strpbrk(a[0], ":\n"))
			return error_at(at, "bad group name '%s'", a[0]);
		if (parse_uint(a[1], 10, 4294967294UL, &d->gid) < 0)
			return error_at(at, "bad gid '%s': use a number from 0 to 4294967294", a[1]);
		if (d->argc == 3 && strpbrk(a[2], ":\n"))
			return error_at(at, "'%s' may not contain ':' or a newline", a[2]);
		return 0;
	case D_REMOVE:
		break;
	case D_XATTR:
		if (strncmp(a[1], "user.", 5) && strncmp(a[1], "security.", 9) &&
		    strncmp(a[1], "trusted.", 8))
			return error_at(at, "bad attribute name '%s': use the user., security. or "
					"trusted. namespace", a[1]);
		if (!strncmp(a[2], "0x", 2)) {
			size_t n = strlen(a[2] + 2);
			if (n % 2 || strspn(a[2] + 2, "0123456789abcdefABCDEF") != n)
				return error_at(at, "bad value '%s': after 0x give an even number of "
						"hex digits", a[2]);
		}
		break;
	}
	return image_path(d, 0);
}

int recipe_parse_line(const char *line, const struct origin *at, struct directive *d)
{
	const struct syntax *syn = NULL;
	const char *p = line;
	struct buf word = { 0 };
	size_t keylen;

	memset(d, 0, sizeof(*d));
	d->origin = *at;
	while (isspace((unsigned char)*p))
		p++;
	if (!*p || *p == '#')
		return 0;
	for (keylen = 0; p[keylen] && !isspace((unsigned char)p[keylen]); keylen++)
		;
	for (size_t i = 0; i < sizeof(syntaxes) / sizeof(syntaxes[0]); i++)
		if (strlen(syntaxes[i].keyword) == keylen && !strncmp(p, syntaxes[i].keyword, keylen))
			syn = &syntaxes[i];
	if (!syn)
		return error_at(at, "unknown directive '%.*s' (expected file, dir, nod, slink, pipe, "
				"sock, include, tree, tar, busybox, text, user, group, remove or xattr)",
				(int)keylen, p);
	d->kind = syn->kind;
	p += keylen;
	d->argv = xcalloc(1, sizeof(*d->argv));
	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		if (syn->max_args && d->argc == syn->max_args)
			goto count;
		if (read_field(&p, &word, d->kind == D_TEXT && d->argc == 4, at) < 0) {
			buf_free(&word);
			directive_free(d);
			return -1;
		}
		add_arg(d, word.data);
		word.data = NULL;
		word.len = word.cap = 0;
	}
	if (d->argc < syn->min_args)
		goto count;
	if (check_fields(d) < 0) {
		directive_free(d);
		return -1;
	}
	return 1;
count:
	error_at(at, "'%s' takes %s%zu field%s, got %s%zu: %s", syn->keyword,
		 syn->max_args == syn->min_args ? "" : "at least ", syn->min_args,
		 syn->min_args == 1 ? "" : "s", *p ? "more than " : "", d->argc, syn->usage);
	directive_free(d);
	return -1;
}

void directive_free(struct directive *d)
{
	for (size_t i = 0; i < d->argc; i++)
		free(d->argv[i]);
	free(d->argv);
	d->argv = NULL;
	d->argc = 0;
}
