/* The table of image formats, from formats.def. */
#include "image.h"

#include <string.h>

#define FORMAT(name, suffix, root, bundle, writer, keeps, tools) \
	{ #name, #suffix, #root, writer, keeps },
const struct format formats[] = {
#include "formats.def"
};
#undef FORMAT

const size_t format_count = sizeof(formats) / sizeof(formats[0]);

const struct format *format_find(const char *name)
{
	for (size_t i = 0; i < format_count; i++)
		if (!strcmp(formats[i].name, name))
			return &formats[i];
	return NULL;
}
