#include "recipe.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tree.h"

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

static int account_field(const char *s, const struct origin *at)
{
	if (strpbrk(s, ":\n"))
		return error_at(at, "'%s' may not contain ':' or a newline", s);
	return 0;
}

/* Check field i by its letter:
 *   p image path      h host location     m mode       u uid    g gid
 *   t b or c          M major             N minor      l symlink target
 *   s any string      r string to the end of the line (escapes decoded)
 *   a account name    f account field     x attribute name     v value
 *   b a base name (one path component, not . or ..)
 *   k a Debian suite or package name (Debian policy 5.6.1: lower case,
 *     digits, + - . ; also the apt-free guard against options) */
static int check_field(struct directive *d, size_t i, char letter)
{
	const struct origin *at = &d->origin;
	const char *a = d->argv[i];
	switch (letter) {
	case 'p': return image_path(d, i);
	case 'h': return host_location(d, i);
	case 'm':
		if (parse_uint(a, 8, 07777, &d->mode) < 0)
			return error_at(at, "bad mode '%s': use octal permission bits, at most 07777", a);
		return 0;
	case 'u':
		if (parse_uint(a, 10, 4294967294UL, &d->uid) < 0)
			return error_at(at, "bad uid '%s': use a number from 0 to 4294967294", a);
		return 0;
	case 'g':
		if (parse_uint(a, 10, 4294967294UL, &d->gid) < 0)
			return error_at(at, "bad gid '%s': use a number from 0 to 4294967294", a);
		return 0;
	case 't':
		if (strcmp(a, "b") && strcmp(a, "c"))
			return error_at(at, "bad device type '%s': use b (block) or c (character)", a);
		d->devtype = a[0];
		return 0;
	case 'M':
		if (parse_uint(a, 10, 4095, &d->major) < 0)
			return error_at(at, "bad major number '%s': use 0 to 4095", a);
		return 0;
	case 'N':
		if (parse_uint(a, 10, 1048575, &d->minor) < 0)
			return error_at(at, "bad minor number '%s': use 0 to 1048575", a);
		return 0;
	case 'l':
		return *a ? 0 : error_at(at, "empty symlink target");
	case 'a':
		if (!*a || strpbrk(a, ":\n"))
			return error_at(at, "bad %s name '%s'", d->def->keyword, a);
		return 0;
	case 'f':
		return account_field(a, at);
	case 'b':
		if (!*a || strchr(a, '/') || !strcmp(a, ".") || !strcmp(a, ".."))
			return error_at(at, "bad name '%s': one path component, such as copyright", a);
		return 0;
	case 'k':
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789", *a) || !*a ||
		    strspn(a, "abcdefghijklmnopqrstuvwxyz0123456789+-.") != strlen(a))
			return error_at(at, "bad Debian name '%s': use lower-case letters, digits, "
					"'+', '-' and '.', starting with a letter or digit", a);
		return 0;
	case 'x':
		if (strncmp(a, "user.", 5) && strncmp(a, "security.", 9) && strncmp(a, "trusted.", 8))
			return error_at(at, "bad attribute name '%s': use the user., security. or "
					"trusted. namespace", a);
		return 0;
	case 'v':
		if (!strncmp(a, "0x", 2)) {
			size_t n = strlen(a + 2);
			if (n % 2 || strspn(a + 2, "0123456789abcdefABCDEF") != n)
				return error_at(at, "bad value '%s': after 0x give an even number of "
						"hex digits", a);
		}
		return 0;
	default: /* 's', 'r' */
		return 0;
	}
}

/* The letter of field i in a fields string ("phmug|p*"). */
static char field_letter(const char *fields, size_t i)
{
	const char *p = fields;
	char last = 0;
	for (;;) {
		if (*p == '|') {
			p++;
			continue;
		}
		if (*p == '*' || !*p)
			return *p == '*' ? last : 0;
		if (i-- == 0)
			return *p;
		last = *p++;
	}
}

static void field_counts(const char *fields, size_t *min, size_t *max)
{
	const char *bar = strchr(fields, '|');
	size_t letters = strlen(fields) - (bar != NULL);
	*min = bar ? (size_t)(bar - fields) : letters;
	*max = fields[strlen(fields) - 1] == '*' ? 0 : letters;
}

static const struct directive_def *lookup(const char *word, size_t len)
{
	for (size_t i = 0; i < directive_count; i++)
		if (strlen(directive_defs[i].keyword) == len &&
		    !strncmp(word, directive_defs[i].keyword, len))
			return &directive_defs[i];
	return NULL;
}

static int unknown_directive(const char *word, size_t len, const struct origin *at)
{
	struct buf names = { 0 };
	int rc;
	for (size_t i = 0; i < directive_count; i++)
		buf_addf(&names, "%s%s", i ? (i + 1 == directive_count ? " or " : ", ") : "",
			 directive_defs[i].keyword);
	rc = error_at(at, "unknown directive '%.*s' (expected %s)", (int)len, word, names.data);
	buf_free(&names);
	return rc;
}

int recipe_parse_line(const char *line, const struct origin *at, struct directive *d)
{
	const struct directive_def *def;
	const char *p = line;
	struct buf word = { 0 };
	size_t keylen, min, max;

	memset(d, 0, sizeof(*d));
	d->origin = *at;
	while (isspace((unsigned char)*p))
		p++;
	if (!*p || *p == '#')
		return 0;
	for (keylen = 0; p[keylen] && !isspace((unsigned char)p[keylen]); keylen++)
		;
	def = lookup(p, keylen);
	if (!def)
		return unknown_directive(p, keylen, at);
	d->def = def;
	field_counts(def->fields, &min, &max);
	p += keylen;
	d->argv = xcalloc(1, sizeof(*d->argv));
	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		if (max && d->argc == max)
			goto count;
		if (read_field(&p, &word, field_letter(def->fields, d->argc) == 'r', at) < 0) {
			buf_free(&word);
			directive_free(d);
			return -1;
		}
		add_arg(d, word.data);
		word.data = NULL;
		word.len = word.cap = 0;
	}
	if (d->argc < min)
		goto count;
	for (size_t i = 0; i < d->argc; i++) {
		if (check_field(d, i, field_letter(def->fields, i)) < 0) {
			directive_free(d);
			return -1;
		}
	}
	if (def->check && def->check(d) < 0) {
		directive_free(d);
		return -1;
	}
	return 1;
count:
	error_at(at, "'%s' takes %s%zu field%s, got %s%zu: %s", def->keyword,
		 max == min ? "" : "at least ", min, min == 1 ? "" : "s", *p ? "more than " : "",
		 d->argc, def->usage);
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
