/* Image UUIDs: given with -U, or derived from the output's file name and
 * SOURCE_DATE_EPOCH, so rebuilds give the same one and images differ. */
#include "image.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

void derive_uuid(const struct image_opts *o, unsigned salt, unsigned char uuid[16])
{
	const char *name = strrchr(o->out, '/') ? strrchr(o->out, '/') + 1 : o->out;
	uint64_t h1 = 1469598103934665603ULL ^ salt, h2 = 0x9e3779b97f4a7c15ULL;
	for (const char *p = name; *p; p++) {
		h1 = (h1 ^ (unsigned char)*p) * 1099511628211ULL;
		h2 = (h2 ^ (unsigned char)*p) * 0x100000001b3ULL + 7;
	}
	h1 ^= (uint64_t)o->epoch;
	h2 ^= (uint64_t)o->epoch * 31;
	for (int i = 0; i < 8; i++) {
		uuid[i] = (unsigned char)(h1 >> (56 - 8 * i));
		uuid[8 + i] = (unsigned char)(h2 >> (56 - 8 * i));
	}
	uuid[6] = (uuid[6] & 0x0f) | 0x40; /* version 4 */
	uuid[8] = (uuid[8] & 0x3f) | 0x80; /* variant */
}

/* "01234567-89ab-..." to 16 bytes; -1 if malformed. */
static int parse_uuid(const char *s, unsigned char out[16])
{
	static const char hex[] = "0123456789abcdef";
	int n = 0;
	for (; *s && n < 32; s++) {
		const char *d;
		if (*s == '-')
			continue;
		d = strchr(hex, *s | 0x20);
		if (!d || !*d)
			return -1;
		if (n % 2 == 0)
			out[n / 2] = (unsigned char)((d - hex) << 4);
		else
			out[n / 2] |= (unsigned char)(d - hex);
		n++;
	}
	return n == 32 && !*s ? 0 : -1;
}

int image_uuid(const struct image_opts *o, unsigned char uuid[16])
{
	if (!o->uuid) {
		derive_uuid(o, 0, uuid);
		return 0;
	}
	if (parse_uuid(o->uuid, uuid) < 0)
		return error("bad UUID '%s': use the form 01234567-89ab-cdef-0123-456789abcdef", o->uuid);
	return 0;
}

void uuid_text(const unsigned char uuid[16], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 uuid[0], uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6], uuid[7], uuid[8],
		 uuid[9], uuid[10], uuid[11], uuid[12], uuid[13], uuid[14], uuid[15]);
}
