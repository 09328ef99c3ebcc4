/* A KTAP/TAP parser that reads output as it comes (Documentation/dev-tools/
 * ktap.rst). What counts, and how tests nest, is kunit.py's
 * (tools/testing/kunit/kunit_parser.py), so both give one answer:
 *   - nothing counts before the first "KTAP version N" or "TAP version N";
 *     what stood before it on that line is a console prefix (a timestamp),
 *     stripped by its length from the lines that have one; lines without
 *     are the kernel's own (log lines). TAP 12 has no version line (bats,
 *     prove and most emitters print none): a plan or a result at the start
 *     of a line starts the results too, with no prefix;
 *   - nesting is read from the lines, not from their indentation (two
 *     spaces, four or a tab, kernels differ): a nested version line or a
 *     "# Subtest: NAME" header opens a subtest of the open test, "1..N"
 *     is the open test's plan;
 *   - "ok N NAME" / "not ok N NAME" is the open test's own result when its
 *     plan is complete or NAME is its name; otherwise it is the result of
 *     a case of it. "# SKIP reason" skips; "# TODO" and "# XFAIL" are
 *     expected failures and count as passes;
 *   - every other line ("# Totals:" aside) waits for the next test of the
 *     open one: it becomes that test's log (a failure's diagnostics, the
 *     kernel's messages, a panic), or the open test's own log if the open
 *     test ends first;
 *   - kunit.py's end markers (the kernel halting, or looking for a root
 *     device) end the results;
 *   - when the output ends, the test that was running (lines waited for
 *     it) and planned tests that never came are crashed, as are open tests.
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

static void add_log(struct ktap_test *t, char *line)
{
	push((void ***)&t->log, &t->n_log, &t->cap_log, line);
}

void ktap_init(struct ktap_parser *p)
{
	memset(p, 0, sizeof(*p));
	p->root.planned = -1;
	p->open[0] = &p->root;
}

static void tell(struct ktap_parser *p, struct ktap_test *t, int what)
{
	int *flag = what == KTAP_STARTED ? &t->announced : &t->reported;
	if (*flag || t == &p->root)
		return;
	*flag = 1;
	if (p->event)
		p->event(p->ctx, t, what);
}

/* the open tests with a name have started, as far as anyone can tell */
static void tell_started(struct ktap_parser *p)
{
	for (int d = 1; d <= p->depth; d++)
		if (p->open[d]->name)
			tell(p, p->open[d], KTAP_STARTED);
}

/* the lines waiting at the open level go to T */
static void take_pending(struct ktap_parser *p, struct ktap_test *t)
{
	struct ktap_pending *w = &p->pending[p->depth];
	for (size_t i = 0; i < w->n; i++)
		add_log(t, w->lines[i]);
	w->n = 0;
}

/* a new test under the open one: it started when the one before it ended */
static struct ktap_test *new_test(struct ktap_parser *p, const char *name, long long now_ms)
{
	struct ktap_test *parent = p->open[p->depth], *t = xcalloc(1, sizeof(*t));
	t->name = name ? xstrdup(name) : NULL;
	t->planned = -1;
	t->start_ms = parent->n_sub ? parent->sub[parent->n_sub - 1]->end_ms : parent->start_ms;
	t->end_ms = now_ms;
	take_pending(p, t);
	push((void ***)&parent->sub, &parent->n_sub, &parent->cap_sub, t);
	return t;
}

