/* One-line messages (hostlib.h). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "hostlib.h"

void vsay(const char *prog, const char *fmt, va_list ap)
{
	char line[4096];
	if (vsnprintf(line, sizeof(line), fmt, ap) >= 0)
		dprintf(2, "%s: %s\n", prog, line);
}

void say(const char *prog, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay(prog, fmt, ap);
	va_end(ap);
}

void die(int code, const char *prog, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay(prog, fmt, ap);
	va_end(ap);
	exit(code);
}

int usage_error(const char *prog, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay(prog, fmt, ap);
	va_end(ap);
	return -1;
}
