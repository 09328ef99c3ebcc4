/* Sizes as users write them (hostlib.h). */
#include <errno.h>
#include <stdlib.h>

#include "hostlib.h"

int parse_size(const char *s, unsigned long long *bytes)
{
	char *end;
	unsigned long long v;
	int shift = 0;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (*end || v > (~0ULL >> shift))
		return -1;
	*bytes = v << shift;
	return 0;
}
