/* JUnit XML, JSON and kunit.py's summary line from KTAP results (report.c). */
#ifndef UMLKIT_REPORT_H
#define UMLKIT_REPORT_H

#include <stdio.h>

#include "ktap.h"

int report_junit(const struct ktap_test *root, const char *name, FILE *f);
int report_json(const struct ktap_test *root, const char *name, FILE *f);
void report_summary(const struct ktap_test *root, FILE *f);

#endif
