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

int options_set_action(struct options *opt, const char *action)
{
	opt->action = action;
	return 0;
}

static int set_help(struct options *opt, char *val, const char *prog)
{
	(void)val, (void)prog;
	return options_set_action(opt, "help");
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
	return options_set_action(opt, "extract");
}

static int set_cache(struct options *opt, char *val, const char *prog)
{
	(void)val, (void)prog;
	return options_set_action(opt, "cache");
}

static int set_cache_clear(struct options *opt, char *val, const char *prog)
{
	(void)val, (void)prog;
	return options_set_action(opt, "cache-clear");
}

static int set_host_report(struct options *opt, char *val, const char *prog)
{
	(void)val, (void)prog;
	return options_set_action(opt, "host-report");
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

/* the defaults --help shows: from bundle.conf or the kind of bundle */
static const char *def_mem(const struct bundle_conf *conf)
{
	return conf->mem;
}

static const char *def_timeout(const struct bundle_conf *conf)
{
	return options_is_kunit(conf) ? "1 (default: 300, as kunit.py; 0: no limit)" : "124 (0: no limit, the default)";
}

static const char *def_verbose(const struct bundle_conf *conf)
{
	return options_is_kunit(conf) ? "" : " in command mode";
}

static const struct optdef run_rows[] = {
	{ "--info", NULL, set_shell_only, OPT_ANY, "show the manifest: kernel, images, command line, digest", NULL },
	{ "--list", NULL, set_shell_only, OPT_ANY, "list the payload", NULL },
	{ "--check", NULL, set_shell_only, OPT_ANY, "verify the bundle and its unpacked copy, show its signer, exit", NULL },
	{ "--verify", "ALLOWED_SIGNERS", set_shell_only, OPT_ANY, "run only if the bundle is signed by a key the file\n"
	  "                         allows (OpenSSH's allowed_signers; else exit 120)", NULL },
	{ "--extract", "DIR", set_extract, OPT_ANY, "write the kernel, images and a plain run.sh to DIR", NULL },
	{ "--mem", "SIZE", set_mem, OPT_ANY, "guest memory, such as 256M (default: %s)", def_mem },
	{ "--append", "ARGS", set_append, OPT_ANY, "extra kernel command line (\"double quotes\" group words)", NULL },
	{ "--disk", "FILE", set_disk, OPT_GUEST, "attach FILE as the next disk (read-only if not writable)", NULL },
	{ "--persist", "DIR", set_persist, OPT_GUEST, "keep writes to the bundled disks in DIR (seeded on first use)", NULL },
	{ "--share", "HOST[:GUEST][:rw]", set_share, OPT_GUEST, "mount host directory HOST at GUEST (default: the same\n"
	  "                         path), read-only unless :rw", NULL },
	{ "--timeout", "SECONDS", set_timeout, OPT_ANY, "stop the guest after SECONDS, exit %s", def_timeout },
	{ "--time-travel", NULL, set_time_travel, OPT_ANY, "UML time-travel: boots faster, 'sleep' returns at once", NULL },
	{ "--verbose", NULL, set_verbose, OPT_ANY, "show the kernel's boot log (on stderr%s)", def_verbose },
	{ "--cache", NULL, set_cache, OPT_ANY, "list the unpacked bundles in the cache", NULL },
	{ "--cache-clear", NULL, set_cache_clear, OPT_ANY, "remove every unpacked bundle not in use", NULL },
	{ "--help", NULL, set_help, OPT_ANY, "this help", NULL },
	{ "-h", NULL, set_help, OPT_ANY, NULL, NULL },
	{ "--host-report", NULL, set_host_report, OPT_ANY, NULL, NULL },	/* for boot.sh --check */
};

static const struct option_group run_option_group = OPTION_GROUP(NULL, run_rows, NULL);

/* Every module's rows, in --help's order. */
static const struct option_group *const groups[] = {
	&run_option_group, &guard_option_group, &net_option_group, &report_option_group, &kunit_option_group,
};
#define N_GROUPS (sizeof(groups) / sizeof(groups[0]))

int options_is_kunit(const struct bundle_conf *conf)
{
	return !strcmp(conf->mode, "kunit");
}

static int takes(const struct optdef *d, const struct bundle_conf *conf)
{
	return d->where == OPT_ANY || (d->where == OPT_KUNIT) == options_is_kunit(conf);
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

static void usage_row(const struct optdef *d, const struct bundle_conf *conf)
{
	char left[64];
	snprintf(left, sizeof(left), "%s%s%s", d->name, d->arg ? " " : "", d->arg ? d->arg : "");
	if (strlen(left) > 22)
		printf("  %s\n%25s", left, "");
	else
		printf("  %-22s ", left);
	put_help(d->help, d->def ? d->def(conf) : "");
}

/* each group under its heading, with the rows this kind of bundle takes */
static void usage_rows(const struct bundle_conf *conf)
{
	for (size_t g = 0; g < N_GROUPS; g++) {
		int titled = !groups[g]->title;
		for (size_t i = 0; i < groups[g]->n_rows; i++) {
			const struct optdef *d = &groups[g]->rows[i];
			if (!d->help || !takes(d, conf))
				continue;
			if (!titled)
				printf("\n%s:\n", groups[g]->title);
			titled = 1;
			usage_row(d, conf);
		}
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
	if (options_is_kunit(conf)) {
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
	for (size_t g = 0; g < N_GROUPS; g++)
		for (size_t i = 0; i < groups[g]->n_rows; i++) {
			const struct optdef *d = &groups[g]->rows[i];
			if (strlen(d->name) == len && !strncmp(d->name, name, len))
				return d;
		}
	return NULL;
}

/* The guest's reach on the host is the runtime's to set: --append may not
 * move hostfs's root unless the sandbox is off. */
static int check_append(const struct options *opt, const char *prog)
{
	for (int i = 0; i < opt->n_append && opt->guard.sandbox != SANDBOX_OFF; i++)
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
	for (size_t g = 0; g < N_GROUPS; g++)
		if (groups[g]->init)
			groups[g]->init(opt);
	for (i = 0; i < argc; i++) {
		char *arg = argv[i], *eq = NULL, *val = NULL;
		const struct optdef *d;
		if (!strcmp(arg, "--")) {
			if (options_is_kunit(conf))
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
			return usage_error(prog, options_is_kunit(conf) ? "%s: a KUnit bundle has no guest system to give "
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
