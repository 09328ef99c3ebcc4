/* A KTAP/TAP parser that reads output as it comes (Documentation/dev-tools/
 * ktap.rst; kunit.py's kunit_parser.py is the reference for what counts):
 *   - nothing counts before the first "KTAP version N" or "TAP version N";
 *     what stood before it on that line is a console prefix (a timestamp),
 *     stripped by its length from the lines that have one; lines without
 *     are log lines;
 *   - four spaces of indentation a level; "# Subtest: NAME", a nested
 *     version line or a nested plan opens a subtest, its "ok"/"not ok" line
 *     one level up closes it;
 *   - "ok N NAME", "not ok N NAME", with "# SKIP reason" (skipped),
 *     "# TODO" and "# XFAIL" (expected failures count as passes);
 *   - other lines (diagnostics, "# Totals:" aside) are the log of the test
 *     whose result line comes next at that level;
 *   - when the output ends, open tests and planned tests that never came
 *     are crashed; the last log lines (a panic) go to the one that ran.
 * No global state; every allocation failure aborts (xcalloc). */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ktap.h"
#include "run.h"

#define MAX_MISSING 1000

static void push(void ***arr, size_t *n, size_t *cap, void *item)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		*arr = realloc(*arr, *cap * sizeof(**arr));
		if (!*arr)
			abort();
	}
	(*arr)[(*n)++] = item;
}

static void add_log(struct ktap_test *t, const char *line)
{
	push((void ***)&t->log, &t->n_log, &t->cap_log, xstrdup(line));
}

static struct ktap_test *new_test(struct ktap_test *parent, const char *name, long long now_ms)
{
	struct ktap_test *t = xcalloc(1, sizeof(*t));
	t->name = name ? xstrdup(name) : NULL;
	t->planned = -1;
	t->start_ms = t->end_ms = now_ms;
	push((void ***)&parent->sub, &parent->n_sub, &parent->cap_sub, t);
	return t;
}

void ktap_init(struct ktap_parser *p)
{
	memset(p, 0, sizeof(*p));
	p->root.planned = -1;
	p->open[0] = &p->root;
}

/* "ok 3 - name # SKIP why": 1 and the fields, or 0 */
static int result_line(char *s, int *ok, long *number, char **name, char **directive)
{
	char *end;
	*ok = !strncmp(s, "ok ", 3);
	if (!*ok && strncmp(s, "not ok ", 7))
		return 0;
	s += *ok ? 3 : 7;
	*number = strtol(s, &end, 10);
	if (end == s)
		return 0;
	s = end + strspn(end, " ");
	if (!strncmp(s, "- ", 2))
		s += 2;
	*directive = strstr(s, " # ");
	if (*directive) {
		**directive = '\0';
		*directive += 3;
	} else if (*s == '#') {
		*directive = s + 1 + strspn(s + 1, " ");
		s = "";
	}
	*name = s;
	return 1;
}

static void set_result(struct ktap_test *t, int ok, const char *directive)
{
	t->status = ok ? KTAP_PASS : KTAP_FAIL;
	if (!directive)
		return;
	if (!strncasecmp(directive, "SKIP", 4)) {
		t->status = KTAP_SKIP;
	} else if (!strncasecmp(directive, "TODO", 4) || !strncasecmp(directive, "XFAIL", 5)) {
		t->status = KTAP_PASS;	/* an expected failure */
	} else {
		return;
	}
	directive += strcspn(directive, " ");
	directive += strspn(directive, " ");
	t->reason = xstrdup(directive);
}

/* Closes open tests deeper than DEPTH (their result never came). */
static void close_to(struct ktap_parser *p, int depth, long long now_ms)
{
	while (p->depth > depth) {
		struct ktap_test *t = p->open[p->depth--];
		if (!t->done) {
			t->status = KTAP_CRASHED;
			t->end_ms = now_ms;
		}
	}
}

/* the test whose lines are at DEPTH, opened as a subtest if need be */
static struct ktap_test *at(struct ktap_parser *p, int depth, long long now_ms)
{
	if (depth >= KTAP_MAX_DEPTH)
		depth = KTAP_MAX_DEPTH - 1;
	while (p->depth < depth) {
		struct ktap_test *parent = p->open[p->depth];
		p->open[++p->depth] = new_test(parent, NULL, now_ms);
	}
	close_to(p, depth, now_ms);
	return p->open[depth];
}

/* the log lines a test's result line takes: the pending ones at its level */
static struct ktap_test *pending(struct ktap_parser *p, int depth, long long now_ms)
{
	struct ktap_test *t = at(p, depth, now_ms);
	if (!t->n_sub || t->sub[t->n_sub - 1]->done) {
		/* the one running now, since the one before it ended */
		long long since = t->n_sub ? t->sub[t->n_sub - 1]->end_ms : t->start_ms;
		new_test(t, NULL, now_ms)->start_ms = since;
	}
	return t->sub[t->n_sub - 1];
}

static void on_result(struct ktap_parser *p, int depth, char *s, long long now_ms)
{
	int ok;
	long number;
	char *name, *directive;
	struct ktap_test *t;
	if (!result_line(s, &ok, &number, &name, &directive)) {
		add_log(pending(p, depth, now_ms), s);
		return;
	}
	/* a subtest one level down: this line is its result */
	if (p->depth > depth && p->open[depth + 1] && !p->open[depth + 1]->done) {
		t = p->open[depth + 1];
		close_to(p, depth + 1, now_ms);
		p->depth = depth;
	} else {
		t = pending(p, depth, now_ms);
	}
	if (*name && (!t->name || !*t->name)) {
		free(t->name);
		t->name = xstrdup(name);
	} else if (!t->name) {
		char n[32];
		snprintf(n, sizeof(n), "test %ld", number);
		t->name = xstrdup(n);
	}
	set_result(t, ok, directive);
	t->done = 1;
	t->end_ms = now_ms;
}

