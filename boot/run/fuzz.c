/* libFuzzer target for the runtime's parsers: bundle.conf, the kernel
 * command line splitter (--append, the bundle's cmdline), sizes (--mem,
 * --disk-limit), the network options (--forward, --switch, --ip) and
 * a lab's lab.conf and lab.dep, KTAP, and the frames a hostile guest's
 * lab agent sends its machine's supervisor (agentlink.c). None may crash,
 * leak or read out of bounds, whatever the bytes. Built and run by
 * "make fuzz". */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ktap.h"
#include "report.h"
#include "lab.h"
#include "run.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* every frame the line yields is within the protocol's bounds */
static void check_frame(void *ctx, int type, int session, const unsigned char *payload, size_t len)
{
	size_t *total = ctx;
	(void)type;
	if (session < 0 || session > 255 || len > AGENT_MAX_PAYLOAD || (len && !payload))
		abort();
	*total += AGENT_HEADER + len;
}

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
	{
		/* their usage errors go to stderr: not the fuzzer's output */
		struct options opt;
		int saved = dup(2), null = open("/dev/null", O_WRONLY);
		memset(&opt, 0, sizeof(opt));
		dup2(null, 2);
		if (net_add_forward(&opt, text, "fuzz") == 0)
			free(opt.net.forwards[0]);
		if (net_add_switch(&opt, text, "fuzz") == 0)
			net_set_ip(&opt, text, "fuzz");
		dup2(saved, 2);
		close(saved);
		close(null);
	}
	{
		/* a lab: lab.conf, then the same bytes as its lab.dep */
		static struct lab lab;
		static struct lab_diag diag;
		memset(&lab, 0, sizeof(lab));
		memset(&diag, 0, sizeof(diag));
		copy = strdup(text);
		if (copy && lab_parse_conf(copy, "lab.conf", &lab, &diag) == 0) {
			free(copy);
			copy = strdup(text);
			if (copy)
				lab_parse_dep(copy, "lab.dep", &lab, &diag);
			/* and in parts: every machine's part within 1..N */
			for (int n = 1; n <= LAB_MAX_PARTS; n++)
				for (int i = 0; i < lab.n_machines; i++) {
					int part = lab_part_of(&lab, i, n);
					if (part != -1 && (part < 1 || part > n))
						abort();
				}
		}
		free(copy);
	}
	{
		/* --part and --peers: every part's port within 1..65535 */
		static struct lab_parts parts;
		char err[256];
		memset(&parts, 0, sizeof(parts));
		if (lab_parse_part(text, &parts, err, sizeof(err)) == 0 && (parts.part < 1 || parts.part > parts.n))
			abort();
		parts.n = 0;
		if (lab_parse_peers(text, &parts, err, sizeof(err)) == 0)
			for (int i = 0; i < LAB_MAX_PARTS; i++)
				if (parts.hosts[i][0] && (parts.ports[i] < 1 || parts.ports[i] > 65535))
					abort();
	}
	{
		/* KTAP: the input's lines as a guest's output, shown as kunit.py
		 * shows them and written as JUnit and JSON */
		static struct ktap_parser ktap;
		struct ktap_counts counts = { 0 };
		long long t = 0;
		FILE *null = fopen("/dev/null", "w");
		if (!null)
			abort();
		ktap_init(&ktap);
		kunit_attach(&ktap, null);
		copy = strdup(text);
		for (char *line = copy, *next; line; line = next) {
			next = strchr(line, '\n');
			if (next)
				*next++ = '\0';
			ktap_line(&ktap, line, t++);
		}
		free(copy);
		ktap_end(&ktap, "end", t);
		ktap_count(&ktap.root, &counts);
		kunit_summary(&ktap, null, NULL);
		report_junit(&ktap.root, "fuzz", null);
		report_json(&ktap.root, "fuzz", null);
		ktap_free(&ktap);
		fclose(null);
	}
	{
		/* the agent's line, fed in pieces as reads return them; what it
		 * yields never exceeds what came in */
		static struct agent_link link;
		size_t yielded = 0, cut = size ? data[0] % 7 + 1 : 1;
		memset(&link, 0, sizeof(link));
		for (size_t off = 0; off < size; off += cut)
			agent_link_feed(&link, data + off, size - off < cut ? size - off : cut, check_frame, &yielded);
		if (yielded > size || link.len > sizeof(link.buf))
			abort();
	}
	free(text);
	return 0;
}
