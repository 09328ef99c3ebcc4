/* Test reports from a KTAP tree (ktap.c): JUnit XML, as GitLab, Jenkins and
 * GitHub's reporters read it (one <testsuite> per suite, nested suites
 * flattened with dotted names, <failure> with the test's log lines,
 * <skipped> with the reason), and JSON with what kunit.py's JSON lacks:
 * per test its status, duration, log lines and skip reason. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ktap.h"
#include "report.h"
#include "run.h"

/* a report file: written at the end (FILE.tmp, renamed), so its directory
 * must take it */
static int check_report(const char *opt, char *val, const char *prog)
{
	char *dir = xstrdup(val), *slash = strrchr(dir, '/');
	int ok;
	if (slash)
		*slash = '\0';
	ok = access(slash ? (*dir ? dir : "/") : ".", W_OK | X_OK) == 0;
	free(dir);
	if (!ok)
		return usage_error(prog, "%s '%s': cannot write in its directory", opt, val);
	return 0;
}

static int set_junit(struct options *opt, char *val, const char *prog)
{
	opt->report.junit = val;
	return check_report("--junit", val, prog);
}

static int set_json(struct options *opt, char *val, const char *prog)
{
	opt->report.json = val;
	return check_report("--json", val, prog);
}

static int set_parse(struct options *opt, char *val, const char *prog)
{
	(void)prog;
	opt->report.parse_file = val;
	return options_set_action(opt, "parse");
}

static const char *def_junit(const struct bundle_conf *conf)
{
	return options_is_kunit(conf) ? "write a JUnit XML report of the tests to FILE"
				      : "read the command's stdout as TAP/KTAP (it still passes\n"
					"                         through) and write a JUnit XML report to FILE";
}

static const struct optdef report_rows[] = {
	{ "--junit", "FILE", set_junit, OPT_ANY, "%s", def_junit },
	{ "--json", "FILE", set_json, OPT_ANY, "the same as JSON: each test's status, duration, log, reason", NULL },
	{ "--parse", "FILE", set_parse, OPT_ANY, "read KTAP/TAP from FILE (- for stdin) instead of booting:\n"
	  "                         kunit.py's results, --junit and --json, exit 0 or 1", NULL },
};

const struct option_group report_option_group = OPTION_GROUP("Reports", report_rows, NULL);

static const char *const status_names[] = { "PASS", "FAIL", "SKIP", "CRASHED" };

static void xml_text(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '<')
			fputs("&lt;", f);
		else if (c == '>')
			fputs("&gt;", f);
		else if (c == '&')
			fputs("&amp;", f);
		else if (c == '"')
			fputs("&quot;", f);
		else if (c < 0x20 && c != '\t' && c != '\n')
			fputc('?', f);	/* not allowed in XML 1.0 */
		else
			fputc(c, f);
	}
}

