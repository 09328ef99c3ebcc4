/* Command-line options: one table row each (name, argument, setter, help),
 * used by the parser and by --help alike. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "run.h"

#define MIN_MEM (32ULL << 20)

typedef int setter(struct options *opt, char *val, const char *prog);

static int set_action(struct options *opt, const char *action)
{
	opt->action = action;
	return 0;
}

static int set_help(struct options *opt, char *val, const char *prog)
{
	(void)val, (void)prog;
	return set_action(opt, "help");
}

static int set_shell_only(struct options *opt, char *val, const char *prog)
{
	(void)opt, (void)val;
	return usage_error(prog, "--info, --list, --check and --verify are handled by boot.sh itself");
}

static int set_extract(struct options *opt, char *val, const char *prog)
{
	(void)prog;
	opt->extract_dir = val;
	return set_action(opt, "extract");
}

static int set_cache(struct options *opt, char *val, const char *prog)
{
	(void)val, (void)prog;
	return set_action(opt, "cache");
}

static int set_cache_clear(struct options *opt, char *val, const char *prog)
{
	(void)val, (void)prog;
	return set_action(opt, "cache-clear");
}

static int set_host_report(struct options *opt, char *val, const char *prog)
{
	(void)val, (void)prog;
	return set_action(opt, "host-report");
}

static int set_mem(struct options *opt, char *val, const char *prog)
{
	struct sysinfo si;
	unsigned long long bytes, total;
	char limit[32];
	if (parse_size(val, &bytes) < 0)
		return usage_error(prog, "--mem '%s': use a size such as 256M or 1G", val);
	if (bytes < MIN_MEM)
		return usage_error(prog, "--mem '%s': the guest needs at least 32M", val);
	if (sysinfo(&si) == 0) {
		total = (unsigned long long)si.totalram * si.mem_unit;
		if (bytes > total) {
			snprintf(limit, sizeof(limit), "%lluM", total >> 20);
			return usage_error(prog, "--mem '%s': more than this host's memory (%s)", val, limit);
		}
	}
	opt->mem = bytes;
	return 0;
}

/* --cpu N|all: the host CPU the guest runs on (one of those this process
 * may use), or all of them. */
static int set_cpu(struct options *opt, char *val, const char *prog)
{
	cpu_set_t allowed;
	char *end;
	long cpu;
	if (!strcmp(val, "all")) {
		opt->cpu = CPU_ALL;
		return 0;
	}
	cpu = strtol(val, &end, 10);
	if (!*val || *end || cpu < 0 || cpu >= CPU_SETSIZE)
		return usage_error(prog, "--cpu '%s': use a CPU number or 'all'", val);
	if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0 && !CPU_ISSET(cpu, &allowed))
		return usage_error(prog, "--cpu '%s': not a CPU this process may use (see nproc, taskset -p)",
				   val);
	opt->cpu = (int)cpu;
	return 0;
}

/* Split S in place into words at blanks; double quotes group blanks, and
 * stay in the word, as the kernel's own parser reads them. */
int split_words(char *s, char **words, int max)
{
	int n = 0;
	while (*s) {
		int quoted = 0;
		while (*s == ' ' || *s == '\t' || *s == '\n')
			*s++ = '\0';
		if (!*s)
			break;
		if (n == max)
			return -1;
		words[n++] = s;
		while (*s && (quoted || (*s != ' ' && *s != '\t' && *s != '\n'))) {
			if (*s == '"')
				quoted = !quoted;
			s++;
		}
		if (quoted)
			return -1;
	}
	return n;
}

static int set_append(struct options *opt, char *val, const char *prog)
{
	int n = split_words(val, opt->append + opt->n_append, MAX_APPEND - opt->n_append);
	if (n < 0)
		return usage_error(prog, "--append '%s': an unclosed quote or too many words", val);
	opt->n_append += n;
	return 0;
}

static int set_disk(struct options *opt, char *val, const char *prog)
{
	struct stat st;
	int fd;
	if (opt->n_disks == MAX_DISKS)
		return usage_error(prog, "--disk '%s': at most 16 disks", val);
	fd = open(val, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		const char *why = fd < 0 ? strerror(errno) : "not a regular file";
		if (fd >= 0)
			close(fd);
		return usage_error(prog, "--disk '%s': %s", val, why);
	}
	close(fd);
	opt->disk_readonly[opt->n_disks] = access(val, W_OK) < 0;
	opt->disks[opt->n_disks++] = realpath(val, NULL);
	return 0;
}

