/* boot.sh's options (boot/run/options.c, net.c): sizes, the command-line
 * splitter, and the option parser's answers, each bad input with the one
 * line it must say. */
#include "../../boot/run/run.h"
#include "unit.h"

struct size_case {
	const char *text;
	int ok;
	unsigned long long bytes;
};

static const struct size_case sizes[] = {
	{ "0", 1, 0 }, { "512", 1, 512 }, { "64K", 1, 64ULL << 10 }, { "256M", 1, 256ULL << 20 },
	{ "1g", 1, 1ULL << 30 }, { "18446744073709551615", 1, ~0ULL }, { "18446744073709551616", 0, 0 },
	{ "17179869184G", 0, 0 }, { "", 0, 0 }, { "M", 0, 0 }, { "-1M", 0, 0 }, { "1.5G", 0, 0 },
	{ "1MB", 0, 0 }, { " 1M", 0, 0 },
};

struct split_case {
	const char *text;
	int n;
	const char *joined;	/* the words, joined by '|' */
};

static const struct split_case splits[] = {
	{ "a b  c", 3, "a|b|c" }, { "  lead trail  ", 2, "lead|trail" }, { "x=\"a b\" y", 2, "x=\"a b\"|y" },
	{ "\"unclosed", -1, NULL }, { "", 0, "" }, { "tab\tnew\nline", 3, "tab|new|line" },
};

struct parse_case {
	const char *name;
	const char *args[6];
	int ok;
	const char *said;	/* a part of the one line it says, or NULL */
};

static const struct parse_case parses[] = {
	{ "a command", { "--", "echo", "hi" }, 1, NULL },
	{ "a timeout", { "--timeout", "5", "--", "true" }, 1, NULL },
	{ "an unknown option", { "--frobnicate" }, 0, "unknown option '--frobnicate': put the guest command after --" },
	{ "a missing value", { "--timeout" }, 0, "--timeout needs a value" },
	{ "a value to a flag", { "--help=yes" }, 0, "--help takes no value" },
	{ "a bad size", { "--mem", "lots" }, 0, "--mem 'lots': use a size such as 256M or 1G" },
	{ "too little memory", { "--mem=16M" }, 0, "the guest needs at least 32M" },
	{ "a bad timeout", { "--timeout", "soon" }, 0, "--timeout 'soon': use whole seconds" },
	{ "a bad disk limit", { "--disk-limit", "big" }, 0, "--disk-limit 'big': use a size such as 512M" },
	{ "a bad sandbox", { "--sandbox", "maybe" }, 0, "use auto, strict or off" },
	{ "nothing after --", { "--" }, 0, "no command after --" },
	{ "hostfs= confined", { "--append", "hostfs=/", "--", "true" }, 0, "add --sandbox off to change it" },
	{ "hostfs= with the sandbox off", { "--sandbox", "off", "--append", "hostfs=/", "--", "true" }, 1, NULL },
	{ "an unclosed quote", { "--append", "a=\"b" }, 0, "an unclosed quote" },
	{ "a share that does not exist", { "--share", "/nonexistent/x" }, 0, "no such host directory" },
	{ "shell-only options", { "--info" }, 0, "handled by boot.sh itself" },
	{ "a KUnit option", { "--filter", "x*" }, 0, "--filter is for KUnit bundles" },
	{ "a bad forward", { "--net", "user", "--forward", "nonsense" }, 0, "--forward 'nonsense'" },
	{ "a bad net", { "--net", "bridge" }, 0, "--net 'bridge': use user" },
	{ "a bad cpu", { "--cpu", "many" }, 0, "--cpu 'many': use a CPU number, 'auto' or 'all'" },
};

struct parse_run {
	const struct parse_case *c;
	int rc;
};

static void do_parse(void *ctx)
{
	struct parse_run *p = ctx;
	static struct options opt;
	struct bundle_conf conf;
	char *argv[7];
	int argc = 0;
	char data[] = "name=test\nmode=command\nmem=64M\nnet=none\n";
	conf_parse(data, &conf);
	memset(&opt, 0, sizeof(opt));
	for (; argc < 6 && p->c->args[argc]; argc++)
		argv[argc] = (char *)p->c->args[argc];
	argv[argc] = NULL;
	p->rc = options_parse(argc, argv, &opt, &conf, "boot.sh");
}

