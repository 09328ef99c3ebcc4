/* mkimage: recipes in, a filesystem image out (ext2, ext4, squashfs, cpio).
 * Run "mkimage --help" for usage. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image.h"
#include "resolve.h"

static const char usage[] =
	"Usage: mkimage -t TYPE -o OUTPUT [options] RECIPE...\n"
	"Build a filesystem image from recipes, without root.\n"
	"\n"
	"  -t, --type TYPE       the format (--formats lists them)\n"
	"  -o, --output FILE     the image; written under a temporary name and\n"
	"                        renamed when complete (an existing FILE is\n"
	"                        removed once the recipes have been read)\n"
	"  -s, --size SIZE       ext image size, with K, M or G (default: from the\n"
	"                        content plus the headroom)\n"
	"  -H, --headroom PCT    free space when sized automatically (default 25)\n"
	"  -i, --bytes-per-inode N  ext: one inode per N bytes of image (default:\n"
	"                        mke2fs.conf's, 4096 under 512M, else 16384)\n"
	"  -L, --label LABEL     ext volume label\n"
	"  -U, --uuid UUID       ext UUID (default: derived from the output name and\n"
	"                        SOURCE_DATE_EPOCH)\n"
	"  -z, --compress ALG    cpio: none, gzip (default), xz, zstd; squashfs:\n"
	"                        zstd (default: fast to read), zstd:LEVEL (1-22;\n"
	"                        the default is 15) or xz (smaller, 1 MiB blocks,\n"
	"                        several times slower to read); ,BLOCK sets the\n"
	"                        block size (4K-1M; zstd's default 128K), e.g.\n"
	"                        zstd:19,1M\n"
	"  -c, --config RECIPE   a recipe read after all others, whose entries\n"
	"                        replace the recipes' with a note on stderr\n"
	"                        (settings such as /etc/hostname); repeatable\n"
	"  -r, --require PATH[=WHY]  fail unless the image has PATH (symlinks\n"
	"                        followed), e.g. /sbin/init for a login boot\n"
	"  -d, --depfile FILE    write a make dependency file listing every file read\n"
	"      --debian-tree TAR the configured Debian tree that 'debian' lines stand\n"
	"                        for (made by rootfs-recipes/debian.sh)\n"
	"      --debian-request  print what the recipes' 'debian' lines ask for, one\n"
	"                        line: the suite, then the packages (nothing if none);\n"
	"                        -t and -o are not needed\n"
	"      --formats         list the formats: name, file suffix, how a guest\n"
	"                        mounts it as root, what it keeps\n"
	"  -h, --help            this help\n"
	"\n"
	"With no RECIPE the image is empty. Times newer than SOURCE_DATE_EPOCH\n"
	"(default 0) are clamped to it: the same inputs give the same bytes.\n"
	"Killed by SIGINT, SIGTERM or SIGHUP, nothing is left behind.\n"
	"Exit status: 0 done, 1 error (FILE:LINE: message), 2 bad options.\n"
	"The recipe language is described in rootfs-recipes/README.md.\n";

static void list_formats(void)
{
	static const struct { unsigned bit; const char *name; } keeps[] = {
		{ XATTRS, "xattrs" }, { SOCKETS, "sockets" }, { SIZED, "sized" },
	};
	for (size_t i = 0; i < format_count; i++) {
		const char *sep = "";
		printf("%-10s %-10s %-8s ", formats[i].name, formats[i].suffix, formats[i].root);
		for (size_t k = 0; k < sizeof(keeps) / sizeof(keeps[0]); k++) {
			if (formats[i].keeps & keeps[k].bit) {
				printf("%s%s", sep, keeps[k].name);
				sep = ",";
			}
		}
		printf("%s\n", *sep ? "" : "-");
	}
}

static void add_dep_name(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == ' ' || *s == '#' || *s == '\\')
			buf_add(b, "\\", 1);
		if (*s == '$')
			buf_add(b, "$", 1);
		buf_add(b, s, 1);
	}
}

static int write_depfile(const char *path, const char *target, const struct strlist *deps)
{
	struct buf b = { 0 };
	char *tmp = xasprintf("%s.tmp", path);
	int fd, rc = 0;
	add_dep_name(&b, target);
	buf_add(&b, ":", 1);
	for (size_t i = 0; i < deps->count; i++) {
		buf_add(&b, " \\\n  ", 5);
		add_dep_name(&b, deps->items[i]);
	}
	buf_add(&b, "\n", 1);
	/* a deleted input must not break make: each is also an empty target */
	for (size_t i = 0; i < deps->count; i++) {
		buf_add(&b, "\n", 1);
		add_dep_name(&b, deps->items[i]);
		buf_add(&b, ":\n", 2);
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_all(fd, b.data, b.len) < 0 || close(fd) < 0 || rename(tmp, path) < 0)
		rc = error("%s: %s", path, strerror(errno));
	buf_free(&b);
	free(tmp);
	return rc;
}