static int set_persist(struct options *opt, char *val, const char *prog)
{
	if (mkdir(val, 0755) < 0 && errno != EEXIST)
		return usage_error(prog, "--persist '%s': cannot create it: %s", val, strerror(errno));
	if (access(val, W_OK | X_OK) < 0)
		return usage_error(prog, "--persist '%s': not a writable directory: %s", val, strerror(errno));
	opt->persist = realpath(val, NULL);
	return opt->persist ? 0 : usage_error(prog, "--persist '%s': %s", val, strerror(errno));
}

static int is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* HOST[:GUEST][:rw|:ro]: HOST may itself contain ':' when it names a
 * directory as a whole; otherwise the last ':' followed by '/' separates
 * GUEST. Read-only unless ":rw". */
static int set_share(struct options *opt, char *val, const char *prog)
{
	struct share *sh = &opt->shares[opt->n_shares];
	char *host = val, *guest = NULL, *colon;
	size_t len = strlen(val);
	if (opt->n_shares == MAX_SHARES)
		return usage_error(prog, "--share '%s': at most 16 shares", val);
	sh->rw = 0;
	if (!is_dir(val) && len > 3 && (!strcmp(val + len - 3, ":rw") || !strcmp(val + len - 3, ":ro"))) {
		sh->rw = val[len - 1] == 'w';
		val[len - 3] = '\0';
	}
	if (!is_dir(val)) {
		for (colon = strrchr(val, ':'); colon; colon = colon == val ? NULL : memrchr(val, ':', (size_t)(colon - val))) {
			*colon = '\0';
			if (colon[1] == '/' && is_dir(val)) {
				guest = colon + 1;
				break;
			}
			*colon = ':';
		}
		if (!guest)
			return usage_error(prog, "--share '%s': no such host directory (use HOST or HOST:/GUEST)", val);
	}
	sh->host = realpath(host, NULL);
	if (!sh->host)
		return usage_error(prog, "--share '%s': %s", host, strerror(errno));
	sh->guest = guest ? guest : sh->host;
	if (strchr(sh->guest, '\n') || strchr(sh->host, '\n'))
		return usage_error(prog, "--share '%s': a path with a newline", val);
	opt->n_shares++;
	return 0;
}

static int set_timeout(struct options *opt, char *val, const char *prog)
{
	char *end;
	errno = 0;
	opt->timeout = strtol(val, &end, 10);
	opt->timeout_set = 1;
	if (!*val || *end || errno || opt->timeout < 0 || opt->timeout > 100000000L)
		return usage_error(prog, "--timeout '%s': use whole seconds (0: no limit)", val);
	return 0;
}

static int set_cpu_limit(struct options *opt, char *val, const char *prog)
{
	char *end;
	errno = 0;
	opt->cpu_limit = strtol(val, &end, 10);
	if (!*val || *end || errno || opt->cpu_limit < 0)
		return usage_error(prog, "--cpu-limit '%s': use whole seconds of CPU time (0: no limit)", val);
	return 0;
}

static int set_disk_limit(struct options *opt, char *val, const char *prog)
{
	opt->disk_limit_set = 1;
	if (parse_size(val, &opt->disk_limit) < 0)
		return usage_error(prog, "--disk-limit '%s': use a size such as 512M (0: no limit)", val);
	return 0;
}

static int set_sandbox(struct options *opt, char *val, const char *prog)
{
	static const char *const modes[] = { "auto", "strict", "off" };
	for (int i = 0; i < 3; i++)
		if (!strcmp(val, modes[i])) {
			opt->sandbox = i;
			return 0;
		}
	return usage_error(prog, "--sandbox '%s': use auto, strict or off", val);
}

/* a report file: written at the end (FILE.tmp, renamed), so its directory
 * must take it */
static int check_report(const char *opt, char *val, const char *prog)
{
	char *dir = xstrdup(val), *slash = strrchr(dir, '/');
	int ok;
	if (slash)
		*slash = '\0';
	ok = access(slash ? (*dir ? dir : "/") : ".", W_OK | X_OK) == 0;
	free(dir);
	if (!ok)
		return usage_error(prog, "%s '%s': cannot write in its directory", opt, val);
	return 0;
}

static int set_junit(struct options *opt, char *val, const char *prog)
{
	opt->junit = val;
	return check_report("--junit", val, prog);
}

static int set_json(struct options *opt, char *val, const char *prog)
{
	opt->json = val;
	return check_report("--json", val, prog);
}

