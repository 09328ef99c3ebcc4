/* KTAP (and TAP 13/14) results, parsed as lines arrive: the kernel's
 * KUnit output or a guest command's TAP. See ktap.c. */
#ifndef UMLKIT_KTAP_H
#define UMLKIT_KTAP_H

#include <stddef.h>

#define KTAP_MAX_DEPTH 16

enum ktap_status { KTAP_PASS, KTAP_FAIL, KTAP_SKIP, KTAP_CRASHED };

struct ktap_test {
	char *name;
	int status;		/* enum ktap_status */
	char *reason;		/* the directive's text after SKIP/TODO/XFAIL, or NULL */
	char **log;		/* diagnostics and unprefixed lines while it ran */
	size_t n_log, cap_log;
	struct ktap_test **sub;	/* subtests (a suite's cases) */
	size_t n_sub, cap_sub;
	long planned;		/* "1..N", or -1 */
	long long start_ms, end_ms;
	int done;		/* its result line was seen */
	int announced, reported;	/* told to the event hook: its start, its end */
};

/* what the optional event hook hears: a named test with subtests starts
 * (its plan, if any, is known), a test's result line came */
enum ktap_event { KTAP_STARTED, KTAP_ENDED };

/* lines waiting for the next test of an open one */
struct ktap_pending {
	char **lines;
	size_t n, cap;
};

struct ktap_parser {
	struct ktap_test root;	/* the run: its subtests are the top-level tests */
	struct ktap_test *open[KTAP_MAX_DEPTH];	/* open[d]: open[d - 1]'s subtest that runs */
	int depth;		/* open[0..depth] are open */
	struct ktap_pending pending[KTAP_MAX_DEPTH];
	int fresh[KTAP_MAX_DEPTH];	/* open[d] came from a version line: a header may name it */
	int started;		/* a version line was seen */
	int ended;		/* the kernel's end of the tests: later lines are not results */
	char prefix[64];	/* what came before "KTAP version" (a console prefix) */
	size_t prefix_len;
	void (*event)(void *ctx, struct ktap_test *t, int what);
	void *ctx;
};

void ktap_init(struct ktap_parser *p);
/* One line (without its newline) that arrived at NOW_MS. */
void ktap_line(struct ktap_parser *p, const char *line, long long now_ms);
/* The output ended (WHY: NULL, or what ended it, such as a panic):
 * tests still open, and planned ones that never came, are crashed. */
void ktap_end(struct ktap_parser *p, const char *why, long long now_ms);
void ktap_free(struct ktap_parser *p);
/* RAW without the console prefix, or NULL if it lacks it (the kernel's own line) */
const char *ktap_unprefixed(const struct ktap_parser *p, const char *raw);

/* counts over the leaves (tests without subtests) below T, or of the
 * leaf T itself */
struct ktap_counts {
	long pass, fail, skip, crashed;
};
void ktap_count(const struct ktap_test *t, struct ktap_counts *c);
void ktap_count_leaf(const struct ktap_test *t, struct ktap_counts *c);

#endif