/* What one run reads besides the image options. */
struct inputs {
	char **recipes;
	int nrecipes;
	const char *configs[16];
	int nconfigs;
	const char *require;
	const char *depfile;
	const char *debian_tree;
	int debian_request;
};

static int parse_args(int argc, char **argv, struct image_opts *o, struct inputs *in)
{
	static const struct option longopts[] = {
		{ "type", required_argument, NULL, 't' },
		{ "output", required_argument, NULL, 'o' },
		{ "size", required_argument, NULL, 's' },
		{ "headroom", required_argument, NULL, 'H' },
		{ "bytes-per-inode", required_argument, NULL, 'i' },
		{ "label", required_argument, NULL, 'L' },
		{ "uuid", required_argument, NULL, 'U' },
		{ "compress", required_argument, NULL, 'z' },
		{ "depfile", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "require", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ "formats", no_argument, NULL, 'F' },
		{ "debian-tree", required_argument, NULL, 'D' },
		{ "debian-request", no_argument, NULL, 'R' },
		{ 0 },
	};
	int c;
	char *end;
	while ((c = getopt_long(argc, argv, "t:o:s:H:i:L:U:z:d:c:r:h", longopts, NULL)) != -1) {
		switch (c) {
		case 't': o->type = optarg; break;
		case 'o': o->out = optarg; break;
		case 's':
			if (parse_size(optarg, &o->size) < 0 || !o->size)
				return error("bad size '%s': use a number with K, M or G, e.g. 64M", optarg);
			break;
		case 'H':
			o->headroom = (unsigned)strtoul(optarg, &end, 10);
			if (*end || !*optarg || o->headroom > 1000)
				return error("bad headroom '%s': use a percentage, 0 to 1000", optarg);
			break;
		case 'i':
			if (parse_size(optarg, &o->bytes_per_inode) < 0 || o->bytes_per_inode < 1024 ||
			    o->bytes_per_inode > (64ULL << 20))
				return error("bad bytes per inode '%s': use 1024 to 64M", optarg);
			break;
		case 'L': o->label = optarg; break;
		case 'U': o->uuid = optarg; break;
		case 'z': o->compress = optarg; break;
		case 'd': in->depfile = optarg; break;
		case 'c':
			if (in->nconfigs == (int)(sizeof(in->configs) / sizeof(in->configs[0])))
				return error("too many --config recipes (at most 16)");
			in->configs[in->nconfigs++] = optarg;
			break;
		case 'r': in->require = optarg; break;
		case 'h': fputs(usage, stdout); exit(0);
		case 'F': list_formats(); exit(0);
		case 'D': in->debian_tree = optarg; break;
		case 'R': in->debian_request = 1; break;
		default: fputs(usage, stderr); return -1;
		}
	}
	in->recipes = argv + optind;
	in->nrecipes = argc - optind;
	if (in->debian_request)
		return 0;
	if (!o->type || !o->out)
		return error("-t TYPE and -o OUTPUT are required (see mkimage --help)");
	if (!format_find(o->type)) {
		struct buf names = { 0 };
		for (size_t i = 0; i < format_count; i++)
			buf_addf(&names, "%s%s", i ? (i + 1 == format_count ? " or " : ", ") : "",
				 formats[i].name);
		error("unknown image type '%s': use %s", o->type, names.data);
		buf_free(&names);
		return -1;
	}
	if (!strcmp(o->type, "squashfs")) {
		if (!o->compress)
			o->compress = "zstd";
		if (!squashfs_compression_ok(o->compress))
			return error("-z '%s': squashfs images use zstd, zstd:LEVEL (1-22) or xz, each with an optional ,BLOCK (4K-1M, a power of two)", o->compress);
	} else {
		if (!o->compress)
			o->compress = "gzip";
		if (strcmp(o->compress, "none") && strcmp(o->compress, "gzip") &&
		    strcmp(o->compress, "xz") && strcmp(o->compress, "zstd"))
			return error("unknown compression '%s': use none, gzip, xz or zstd", o->compress);
	}
	if (o->label && strlen(o->label) > 16)
		return error("label '%s' is longer than 16 bytes", o->label);
	return 0;
}

static long long source_date_epoch(void)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	char *end;
	long long v;
	if (!s || !*s)
		return 0;
	v = strtoll(s, &end, 10);
	if (*end || v < 0 || v > 0xffffffffLL) {
		error("SOURCE_DATE_EPOCH='%s' is not a number of seconds; using 0", s);
		return 0;
	}
	return v;
}

