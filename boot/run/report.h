/* JUnit XML and JSON from KTAP results (report.c), and kunit.py's way of
 * showing them (kunit.c). */
#ifndef UMLKIT_REPORT_H
#define UMLKIT_REPORT_H

#include <stdio.h>

#include "ktap.h"

int report_junit(const struct ktap_test *root, const char *name, FILE *f);
int report_json(const struct ktap_test *root, const char *name, FILE *f);
int report_files(const char *junit, const char *json, const struct ktap_test *root, const char *name,
		 const char *prog);

/* kunit.c: kunit.py's way of showing results */
struct run;
void kunit_attach(struct ktap_parser *p, FILE *out);
void kunit_raw_line(const struct ktap_parser *p, const char *line, FILE *out);
int kunit_summary(struct ktap_parser *p, FILE *out, const char *prog);
int kunit_parse_file(struct run *r);

#endif