/* Each module's options land in its own sub-struct, with its defaults. */
static void field_cases(struct unit *u)
{
	static struct options opt;
	struct bundle_conf conf;
	char data[] = "name=test\nmode=command\nmem=64M\nnet=none\n";
	char *argv[] = { "--cpu-limit", "5", "--junit", "r.xml", "--switch", "sw", "--ip", "10.0.0.1/24",
			 "--sandbox", "off", "--", "true", NULL };
	int rc;
	conf_parse(data, &conf);
	memset(&opt, 0, sizeof(opt));
	rc = options_parse(12, argv, &opt, &conf, "boot.sh");
	unit_case(u, rc == 0 && opt.guard.cpu == CPU_AUTO, "guard's default: one CPU picked per run", "rc %d cpu %d",
		  rc, opt.guard.cpu);
	unit_case(u, opt.guard.cpu_limit == 5 && opt.guard.sandbox == SANDBOX_OFF, "--cpu-limit, --sandbox to guard",
		  "cpu_limit %ld sandbox %d", opt.guard.cpu_limit, opt.guard.sandbox);
	unit_case(u, opt.report.junit && !strcmp(opt.report.junit, "r.xml"), "--junit to report", "junit %s",
		  opt.report.junit ? opt.report.junit : "(null)");
	unit_case(u, opt.net.n_switches == 1 && opt.net.switches[0].ip && !strcmp(opt.net.switches[0].ip, "10.0.0.1/24"),
		  "--switch, --ip to net", "%d switches", opt.net.n_switches);
}

/* --help: every module's heading, each option once */
static void do_usage(void *ctx)
{
	struct bundle_conf conf;
	char data[] = "name=test\nmode=command\ncommand=true\nmem=64M\nnet=none\nkernel=linux\n";
	conf_parse(data, &conf);
	(void)ctx;
	fflush(stdout);
	int saved = dup(1);
	dup2(2, 1);
	options_usage(&conf, "boot.sh");
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
}

static void usage_cases(struct unit *u)
{
	static const char *const once[] = { "\nLimits and confinement:\n", "\nNetwork:\n", "\nReports:\n",
					    "  --cpu-limit SECONDS", "  --net user|none", "  --junit FILE", "  --mem SIZE" };
	static char text[16384];
	unit_stderr(do_usage, NULL, text, sizeof(text));
	for (size_t i = 0; i < UNIT_COUNT(once); i++) {
		const char *at = strstr(text, once[i]);
		char name[64];
		snprintf(name, sizeof(name), "--help shows '%.*s' once", (int)strcspn(once[i] + strspn(once[i], "\n "), "\n"),
			 once[i] + strspn(once[i], "\n "));
		unit_case(u, at && !strstr(at + 1, once[i]), name, "%s in --help", at ? "twice" : "not");
	}
	unit_case(u, !strstr(text, "KUnit:") && !strstr(text, "--filter"), "no KUnit rows for a command bundle",
		  "--help: %s", text);
}

int main(void)
{
	struct unit u = { 0 };
	char name[96], said[2048];
	for (size_t i = 0; i < UNIT_COUNT(sizes); i++) {
		unsigned long long b = 0;
		int ok = parse_size(sizes[i].text, &b) == 0;
		snprintf(name, sizeof(name), "size '%s'", sizes[i].text);
		unit_case(&u, ok == sizes[i].ok && (!ok || b == sizes[i].bytes), name, "got %s %llu", ok ? "ok" : "error", b);
	}
	for (size_t i = 0; i < UNIT_COUNT(splits); i++) {
		char *copy = strdup(splits[i].text), *words[8], joined[128] = "";
		int n = split_words(copy, words, 8);
		for (int k = 0; k < n; k++)
			snprintf(joined + strlen(joined), sizeof(joined) - strlen(joined), "%s%s", k ? "|" : "", words[k]);
		snprintf(name, sizeof(name), "words of '%s'", splits[i].text);
		unit_case(&u, n == splits[i].n && (n < 0 || !strcmp(joined, splits[i].joined)), name, "%d: '%s'", n, joined);
		free(copy);
	}
	for (size_t i = 0; i < UNIT_COUNT(parses); i++) {
		struct parse_run p = { &parses[i], 0 };
		unit_stderr(do_parse, &p, said, sizeof(said));
		unit_case(&u, (p.rc == 0) == parses[i].ok && (parses[i].ok ? !*said :
			  strstr(said, parses[i].said) && strchr(said, '\n') == said + strlen(said) - 1),
			  parses[i].name, "status %d, said '%s'", p.rc, said);
	}
	field_cases(&u);
	usage_cases(&u);
	return unit_done(&u);
}
