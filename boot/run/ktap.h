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
};

struct ktap_parser {
	struct ktap_test root;	/* the run: its subtests are the top-level tests */
	struct ktap_test *open[KTAP_MAX_DEPTH];	/* open[d]: the test whose lines are at depth d */
	int depth;		/* open[0..depth] are open */
	int started;		/* a version line was seen */
	char prefix[64];	/* what came before "KTAP version" (a console prefix) */
	size_t prefix_len;
};

void ktap_init(struct ktap_parser *p);
/* One line (without its newline) that arrived at NOW_MS. */
void ktap_line(struct ktap_parser *p, const char *line, long long now_ms);
/* The output ended (WHY: NULL, or what ended it, such as a panic):
 * tests still open, and planned ones that never came, are crashed. */
void ktap_end(struct ktap_parser *p, const char *why, long long now_ms);
void ktap_free(struct ktap_parser *p);

/* counts over the leaves (tests without subtests) below T */
struct ktap_counts {
	long pass, fail, skip, crashed;
};
void ktap_count(const struct ktap_test *t, struct ktap_counts *c);

#endif
