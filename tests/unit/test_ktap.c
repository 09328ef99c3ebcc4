/* The KTAP/TAP parser (boot/run/ktap.c), as kunit_tool_test.py tests
 * kunit.py's: a table of outputs and the counts each must give. */
#include "../../boot/run/ktap.h"
#include "unit.h"

struct ktap_case {
	const char *name, *text, *why;	/* why: ktap_end's reason, or NULL */
	long pass, fail, skip, crashed;
	const char *first;		/* the first leaf's name, or NULL */
};

static const struct ktap_case cases[] = {
	{ "KTAP flat", "KTAP version 1\n1..2\nok 1 a\nnot ok 2 b\n", NULL, 1, 1, 0, 0, "a" },
	{ "TAP 13 with a skip", "TAP version 13\n1..3\nok 1 - a\nok 2 - b # SKIP no net\nnot ok 3 - c\n", NULL,
	  1, 1, 1, 0, "a" },
	{ "TAP 14", "TAP version 14\n1..1\nok 1 - only\n", NULL, 1, 0, 0, 0, "only" },
	{ "a plan at the end", "TAP version 13\nok 1 - a\nok 2 - b\n1..2\n", NULL, 2, 0, 0, 0, "a" },
	{ "KUnit's nesting",
	  "KTAP version 1\n1..1\n    KTAP version 1\n    # Subtest: suite\n    1..2\n    ok 1 x\n    ok 2 y\nok 1 suite\n",
	  NULL, 2, 0, 0, 0, "x" },
	{ "tabs for indentation",
	  "KTAP version 1\n1..1\n\tKTAP version 1\n\t# Subtest: s\n\t1..1\n\tnot ok 1 t\nnot ok 1 s\n", NULL,
	  0, 1, 0, 0, "t" },
	{ "a console prefix", "[    0.100000] KTAP version 1\n[    0.100000] 1..1\n[    0.200000] ok 1 a\n", NULL,
	  1, 0, 0, 0, "a" },
	{ "kernel lines between results",
	  "[ 0.1] KTAP version 1\n[ 0.1] 1..2\n[ 0.2] ok 1 a\n[ 0.3] random: crng init done\n[ 0.4] ok 2 b\n",
	  NULL, 2, 0, 0, 0, "a" },
	{ "a planned test that never came", "KTAP version 1\n1..3\nok 1 a\nok 2 b\n", NULL, 2, 0, 0, 1, "a" },
	{ "cut short while a suite runs",
	  "KTAP version 1\n1..1\n    KTAP version 1\n    # Subtest: s\n    1..3\n    ok 1 a\n", "panic", 1, 0, 0, 2,
	  "a" },
	{ "a skipped suite", "KTAP version 1\n1..1\nok 1 s # SKIP not built\n", NULL, 0, 0, 1, 0, "s" },
	{ "no tests at all", "KTAP version 1\n1..0\n", NULL, 0, 0, 0, 0, NULL },
	{ "no TAP at all", "hello\nworld\n", NULL, 0, 0, 0, 0, NULL },
	{ "TAP 12: no version line", "1..2\nok 1 - a\nnot ok 2 - b\n", NULL, 1, 1, 0, 0, "a" },
	{ "TAP 12: the plan at the end, a skip", "ok 1 a\nok 2 b # SKIP no net\n1..2\n", NULL, 1, 0, 1, 0, "a" },
	{ "bats", "1..3\nok 1 adds\nnot ok 2 subtracts\n# (in test file t.bats, line 7)\n"
	  "#   `[ \"$r\" -eq 1 ]' failed\nok 3 divides # skip no float\n", NULL, 1, 1, 1, 0, "adds" },
	{ "prove -v: lines before the plan", "t/a.t ..\n1..2\nok 1\nok 2\nok\n", NULL, 2, 0, 0, 0, NULL },
	{ "lines after the end of the tests",
	  "KTAP version 1\n1..1\nok 1 a\nreboot: System halted\nok 2 stray\n", NULL, 1, 0, 0, 0, "a" },
	{ "a diagnostic does not end a test", "TAP version 13\n1..2\n# note\nok 1 - a\n# more\nnot ok 2 - b\n",
	  NULL, 1, 1, 0, 0, "a" },
	{ "three levels",
	  "KTAP version 1\n1..1\n  KTAP version 1\n  # Subtest: a\n  1..1\n    KTAP version 1\n    # Subtest: b\n"
	  "    1..2\n    ok 1 c\n    not ok 2 d\n  not ok 1 b\nnot ok 1 a\n",
	  NULL, 1, 1, 0, 0, "c" },
};

static const struct ktap_test *first_leaf(const struct ktap_test *t)
{
	while (t && t->n_sub)
		t = t->sub[0];
	return t;
}

static void run_case(struct unit *u, const struct ktap_case *c)
{
	struct ktap_parser p;
	struct ktap_counts n = { 0 };
	char *copy = strdup(c->text), *line, *next;
	const struct ktap_test *leaf;
	long long t = 0;
	ktap_init(&p);
	for (line = copy; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		ktap_line(&p, line, t++);
	}
	ktap_end(&p, c->why, t);
	ktap_count(&p.root, &n);
	leaf = p.root.n_sub ? first_leaf(&p.root) : NULL;
	unit_case(u, n.pass == c->pass && n.fail == c->fail && n.skip == c->skip && n.crashed == c->crashed,
		  c->name, "counts pass %ld fail %ld skip %ld crashed %ld, wanted %ld %ld %ld %ld", n.pass, n.fail,
		  n.skip, n.crashed, c->pass, c->fail, c->skip, c->crashed);
	if (c->first)
		unit_case(u, leaf && leaf->name && !strcmp(leaf->name, c->first), c->name,
			  "the first test is named '%s', wanted '%s'", leaf && leaf->name ? leaf->name : "(none)",
			  c->first);
	ktap_free(&p);
	free(copy);
}

int main(void)
{
	struct unit u = { 0 };
	for (size_t i = 0; i < UNIT_COUNT(cases); i++)
		run_case(&u, &cases[i]);
	return unit_done(&u);
}