/* --require PATH[=WHY]: PATH must be an executable file in the image. */
static int check_required(const struct tree *t, const char *spec)
{
	char *path = xstrdup(spec), *why = strchr(path, '=');
	const struct entry *e;
	int rc = 0;
	if (why)
		*why++ = '\0';
	path_normalize(path);
	e = tree_lookup(t, path, true);
	if (e && e->type == ENTRY_HARDLINK)
		e = tree_lookup(t, e->target, false);
	if (!e || e->type != ENTRY_FILE || !(e->mode & 0111))
		rc = error("the image has no executable /%s%s%s", path, why ? ": " : "", why ? why : "");
	free(path);
	return rc;
}

/* What the format cannot store is refused (sockets) or named (xattrs). */
static int check_keeps(const struct image *img, const struct format *f)
{
	size_t lost = 0;
	for (size_t i = 0; i < img->count; i++) {
		const struct entry *e = img->entries[i];
		if (e->type == ENTRY_SOCK && !(f->keeps & SOCKETS))
			return error_at(&e->origin, "'/%s' is a socket, which a %s image cannot hold: "
					"create it at run time, or use a format that keeps sockets "
					"(mkimage --formats)", e->path, f->name);
		if (e->nxattrs && e->type != ENTRY_HARDLINK && !(f->keeps & XATTRS) && lost++ < 5)
			fprintf(stderr, "mkimage: warning: %s cannot hold extended attributes: "
				"/%s loses %s%s\n", f->name, e->path, e->xattrs[0].name,
				e->nxattrs > 1 ? " and more" : "");
	}
	if (lost > 5)
		fprintf(stderr, "mkimage: warning: ... and %zu more files with extended attributes\n",
			lost - 5);
	return 0;
}