void ktap_line(struct ktap_parser *p, const char *raw, long long now_ms)
{
	char *line, *s, *version;
	size_t indent;
	int depth;
	if (!p->started) {
		version = strstr(raw, "KTAP version ");
		if (!version)
			version = strstr(raw, "TAP version ");
		if (!version)
			return;
		p->started = 1;
		p->prefix_len = (size_t)(version - raw) < sizeof(p->prefix) ? (size_t)(version - raw) : 0;
		memcpy(p->prefix, raw, p->prefix_len);
		p->root.start_ms = now_ms;
		return;
	}
	/* kunit.py strips the prefix's length (a timestamp changes, its
	 * width not): a line counts as prefixed if it is that long and its
	 * first and last prefix characters match */
	if (p->prefix_len && (strlen(raw) < p->prefix_len || raw[0] != p->prefix[0] ||
			      raw[p->prefix_len - 1] != p->prefix[p->prefix_len - 1])) {
		/* unprefixed: the kernel's own lines, a panic among them */
		add_log(pending(p, p->depth, now_ms), raw);
		return;
	}
	line = xstrdup(raw + p->prefix_len);
	line[strcspn(line, "\r")] = '\0';
	indent = strspn(line, " ");
	depth = (int)(indent / 4);
	s = line + indent;
	if (!strncmp(s, "KTAP version ", 13) || !strncmp(s, "TAP version ", 12)) {
		at(p, depth, now_ms);
	} else if (!strncmp(s, "# Subtest: ", 11)) {
		struct ktap_test *t = at(p, depth, now_ms);
		if (t == &p->root || t->name) {
			/* a header without a version line first */
			p->depth = depth - 1 < 0 ? 0 : depth - 1;
			t = at(p, depth, now_ms);
		}
		free(t->name);
		t->name = xstrdup(s + 11);
	} else if (!strncmp(s, "1..", 3) && isdigit((unsigned char)s[3])) {
		at(p, depth, now_ms)->planned = strtol(s + 3, NULL, 10);
	} else if (!strncmp(s, "ok ", 3) || !strncmp(s, "not ok ", 7)) {
		on_result(p, depth, s, now_ms);
	} else if (strncmp(s, "# Totals:", 9) && *s) {
		add_log(pending(p, depth > p->depth ? p->depth : depth, now_ms), s);
	}
	free(line);
}

static void end_test(struct ktap_test *t, const char *why, long long now_ms)
{
	for (size_t i = 0; i < t->n_sub; i++)
		end_test(t->sub[i], why, now_ms);
	/* planned tests that never came: one each, or one for a range past
	 * MAX_MISSING (a plan can say anything) */
	if (t->planned > (long)t->n_sub + MAX_MISSING) {
		char name[64];
		snprintf(name, sizeof(name), "tests %zu to %ld (never ran)", t->n_sub + 1, t->planned);
		new_test(t, name, now_ms)->status = KTAP_CRASHED;
		t->sub[t->n_sub - 1]->done = 1;
	} else while (t->planned > 0 && (long)t->n_sub < t->planned) {
		char name[48];
		snprintf(name, sizeof(name), "test %zu (never ran)", t->n_sub + 1);
		new_test(t, name, now_ms)->status = KTAP_CRASHED;
		t->sub[t->n_sub - 1]->done = 1;
	}
	if (!t->done) {
		t->status = KTAP_CRASHED;
		t->end_ms = now_ms;
		if (why)
			add_log(t, why);
		t->done = 1;
	}
}

void ktap_end(struct ktap_parser *p, const char *why, long long now_ms)
{
	/* a test started (it has log lines) but never reported: it crashed */
	for (int d = p->depth; d >= 0; d--) {
		struct ktap_test *t = p->open[d];
		if (t->n_sub && !t->sub[t->n_sub - 1]->done && !t->sub[t->n_sub - 1]->name) {
			char name[32];
			snprintf(name, sizeof(name), "test %zu", t->n_sub);
			t->sub[t->n_sub - 1]->name = xstrdup(name);
		}
	}
	p->root.done = 1;
	end_test(&p->root, why, now_ms);
	p->root.end_ms = now_ms;
}

static void free_test(struct ktap_test *t)
{
	for (size_t i = 0; i < t->n_sub; i++) {
		free_test(t->sub[i]);
		free(t->sub[i]);
	}
	for (size_t i = 0; i < t->n_log; i++)
		free(t->log[i]);
	free(t->sub);
	free(t->log);
	free(t->name);
	free(t->reason);
}

void ktap_free(struct ktap_parser *p)
{
	free_test(&p->root);
	ktap_init(p);
}

void ktap_count(const struct ktap_test *t, struct ktap_counts *c)
{
	if (!t->n_sub) {
		c->pass += t->status == KTAP_PASS;
		c->fail += t->status == KTAP_FAIL;
		c->skip += t->status == KTAP_SKIP;
		c->crashed += t->status == KTAP_CRASHED;
		return;
	}
	for (size_t i = 0; i < t->n_sub; i++)
		ktap_count(t->sub[i], c);
}