/* opens a subtest of the open test (a version line or a header) */
static struct ktap_test *open_subtest(struct ktap_parser *p, const char *name, long long now_ms)
{
	struct ktap_test *t;
	if (p->depth + 1 >= KTAP_MAX_DEPTH)
		return NULL;
	t = new_test(p, name, now_ms);
	p->open[++p->depth] = t;
	p->fresh[p->depth] = !name;	/* a header may still name it */
	return t;
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

/* T's planned subtests that never came: one each, or one for a range
 * past MAX_MISSING (a plan can say anything) */
static void add_missing(struct ktap_test *t, long long now_ms)
{
	char name[64];
	struct ktap_test *m;
	while (t->planned > 0 && (long)t->n_sub < t->planned) {
		if (t->planned > (long)t->n_sub + MAX_MISSING)
			snprintf(name, sizeof(name), "tests %zu to %ld (never ran)", t->n_sub + 1, t->planned);
		else
			snprintf(name, sizeof(name), "test %zu (never ran)", t->n_sub + 1);
		m = xcalloc(1, sizeof(*m));
		m->name = xstrdup(name);
		m->planned = -1;
		m->status = KTAP_CRASHED;
		m->done = 1;
		m->start_ms = m->end_ms = now_ms;
		push((void ***)&t->sub, &t->n_sub, &t->cap_sub, m);
		if (t->planned > (long)t->n_sub - 1 + MAX_MISSING)
			break;
	}
}

static void finish(struct ktap_test *t, long long now_ms)
{
	t->done = 1;
	t->end_ms = now_ms;
}

static void on_result(struct ktap_parser *p, char *s, long long now_ms)
{
	struct ktap_test *open = p->open[p->depth], *t;
	int ok;
	long number;
	char *name, *directive;
	if (!result_line(s, &ok, &number, &name, &directive)) {
		push((void ***)&p->pending[p->depth].lines, &p->pending[p->depth].n, &p->pending[p->depth].cap,
		     xstrdup(s));
		return;
	}
	if (p->depth > 0 && ((open->planned >= 0 && (long)open->n_sub >= open->planned) ||
			     (open->name && !strcmp(open->name, name)))) {
		/* the open test's own result: what waited is its log */
		t = open;
		take_pending(p, t);
		add_missing(t, now_ms);
		p->pending[p->depth].n = 0;
		p->depth--;
	} else {
		t = new_test(p, NULL, now_ms);
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
	finish(t, now_ms);
	tell_started(p);
	if (t->n_sub)
		tell(p, t, KTAP_STARTED);
	tell(p, t, KTAP_ENDED);
}

/* kunit.py's KTAP_END: the kernel is done with the tests */
static int end_marker(const char *s)
{
	static const char *const markers[] = { "List of all partitions:",
		"Kernel panic - not syncing: VFS:", "reboot: System halted" };
	s += strspn(s, " \t");
	for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]); i++)
		if (!strncmp(s, markers[i], strlen(markers[i])))
			return 1;
	return 0;
}

const char *ktap_unprefixed(const struct ktap_parser *p, const char *raw)
{
	/* kunit.py strips the prefix's length (a timestamp changes, its
	 * width not): a line counts as prefixed if it is that long and its
	 * first and last prefix characters match */
	if (!p->prefix_len)
		return raw;
	if (strlen(raw) >= p->prefix_len && raw[0] == p->prefix[0] &&
	    raw[p->prefix_len - 1] == p->prefix[p->prefix_len - 1])
		return raw + p->prefix_len;
	return NULL;
}

static void wait_line(struct ktap_parser *p, const char *s)
{
	struct ktap_pending *w = &p->pending[p->depth];
	push((void ***)&w->lines, &w->n, &w->cap, xstrdup(s));
}

/* TAP without a version line: its first plan or result */
static int plain_tap_start(const char *s)
{
	return (!strncmp(s, "1..", 3) && isdigit((unsigned char)s[3])) || !strncmp(s, "ok ", 3) ||
	       !strncmp(s, "not ok ", 7) || !strcmp(s, "ok") || !strcmp(s, "not ok");
}