static int build(struct image_opts *o, const struct inputs *in)
{
	struct tree tree;
	struct resolver r;
	struct image img = { 0 };
	char *blob = xasprintf("%s/tar-data", o->workdir);
	int blob_fd, rc = 0;

	blob_fd = open(blob, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (blob_fd < 0) {
		free(blob);
		return error("%s: %s", o->workdir, strerror(errno));
	}
	tree_init(&tree);
	resolver_init(&r, &tree, blob, blob_fd);
	r.debian_tree = in->debian_tree;
	for (int i = 0; i < in->nrecipes && rc == 0; i++)
		rc = resolve_recipe(&r, in->recipes[i], NULL);
	r.note_replaced = true;
	for (int i = 0; i < in->nconfigs && rc == 0; i++)
		rc = resolve_recipe(&r, in->configs[i], NULL);
	if (rc == 0)
		rc = resolve_finish(&r);
	if (rc == 0 && in->require)
		rc = check_required(&tree, in->require);
	if (rc == 0)
		rc = tree_finish(&tree, &img.entries, &img.count);
	/* The old image goes once the recipes are known to be good. Left in
	 * place until the rename, its hundreds of MiB would be freed while the
	 * new image is still dirty in memory, and ext4 starts writing out a
	 * file renamed over another at once (auto_da_alloc): together these
	 * made a 200 MiB ext2 rebuild 1.5-1.9 times slower than genext2fs alone. */
	if (rc == 0 && unlink(o->out) < 0 && errno != ENOENT)
		rc = error("%s: %s", o->out, strerror(errno));
	if (rc == 0)
		rc = check_keeps(&img, format_find(o->type));
	if (rc == 0)
		rc = format_find(o->type)->write(&img, o);
	if (rc == 0 && in->depfile)
		rc = write_depfile(in->depfile, o->out, &r.deps);
	free(img.entries);
	resolver_free(&r);
	tree_free(&tree);
	close(blob_fd);
	free(blob);
	return rc;
}

/* Build in this process and rename into place; 0 or 1. */
static int build_and_rename(struct image_opts *o, const struct inputs *in)
{
	int rc = build(o, in);
	if (rc == 0 && rename(o->tmp_out, o->out) < 0)
		rc = error("%s: %s", o->out, strerror(errno));
	return rc == 0 ? 0 : 1;
}

/* The build runs in a child in its own process group, so that SIGINT,
 * SIGTERM or SIGHUP reach this process alone: it ends the child and the
 * tools it started, removes every temporary file, and dies of the same
 * signal. Returns the exit status for main. */
static int supervise_build(struct image_opts *o, const struct inputs *in)
{
	sigset_t stop, old;
	siginfo_t info;
	int status = 1, sig = 0;
	pid_t parent = getpid(), child;

	/* a shell starts background jobs with SIGINT ignored; an ignored
	 * signal never reaches sigwaitinfo */
	signal(SIGINT, SIG_DFL);
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	sigaddset(&stop, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &stop, &old) < 0) {
		error("sigprocmask: %s", strerror(errno));
		return 1;
	}
	child = fork();
	if (child < 0) {
		error("fork: %s", strerror(errno));
		remove_tree(o->workdir);
		return 1;
	}
	if (child == 0) {
		setpgid(0, 0);
		/* a SIGKILLed parent cannot clean up: the child ends with it */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		sigprocmask(SIG_SETMASK, &old, NULL);
		_exit(build_and_rename(o, in));
	}
	setpgid(child, child);
	for (;;) {
		if (sigwaitinfo(&stop, &info) < 0) {
			if (errno == EINTR)
				continue;
			sig = SIGTERM;
		} else if (info.si_signo != SIGCHLD) {
			sig = info.si_signo;
		} else if (waitpid(child, &status, WNOHANG) != child) {
			continue;
		}
		break;
	}
	if (sig) {
		kill(-child, SIGKILL);
		kill(child, SIGKILL);
		while (waitpid(child, &status, 0) < 0 && errno == EINTR)
			;
		status = 0;
	}
	if (sig || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		unlink(o->tmp_out);
		if (in->depfile) {
			char *dep_tmp = xasprintf("%s.tmp", in->depfile);
			unlink(dep_tmp);
			free(dep_tmp);
		}
	}
	remove_tree(o->workdir);
	if (sig) {
		signal(sig, SIG_DFL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		raise(sig);
		return 128 + sig;
	}
	if (WIFSIGNALED(status)) {
		error("killed by signal %d", WTERMSIG(status));
		return 1;
	}
	return WEXITSTATUS(status);
}

/* --debian-request: read the recipes (includes followed, nothing else
 * done) and print the suite and packages of their debian lines. */
static int print_debian_request(const struct inputs *in)
{
	struct tree tree;
	struct resolver r;
	struct strlist request = { 0 };
	int rc = 0;
	tree_init(&tree);
	resolver_init(&r, &tree, "/dev/null", -1);
	r.debian_request = &request;
	for (int i = 0; i < in->nrecipes && rc == 0; i++)
		rc = resolve_recipe(&r, in->recipes[i], NULL);
	for (int i = 0; i < in->nconfigs && rc == 0; i++)
		rc = resolve_recipe(&r, in->configs[i], NULL);
	for (size_t i = 0; rc == 0 && i < request.count; i++)
		printf("%s%s", request.items[i], i + 1 == request.count ? "\n" : " ");
	if (rc == 0 && (fflush(stdout) || ferror(stdout)))
		rc = error("stdout: %s", strerror(errno));
	strlist_free(&request);
	resolver_free(&r);
	tree_free(&tree);
	return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct image_opts o = { .headroom = 25 };
	struct inputs in = { 0 };
	char *tmp, *workdir, epoch[32];
	int rc;

	/* internal: the EROFS writer's fakeroot session (erofs.c) */
	if (argc >= 5 && !strcmp(argv[1], "--erofs-session") && !strcmp(argv[3], "--"))
		return erofs_session(argv[2], argv + 4);
	if (parse_args(argc, argv, &o, &in) < 0)
		return 2;
	if (in.debian_request)
		return print_debian_request(&in);
	if (in.debian_tree && in.debian_tree[0] != '/') {
		char *cwd = getcwd(NULL, 0);
		if (!cwd) {
			error("getcwd: %s", strerror(errno));
			return 1;
		}
		in.debian_tree = xasprintf("%s/%s", cwd, in.debian_tree);
		free(cwd);
	}
	o.epoch = source_date_epoch();
	/* tools we run read it too */
	snprintf(epoch, sizeof(epoch), "%lld", o.epoch);
	setenv("SOURCE_DATE_EPOCH", epoch, 1);
	setenv("LC_ALL", "C", 1);
	umask(022);
	/* a tool that dies early makes our writes fail with EPIPE instead */
	signal(SIGPIPE, SIG_IGN);

	tmp = xasprintf("%s.tmp-%ld", o.out, (long)getpid());
	workdir = xasprintf("%s.work-%ld", o.out, (long)getpid());
	if (mkdir(workdir, 0700) < 0) {
		error("cannot create '%s': %s", workdir, strerror(errno));
		return 1;
	}
	o.tmp_out = tmp;
	o.workdir = workdir;
	rc = supervise_build(&o, &in);
	free(tmp);
	free(workdir);
	return rc;
}
