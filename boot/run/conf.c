/* bundle.conf: the bundle's settings, one "key=value" a line, written by
 * boot/mkbundle.sh. Unknown keys are ignored (newer bundles, older runtime
 * never meet: the runtime travels in the bundle). */
#include <stddef.h>
#include <string.h>

#include "run.h"

static const struct {
	const char *key;
	size_t offset;
} conf_keys[] = {
	{ "name", offsetof(struct bundle_conf, name) },
	{ "kernel", offsetof(struct bundle_conf, kernel) },
	{ "mode", offsetof(struct bundle_conf, mode) },
	{ "command", offsetof(struct bundle_conf, command) },
	{ "mem", offsetof(struct bundle_conf, mem) },
	{ "cmdline", offsetof(struct bundle_conf, cmdline) },
	{ "disks", offsetof(struct bundle_conf, disks) },
	{ "initrd", offsetof(struct bundle_conf, initrd) },
	{ "net", offsetof(struct bundle_conf, net) },
	{ "net_forward", offsetof(struct bundle_conf, net_forward) },
	{ "net_switch", offsetof(struct bundle_conf, net_switch) },
	{ "net_loader", offsetof(struct bundle_conf, net_loader) },
	{ "lab", offsetof(struct bundle_conf, lab) },
	{ "lab_images", offsetof(struct bundle_conf, lab_images) },
	{ "lab_default_image", offsetof(struct bundle_conf, lab_default_image) },
};

/* Parses DATA in place; CONF's strings point into it. */
void conf_parse(char *data, struct bundle_conf *conf)
{
	char *line, *save = NULL;
	for (size_t i = 0; i < sizeof(conf_keys) / sizeof(conf_keys[0]); i++)
		*(char **)((char *)conf + conf_keys[i].offset) = "";
	for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq = '\0';
		for (size_t i = 0; i < sizeof(conf_keys) / sizeof(conf_keys[0]); i++)
			if (!strcmp(line, conf_keys[i].key))
				*(char **)((char *)conf + conf_keys[i].offset) = eq + 1;
	}
}

int conf_read(const char *path, struct bundle_conf *conf)
{
	char *data = read_file_nofollow(path, CONF_MAX, NULL);
	if (!data)
		return -1;
	conf_parse(data, conf);
	return 0;
}