void ktap_line(struct ktap_parser *p, const char *raw, long long now_ms)
{
	char *line, *s, *version;
	const char *body;
	if (p->ended)
		return;
	if (!p->started) {
		version = strstr(raw, "KTAP version ");
		if (!version)
			version = strstr(raw, "TAP version ");
		if (!version && !plain_tap_start(raw))
			return;
		p->started = 1;
		p->root.start_ms = now_ms;
		if (version) {
			p->prefix_len = (size_t)(version - raw) < sizeof(p->prefix) ? (size_t)(version - raw) : 0;
			memcpy(p->prefix, raw, p->prefix_len);
			return;
		}
		/* plain TAP: this line is the plan or the first result */
	}
	body = ktap_unprefixed(p, raw);
	if (!body) {
		/* unprefixed: the kernel's own lines, a panic among them */
		if (end_marker(raw))
			p->ended = 1;
		else
			wait_line(p, raw);
		return;
	}
	line = xstrdup(body);
	line[strcspn(line, "\r")] = '\0';
	s = line + strspn(line, " \t");
	if (end_marker(s)) {
		p->ended = 1;
	} else if (!strncmp(s, "KTAP version ", 13) || !strncmp(s, "TAP version ", 12)) {
		open_subtest(p, NULL, now_ms);
	} else if (!strncmp(s, "# Subtest: ", 11)) {
		if (p->depth > 0 && p->fresh[p->depth]) {
			struct ktap_test *t = p->open[p->depth];
			free(t->name);
			t->name = xstrdup(s + 11);
			p->fresh[p->depth] = 0;
		} else {
			open_subtest(p, s + 11, now_ms);
		}
	} else if (!strncmp(s, "1..", 3) && isdigit((unsigned char)s[3])) {
		struct ktap_test *t = p->open[p->depth];
		t->planned = strtol(s + 3, NULL, 10);
		p->fresh[p->depth] = 0;
		if (t->name)
			tell(p, t, KTAP_STARTED);
	} else if (!strncmp(s, "ok ", 3) || !strncmp(s, "not ok ", 7)) {
		on_result(p, s, now_ms);
	} else if (*s && strncmp(s, "# Totals:", 9)) {
		wait_line(p, s);
	}
	free(line);
}

void ktap_end(struct ktap_parser *p, const char *why, long long now_ms)
{
	for (; p->depth >= 0; p->depth--) {
		struct ktap_test *t = p->open[p->depth];
		struct ktap_pending *w = &p->pending[p->depth];
		/* lines waited for a test the plan calls for (or, with no plan,
		 * in a run cut short): it was running */
		if (w->n && (t->planned < 0 ? why != NULL : (long)t->n_sub < t->planned)) {
			char name[32];
			struct ktap_test *c;
			snprintf(name, sizeof(name), "test %zu", t->n_sub + 1);
			c = new_test(p, name, now_ms);
			c->status = KTAP_CRASHED;
			if (why)
				add_log(c, xstrdup(why));
			finish(c, now_ms);
		}
		take_pending(p, t);
		add_missing(t, now_ms);
		if (t == &p->root) {
			finish(t, now_ms);
		} else if (!t->done) {
			t->status = KTAP_CRASHED;
			if (why && t != &p->root && !t->n_sub)
				add_log(t, xstrdup(why));
			finish(t, now_ms);
		}
	}
	p->depth = 0;
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
	for (int d = 0; d < KTAP_MAX_DEPTH; d++) {
		for (size_t i = 0; i < p->pending[d].n; i++)
			free(p->pending[d].lines[i]);
		free(p->pending[d].lines);
	}
	ktap_init(p);
}

void ktap_count_leaf(const struct ktap_test *t, struct ktap_counts *c)
{
	c->pass += t->status == KTAP_PASS;
	c->fail += t->status == KTAP_FAIL;
	c->skip += t->status == KTAP_SKIP;
	c->crashed += t->status == KTAP_CRASHED;
}

void ktap_count(const struct ktap_test *t, struct ktap_counts *c)
{
	for (size_t i = 0; i < t->n_sub; i++) {
		if (t->sub[i]->n_sub)
			ktap_count(t->sub[i], c);
		else
			ktap_count_leaf(t->sub[i], c);
	}
}