static void json_text(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static double seconds(const struct ktap_test *t)
{
	return t->end_ms > t->start_ms ? (double)(t->end_ms - t->start_ms) / 1000.0 : 0.0;
}

static void junit_case(FILE *f, const struct ktap_test *t, const char *suite)
{
	fputs("    <testcase classname=\"", f);
	xml_text(f, suite);
	fputs("\" name=\"", f);
	xml_text(f, t->name);
	fprintf(f, "\" time=\"%.3f\"", seconds(t));
	if (t->status == KTAP_PASS && !t->n_log) {
		fputs("/>\n", f);
		return;
	}
	fputs(">\n", f);
	if (t->status == KTAP_SKIP) {
		fputs("      <skipped message=\"", f);
		xml_text(f, t->reason ? t->reason : "");
		fputs("\"/>\n", f);
	} else if (t->status != KTAP_PASS) {
		fputs(t->status == KTAP_FAIL ? "      <failure message=\"failed\">" : "      <error message=\"crashed\">", f);
		for (size_t i = 0; i < t->n_log; i++) {
			xml_text(f, t->log[i]);
			fputc('\n', f);
		}
		fputs(t->status == KTAP_FAIL ? "</failure>\n" : "</error>\n", f);
	}
	if (t->n_log && (t->status == KTAP_PASS || t->status == KTAP_SKIP)) {
		fputs("      <system-out>", f);
		for (size_t i = 0; i < t->n_log; i++) {
			xml_text(f, t->log[i]);
			fputc('\n', f);
		}
		fputs("</system-out>\n", f);
	}
	fputs("    </testcase>\n", f);
}

/* one <testsuite> for T's leaves; its subtests with subtests recurse,
 * named SUITE.NAME */
static void junit_suite(FILE *f, const struct ktap_test *t, const char *name, const char *run)
{
	struct ktap_counts c = { 0 };
	size_t leaves = 0;
	for (size_t i = 0; i < t->n_sub; i++)
		if (!t->sub[i]->n_sub) {
			ktap_count_leaf(t->sub[i], &c);
			leaves++;
		}
	if (leaves) {
		/* the run's own top-level tests form a suite named after the run */
		const char *suite = *name ? name : run;
		fputs("  <testsuite name=\"", f);
		xml_text(f, suite);
		fprintf(f, "\" tests=\"%zu\" failures=\"%ld\" errors=\"%ld\" skipped=\"%ld\" time=\"%.3f\">\n", leaves,
			c.fail, c.crashed, c.skip, seconds(t));
		for (size_t i = 0; i < t->n_sub; i++)
			if (!t->sub[i]->n_sub)
				junit_case(f, t->sub[i], suite);
		fputs("  </testsuite>\n", f);
	}
	for (size_t i = 0; i < t->n_sub; i++)
		if (t->sub[i]->n_sub) {
			char child[1024];
			snprintf(child, sizeof(child), "%s%s%s", name, *name ? "." : "",
				 t->sub[i]->name ? t->sub[i]->name : "?");
			junit_suite(f, t->sub[i], child, run);
		}
}

/* No plan and no result: the output held no TAP at all (an empty run
 * says 1..0). A report of it says so, as an error, not a success. */
#define NO_TAP "no TAP or KTAP in the output"
static int no_tap(const struct ktap_test *root)
{
	return root->planned < 0 && !root->n_sub;
}

int report_junit(const struct ktap_test *root, const char *name, FILE *f)
{
	struct ktap_counts c = { 0 };
	ktap_count(root, &c);
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"", f);
	xml_text(f, name);
	if (no_tap(root)) {
		fputs("\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\" time=\"0.000\">\n  <testsuite name=\"", f);
		xml_text(f, name);
		fputs("\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\" time=\"0.000\">\n"
		      "    <testcase classname=\"", f);
		xml_text(f, name);
		fputs("\" name=\"TAP\" time=\"0.000\">\n      <error message=\"" NO_TAP "\"/>\n"
		      "    </testcase>\n  </testsuite>\n</testsuites>\n", f);
		return ferror(f) ? -1 : 0;
	}
	fprintf(f, "\" tests=\"%ld\" failures=\"%ld\" errors=\"%ld\" skipped=\"%ld\" time=\"%.3f\">\n",
		c.pass + c.fail + c.skip + c.crashed, c.fail, c.crashed, c.skip, seconds(root));
	junit_suite(f, root, "", name);
	fputs("</testsuites>\n", f);
	return ferror(f) ? -1 : 0;
}

static void json_test(FILE *f, const struct ktap_test *t, int indent)
{
	fprintf(f, "%*s{\"name\": ", indent, "");
	json_text(f, t->name);
	fprintf(f, ", \"status\": \"%s\", \"duration\": %.3f", status_names[t->status], seconds(t));
	if (t->reason) {
		fputs(", \"reason\": ", f);
		json_text(f, t->reason);
	}
	fputs(", \"log\": [", f);
	for (size_t i = 0; i < t->n_log; i++) {
		if (i)
			fputs(", ", f);
		json_text(f, t->log[i]);
	}
	fputs("]", f);
	if (t->n_sub) {
		fputs(", \"tests\": [\n", f);
		for (size_t i = 0; i < t->n_sub; i++) {
			json_test(f, t->sub[i], indent + 2);
			fputs(i + 1 < t->n_sub ? ",\n" : "\n", f);
		}
		fprintf(f, "%*s]", indent, "");
	}
	fputs("}", f);
}

int report_json(const struct ktap_test *root, const char *name, FILE *f)
{
	struct ktap_counts c = { 0 };
	ktap_count(root, &c);
	fputs("{\"name\": ", f);
	json_text(f, name);
	fprintf(f, ", \"summary\": {\"total\": %ld, \"passed\": %ld, \"failed\": %ld, \"skipped\": %ld, \"crashed\": %ld}"
		   "%s,\n \"tests\": [\n", c.pass + c.fail + c.skip + c.crashed, c.pass, c.fail, c.skip, c.crashed,
		no_tap(root) ? ", \"error\": \"" NO_TAP "\"" : "");
	for (size_t i = 0; i < root->n_sub; i++) {
		json_test(f, root->sub[i], 2);
		fputs(i + 1 < root->n_sub ? ",\n" : "\n", f);
	}
	fputs(" ]}\n", f);
	return ferror(f) ? -1 : 0;
}

/* --junit FILE, --json FILE: each written whole (FILE.tmp, renamed) */
int report_files(const char *junit, const char *json, const struct ktap_test *root, const char *name,
		 const char *prog)
{
	const char *files[] = { junit, json };
	int rc = 0;
	for (int i = 0; i < 2; i++) {
		char *tmp;
		FILE *f;
		if (!files[i])
			continue;
		tmp = xasprintf("%s.tmp", files[i]);
		f = fopen(tmp, "w");
		if (!f || (i == 0 ? report_junit : report_json)(root, name, f) < 0 || fclose(f) != 0 ||
		    rename(tmp, files[i]) < 0) {
			say(prog, "cannot write %s: %s", files[i], strerror(errno));
			unlink(tmp);
			rc = -1;
		}
		free(tmp);
	}
	return rc;
}