static int set_time_travel(struct options *opt, char *val, const char *prog)
{
	(void)val, (void)prog;
	opt->time_travel = 1;
	return 0;
}

static int set_verbose(struct options *opt, char *val, const char *prog)
{
	(void)val, (void)prog;
	opt->verbose = 1;
	return 0;
}

/* --filter GLOB: kunit.filter_glob, as kunit.py passes it */
static int set_filter(struct options *opt, char *val, const char *prog)
{
	if (!*val || strpbrk(val, " \t\n\""))
		return usage_error(prog, "--filter '%s': use SUITE or SUITE.TEST globs, such as 'example*' or "
				   "'kunit*.*free*' (no blanks or quotes)", val);
	opt->filter = val;
	return 0;
}

static int set_raw(struct options *opt, char *val, const char *prog)
{
	(void)val, (void)prog;
	opt->raw = 1;
	return 0;
}

static int set_parse(struct options *opt, char *val, const char *prog)
{
	(void)prog;
	opt->parse_file = val;
	return set_action(opt, "parse");
}

/* which bundles take an option */
enum { ANY, GUEST, KUNIT };

/* the defaults --help shows: from bundle.conf or the kind of bundle */
static int is_kunit(const struct bundle_conf *conf);

static const char *def_mem(const struct bundle_conf *conf)
{
	return conf->mem;
}

static const char *def_net(const struct bundle_conf *conf)
{
	return *conf->net ? conf->net : "none";
}

static const char *def_timeout(const struct bundle_conf *conf)
{
	return is_kunit(conf) ? "1 (default: 300, as kunit.py; 0: no limit)" : "124 (0: no limit, the default)";
}

static const char *def_verbose(const struct bundle_conf *conf)
{
	return is_kunit(conf) ? "" : " in command mode";
}

static const char *def_junit(const struct bundle_conf *conf)
{
	return is_kunit(conf) ? "write a JUnit XML report of the tests to FILE"
			      : "read the command's stdout as TAP/KTAP (it still passes\n"
				"                         through) and write a JUnit XML report to FILE";
}

/* One row an option: the parser and --help read the same table; a new
 * option is a row and its setter. */
