/* A small harness for the unit tests of umlkit's pure parsers: each test
 * program runs tables of cases and prints TAP, one line a case, the plan
 * last; tests/run.sh counts them. Built and run by make check-quick. */
#ifndef UMLKIT_UNIT_H
#define UMLKIT_UNIT_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct unit {
	int n, failed;
};

/* One case: "ok N - NAME", or "not ok N - NAME" with WHY below it. */
static inline void unit_case(struct unit *u, int ok, const char *name, const char *why, ...)
	__attribute__((format(printf, 4, 5)));
static inline void unit_case(struct unit *u, int ok, const char *name, const char *why, ...)
{
	va_list ap;
	printf("%sok %d - %s\n", ok ? "" : "not ", ++u->n, name);
	if (!ok) {
		u->failed++;
		printf("# ");
		va_start(ap, why);
		vprintf(why, ap);
		va_end(ap);
		printf("\n");
	}
	fflush(stdout);
}

static inline int unit_done(struct unit *u)
{
	printf("1..%d\n", u->n);
	return u->failed ? 1 : 0;
}

/* What FN printed on stderr while it ran, into BUF (NUL-terminated). */
static inline void unit_stderr(void (*fn)(void *), void *ctx, char *buf, size_t size)
{
	FILE *tmp = tmpfile();
	int saved = dup(2);
	size_t n;
	fflush(stderr);
	if (!tmp || saved < 0 || dup2(fileno(tmp), 2) < 0)
		abort();
	fn(ctx);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(buf, 1, size - 1, tmp);
	buf[n] = '\0';
	fclose(tmp);
}

#define UNIT_COUNT(a) (sizeof(a) / sizeof((a)[0]))

#endif
