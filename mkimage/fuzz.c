/* libFuzzer target for the recipe parser: every line of the input goes
 * through recipe_parse_line(), which must never crash, leak or read out of
 * bounds, whatever the bytes. Built and run by "make fuzz". */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "recipe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	char *line, *next;
	int lineno = 0;
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (line = text; line; line = next) {
		struct directive d;
		struct origin at = { "fuzz", ++lineno };
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (recipe_parse_line(line, &at, &d) > 0)
			directive_free(&d);
	}
	free(text);
	return 0;
}