static const struct optdef {
	const char *name, *arg;
	setter *set;
	int where;
	const char *help;	/* "%s" there is the row's default */
	const char *(*def)(const struct bundle_conf *conf);
} optdefs[] = {
	{ "--info", NULL, set_shell_only, ANY, "show the manifest: kernel, images, command line, digest", NULL },
	{ "--list", NULL, set_shell_only, ANY, "list the payload", NULL },
	{ "--check", NULL, set_shell_only, ANY, "verify the bundle and its unpacked copy, show its signer, exit", NULL },
	{ "--verify", "ALLOWED_SIGNERS", set_shell_only, ANY, "run only if the bundle is signed by a key the file\n"
	  "                         allows (OpenSSH's allowed_signers; else exit 120)", NULL },
	{ "--extract", "DIR", set_extract, ANY, "write the kernel, images and a plain run.sh to DIR", NULL },
	{ "--mem", "SIZE", set_mem, ANY, "guest memory, such as 256M (default: %s)", def_mem },
	{ "--append", "ARGS", set_append, ANY, "extra kernel command line (\"double quotes\" group words)", NULL },
	{ "--disk", "FILE", set_disk, GUEST, "attach FILE as the next disk (read-only if not writable)", NULL },
	{ "--persist", "DIR", set_persist, GUEST, "keep writes to the bundled disks in DIR (seeded on first use)", NULL },
	{ "--share", "HOST[:GUEST][:rw]", set_share, GUEST, "mount host directory HOST at GUEST (default: the same\n"
	  "                         path), read-only unless :rw", NULL },
	{ "--timeout", "SECONDS", set_timeout, ANY, "stop the guest after SECONDS, exit %s", def_timeout },
	{ "--cpu-limit", "SECONDS", set_cpu_limit, ANY, "stop the guest after SECONDS of host CPU time, exit 123", NULL },
	{ "--disk-limit", "SIZE", set_disk_limit, GUEST, "stop the guest when its run files pass SIZE, exit 123\n"
	  "                         (default: its memory, its images and 256M; 0: none)", NULL },
	{ "--sandbox", "MODE", set_sandbox, ANY, "auto: confine the guest with Landlock where the host has it\n"
	  "                         (default); strict: refuse to run without; off: none (the\n"
	  "                         guest can reach all your files through hostfs)", NULL },
	{ "--net", "user|none", net_set_mode, GUEST, "user: NAT to the host (guest 10.0.2.15/24, the host's\n"
	  "                         127.0.0.1 is 10.0.2.2); none: no network (default: %s)", def_net },
	{ "--forward", "[tcp:|udp:][ADDR:]HOSTPORT:GUESTPORT", net_add_forward, GUEST,
	  "forward host ADDR:HOSTPORT (default ADDR 127.0.0.1) to\n"
	  "                         the guest's GUESTPORT (with --net user; repeatable)", NULL },
	{ "--switch", "NAME", net_add_switch, GUEST, "put the guest on virtual switch NAME, shared by every\n"
	  "                         guest of yours on it (repeatable: eth1, eth2, ...)", NULL },
	{ "--ip", "ADDR/PREFIX", net_set_ip, GUEST, "the guest's address on the --switch before it", NULL },
	{ "--junit", "FILE", set_junit, ANY, "%s", def_junit },
	{ "--json", "FILE", set_json, ANY, "the same as JSON: each test's status, duration, log, reason", NULL },
	{ "--filter", "GLOB", set_filter, KUNIT, "run only the tests GLOB names: SUITE or SUITE.TEST globs\n"
	  "                         (kunit.filter_glob), such as 'example*' or '*.*free*'", NULL },
	{ "--raw", NULL, set_raw, KUNIT, "print the KTAP the kernel printed instead of the results", NULL },
	{ "--parse", "FILE", set_parse, ANY, "read KTAP/TAP from FILE (- for stdin) instead of booting:\n"
	  "                         kunit.py's results, --junit and --json, exit 0 or 1", NULL },
	{ "--time-travel", NULL, set_time_travel, ANY, "UML time-travel: boots faster, 'sleep' returns at once", NULL },
	{ "--cpu", "N|all", set_cpu, ANY, "host CPU the guest runs on (default: one per run, which makes\n"
	  "                         process creation in the guest 2-2.5x faster); all: any", NULL },
	{ "--verbose", NULL, set_verbose, ANY, "show the kernel's boot log (on stderr%s)", def_verbose },
	{ "--cache", NULL, set_cache, ANY, "list the unpacked bundles in the cache", NULL },
	{ "--cache-clear", NULL, set_cache_clear, ANY, "remove every unpacked bundle not in use", NULL },
	{ "--help", NULL, set_help, ANY, "this help", NULL },
	{ "-h", NULL, set_help, ANY, NULL, NULL },
	{ "--host-report", NULL, set_host_report, ANY, NULL, NULL },	/* for boot.sh --check */
};

static int is_kunit(const struct bundle_conf *conf)
{
	return !strcmp(conf->mode, "kunit");
}

static int takes(const struct optdef *d, const struct bundle_conf *conf)
{
	return d->where == ANY || (d->where == KUNIT) == is_kunit(conf);
}

/* A row's help, its default where the text says %s (table text is never
 * a format) */
static void put_help(const char *help, const char *def)
{
	const char *at = strstr(help, "%s");
	if (at)
		printf("%.*s%s%s\n", (int)(at - help), help, def, at + 2);
	else
		printf("%s\n", help);
}

static void usage_rows(const struct bundle_conf *conf)
{
	for (size_t i = 0; i < sizeof(optdefs) / sizeof(optdefs[0]); i++) {
		char left[64];
		if (!optdefs[i].help || !takes(&optdefs[i], conf))
			continue;
		snprintf(left, sizeof(left), "%s%s%s", optdefs[i].name, optdefs[i].arg ? " " : "",
			 optdefs[i].arg ? optdefs[i].arg : "");
		if (strlen(left) > 22)
			printf("  %s\n%25s", left, "");
		else
			printf("  %-22s ", left);
		put_help(optdefs[i].help, optdefs[i].def ? optdefs[i].def(conf) : "");
	}
}

static void kunit_usage(const struct bundle_conf *conf, const char *prog)
{
	printf("Usage: %s [OPTIONS]\n\n", prog);
	printf("Run the KUnit tests built into this kernel (%s, %s)\n"
	       "as kunit.py does: it boots with kunit.enable=1 console=tty kunit_shutdown=halt,\n"
	       "reads the KTAP it prints, shows each suite's results and kunit.py's summary.\n\n"
	       "Options:\n", conf->name, conf->kernel);
	usage_rows(conf);
	printf("\nExit status: 0 when every test passed or was skipped; 1 when one failed\n"
	       "or crashed, none ran, or the kernel crashed or timed out (as kunit.py);\n"
	       "%d corrupt bundle, %d host cannot run UML, %d bad options; 128+N a\n"
	       "signal N ended the run.\n",
	       EX_CORRUPT, EX_HOST, EX_USAGE);
}

