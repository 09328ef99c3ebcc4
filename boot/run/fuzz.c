/* libFuzzer target for the runtime's parsers: bundle.conf, the kernel
 * command line splitter (--append, the bundle's cmdline) and sizes
 * (--mem, --disk-limit). None may crash, leak or read out of bounds,
 * whatever the bytes. Built and run by "make fuzz". */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *copy, *words[MAX_APPEND];
	struct bundle_conf conf;
	unsigned long long bytes;
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	copy = strdup(text);
	if (copy) {
		conf_parse(copy, &conf);
		free(copy);
	}
	copy = strdup(text);
	if (copy) {
		split_words(copy, words, MAX_APPEND);
		free(copy);
	}
	parse_size(text, &bytes);
	free(text);
	return 0;
}
