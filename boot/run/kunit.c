/* KUnit results as kunit.py shows them (kunit_parser.py): a header when a
 * suite starts, "[PASSED] case" as each case ends (a failed or crashed
 * one after its log), a footer when the suite ends, then kunit.py's
 * summary line; and --parse, kunit.py parse's counterpart. Printed as the
 * results come, so a long run shows its progress. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ktap.h"
#include "report.h"
#include "run.h"

/* --filter GLOB: kunit.filter_glob, as kunit.py passes it */
static int set_filter(struct options *opt, char *val, const char *prog)
{
	if (!*val || strpbrk(val, " \t\n\""))
		return usage_error(prog, "--filter '%s': use SUITE or SUITE.TEST globs, such as 'example*' or "
				   "'kunit*.*free*' (no blanks or quotes)", val);
	opt->kunit.filter = val;
	return 0;
}

static int set_raw(struct options *opt, char *val, const char *prog)
{
	(void)val, (void)prog;
	opt->kunit.raw = 1;
	return 0;
}

static const struct optdef kunit_rows[] = {
	{ "--filter", "GLOB", set_filter, OPT_KUNIT, "run only the tests GLOB names: SUITE or SUITE.TEST globs\n"
	  "                         (kunit.filter_glob), such as 'example*' or '*.*free*'", NULL },
	{ "--raw", NULL, set_raw, OPT_KUNIT, "print the KTAP the kernel printed instead of the results", NULL },
};

const struct option_group kunit_option_group = OPTION_GROUP("KUnit", kunit_rows, NULL);

#define DIVIDER_WIDTH 60

static const char *const result_names[] = { "[PASSED]", "[FAILED]", "[SKIPPED]", "[CRASHED]" };

/* kunit.py's format_test_divider: MESSAGE centred in '=' */
static void divider(FILE *f, const char *message)
{
	int len = (int)strlen(message), left = 3, right = 3, room = DIVIDER_WIDTH - len - 2;
	if (room > 0) {
		left = room / 2;
		right = room - left;
	}
	fprintf(f, "%.*s %s %.*s\n", left, "====================================================", message,
		right, "====================================================");
}

static void print_log(FILE *f, const struct ktap_test *t)
{
	for (size_t i = 0; i < t->n_log; i++)
		fprintf(f, "%s\n", t->log[i]);
}

static void print_end(FILE *f, const struct ktap_test *t)
{
	char message[512];
	snprintf(message, sizeof(message), "%s %s", result_names[t->status], t->name ? t->name : "");
	if (t->status == KTAP_FAIL || t->status == KTAP_CRASHED)
		print_log(f, t);
	if (t->n_sub)
		divider(f, message);
	else
		fprintf(f, "%s\n", message);
}

static void on_event(void *ctx, struct ktap_test *t, int what)
{
	FILE *f = ctx;
	if (what == KTAP_STARTED) {
		char message[512];
		if (t->planned > 0)
			snprintf(message, sizeof(message), "%s (%ld subtest%s)", t->name, t->planned,
				 t->planned == 1 ? "" : "s");
		else
			snprintf(message, sizeof(message), "%s", t->name);
		divider(f, message);
	} else {
		print_end(f, t);
	}
	fflush(f);
}

void kunit_attach(struct ktap_parser *p, FILE *out)
{
	p->event = on_event;
	p->ctx = out;
}

/* --raw: the KTAP lines as the parser took them, console prefix removed */
void kunit_raw_line(const struct ktap_parser *p, const char *line, FILE *out)
{
	if (!p->started || p->ended || !(line = ktap_unprefixed(p, line)))
		return;		/* not KTAP: before it, after it, the kernel's own */
	fprintf(out, "%s\n", line);
	fflush(out);
}

/* tests the end of the output decided (crashed, never ran), in order */
static void report_rest(FILE *f, struct ktap_test *t, int top)
{
	for (size_t i = 0; i < t->n_sub; i++)
		report_rest(f, t->sub[i], 0);
	if (top || t->reported)
		return;
	t->reported = 1;
	print_end(f, t);
}

/* After ktap_end: what is left to show and kunit.py's summary line (OUT
 * NULL: neither), and kunit.py's exit status: 0 when every test passed or
 * was skipped, 1 otherwise. PROG NULL: no message when no test ran. */
int kunit_summary(struct ktap_parser *p, FILE *out, const char *prog)
{
	struct ktap_counts c = { 0 };
	static const char *const names[] = { "passed", "failed", "crashed", "skipped" };
	long counts[4], total;
	const char *sep = "";

	if (!p->started) {
		if (prog)
			say(prog, "no TAP or KTAP in the output: no test ran (a KUnit kernel: is CONFIG_KUNIT "
			    "set; does --filter name a test?)");
		return 1;
	}
	ktap_count(&p->root, &c);
	counts[0] = c.pass, counts[1] = c.fail, counts[2] = c.crashed, counts[3] = c.skip;
	total = c.pass + c.fail + c.crashed + c.skip;
	if (!out)
		return total && !c.fail && !c.crashed ? 0 : 1;
	if (!total && prog)
		say(prog, "no test ran%s", p->root.planned == 0 ? " (1..0: does --filter name one?)" : "");
	report_rest(out, &p->root, 1);
	fprintf(out, "%.*s\nTesting complete. Ran %ld tests", DIVIDER_WIDTH,
		"============================================================", total);
	fputs(total ? ": " : "", out);
	for (int i = 0; i < 4; i++)
		if (counts[i]) {
			fprintf(out, "%s%s: %ld", sep, names[i], counts[i]);
			sep = ", ";
		}
	fputc('\n', out);
	fflush(out);
	return total && !c.fail && !c.crashed ? 0 : 1;
}

/* --parse FILE: kunit.py parse */
int kunit_parse_file(struct run *r)
{
	struct ktap_parser p;
	FILE *in = strcmp(r->opt.report.parse_file, "-") ? fopen(r->opt.report.parse_file, "r") : stdin;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	struct timespec ts;
	int code;

	if (!in) {
		say(r->prog, "--parse '%s': %s", r->opt.report.parse_file, strerror(errno));
		return EX_USAGE;
	}
	ktap_init(&p);
	if (!r->opt.kunit.raw)
		kunit_attach(&p, stdout);
	while ((n = getline(&line, &cap, in)) >= 0) {
		if (n && line[n - 1] == '\n')
			line[n - 1] = '\0';
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ktap_line(&p, line, (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
		if (r->opt.kunit.raw)
			kunit_raw_line(&p, line, stdout);
	}
	free(line);
	if (in != stdin)
		fclose(in);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ktap_end(&p, NULL, (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	code = kunit_summary(&p, r->opt.kunit.raw ? NULL : stdout, r->prog);
	if (report_files(r->opt.report.junit, r->opt.report.json, &p.root, r->conf.name, r->prog) < 0 && code == 0)
		code = EX_HOST;
	ktap_free(&p);
	return code;
}