void options_usage(const struct bundle_conf *conf, const char *prog)
{
	if (is_kunit(conf)) {
		kunit_usage(conf, prog);
		return;
	}
	printf("Usage: %s [OPTIONS] [-- COMMAND [ARG...]]\n\n", prog);
	printf("Boot the bundled User Mode Linux guest (%s, %s).\n", conf->name, conf->kernel);
	if (!strcmp(conf->mode, "command"))
		printf("Without COMMAND: runs '%s' in the guest.\n", conf->command);
	else
		printf("Without COMMAND: a login prompt on this terminal (root, no password);\n"
		       "'poweroff' returns here.\n");
	printf("With -- COMMAND: boots, runs COMMAND in the guest with this terminal's or\n"
	       "pipe's stdin, stdout and stderr, powers off and exits with COMMAND's status.\n\n"
	       "Options:\n");
	usage_rows(conf);
	printf("\nExit status: COMMAND's, else 0 after 'poweroff'; %d corrupt bundle, %d host\n"
	       "cannot run UML, %d guest kernel panic, crash or hang, %d a resource limit,\n"
	       "%d timeout, %d bad options; 126/127 COMMAND not executable/found; 128+N a\n"
	       "signal N ended the run.\n\n"
	       "Standard input that is not a terminal is read to its end before COMMAND\n"
	       "starts, end of file included: give </dev/null when there is none.\n\n"
	       "Files: unpacked once into ${XDG_CACHE_HOME:-~/.cache}/umlkit/DIGEST (entries\n"
	       "unused for 30 days are removed); per-run files in $TMPDIR, removed at exit.\n",
	       EX_CORRUPT, EX_HOST, EX_CRASH, EX_LIMIT, EX_TIMEOUT, EX_USAGE);
}

static const struct optdef *find_opt(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(optdefs) / sizeof(optdefs[0]); i++)
		if (strlen(optdefs[i].name) == len && !strncmp(optdefs[i].name, name, len))
			return &optdefs[i];
	return NULL;
}

/* The guest's reach on the host is the runtime's to set: --append may not
 * move hostfs's root unless the sandbox is off. */
static int check_append(const struct options *opt, const char *prog)
{
	for (int i = 0; i < opt->n_append && opt->sandbox != SANDBOX_OFF; i++)
		if (!strncmp(opt->append[i], "hostfs=", 7))
			return usage_error(prog, "--append '%s': the guest's host file access is confined; "
					   "add --sandbox off to change it", opt->append[i]);
	return 0;
}

/* 0, or -1 after saying what is wrong. */
int options_parse(int argc, char **argv, struct options *opt, const struct bundle_conf *conf, const char *prog)
{
	int i;
	opt->action = "run";
	opt->cpu = CPU_AUTO;
	for (i = 0; i < argc; i++) {
		char *arg = argv[i], *eq = NULL, *val = NULL;
		const struct optdef *d;
		if (!strcmp(arg, "--")) {
			if (is_kunit(conf))
				return usage_error(prog, "a KUnit bundle runs the kernel's own tests: no command "
						   "after -- (see --help)");
			if (i + 1 == argc)
				return usage_error(prog, "no command after --");
			opt->command = argv + i + 1;
			return check_append(opt, prog);
		}
		if (!strncmp(arg, "--", 2))
			eq = strchr(arg, '=');
		d = find_opt(arg, eq ? (size_t)(eq - arg) : strlen(arg));
		if (!d)
			return usage_error(prog, "unknown option '%s': put the guest command after -- (see --help)", arg);
		if (!takes(d, conf))
			return usage_error(prog, is_kunit(conf) ? "%s: a KUnit bundle has no guest system to give "
					   "it to (see --help)" : "%s is for KUnit bundles (make kunit_defconfig)",
					   d->name);
		if (d->arg) {
			if (eq)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else
				return usage_error(prog, "%s needs a value (see --help)", d->name);
		} else if (eq) {
			return usage_error(prog, "%s takes no value", d->name);
		}
		if (d->set(opt, val, prog) < 0)
			return -1;
	}
	return check_append(opt, prog);
}
