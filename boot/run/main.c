/* umlkit-run BUNDLE ENTRY [OPTIONS] [-- COMMAND [ARG...]]
 * Started by boot.sh (exec) once the bundle is verified and unpacked into
 * the cache entry ENTRY. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"
#include "run.h"


/* WORD as one single-quoted shell word, appended to F */
static void put_quoted(FILE *f, const char *word)
{
	fputs(" '", f);
	for (; *word; word++)
		fputs(*word == '\'' ? "'\\''" : (char[]){ *word, 0 }, f);
	fputc('\'', f);
}

/* run.sh for --extract: every word from the bundle single-quoted, so no
 * value in bundle.conf is ever read as shell syntax. */
static char *extract_script(struct run *r)
{
	char *disks = xstrdup(r->conf.disks), *cmdline = xstrdup(r->conf.cmdline), *images[MAX_DISKS], *words[MAX_APPEND];
	int n_images = split_words(disks, images, MAX_DISKS), n_words = split_words(cmdline, words, MAX_APPEND);
	char *text = NULL, *arg;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		die(EX_HOST, r->prog, "--extract: out of memory");
	fputs("#!/bin/sh\n# Boot the extracted umlkit guest: writes go to copy-on-write files here.\n"
	      "cd \"$(dirname \"$0\")\" && GLIBC_TUNABLES=glibc.pthread.rseq=0 exec ./linux", f);
	arg = xasprintf("mem=%s", r->conf.mem);
	put_quoted(f, arg);
	free(arg);
	for (int i = 0; i < n_images; i++) {
		arg = xasprintf("ubd%d=%s.cow,%s", i, images[i], images[i]);
		put_quoted(f, arg);
		free(arg);
	}
	if (*r->conf.initrd) {
		arg = xasprintf("initrd=%s", r->conf.initrd);
		put_quoted(f, arg);
		free(arg);
	}
	for (int i = 0; i < n_words; i++)
		put_quoted(f, words[i]);
	fputs(" con=null con0=fd:0,fd:1 ssl=null noreboot fb_tunnels=none \"$@\"\n", f);
	fclose(f);
	free(disks);
	free(cmdline);
	return text;
}

static int extract(struct run *r)
{
	char *disks = xasprintf("%s %s", r->conf.disks, r->conf.initrd), *words[MAX_DISKS + 2];
	int n = split_words(disks, words, MAX_DISKS + 1);
	char *script, *path;
	const char *dir = r->opt.extract_dir;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		die(EX_USAGE, r->prog, "--extract '%s': %s", dir, strerror(errno));
	words[n++] = "linux";
	for (int i = 0; i < n; i++) {
		char *from = xasprintf("%s/%s", r->entry, words[i]), *to = xasprintf("%s/%s", dir, words[i]);
		if (copy_sparse(from, to) < 0)
			die(EX_USAGE, r->prog, "--extract: cannot write %s: %s", to, strerror(errno));
		if (!strcmp(words[i], "linux"))
			chmod(to, 0755);
		free(from);
		free(to);
	}
	script = extract_script(r);
	path = xasprintf("%s/run.sh", dir);
	if (write_file(path, script, strlen(script)) < 0 || chmod(path, 0755) < 0)
		die(EX_USAGE, r->prog, "--extract: cannot write %s: %s", path, strerror(errno));
	printf("extracted to %s (run %s)\n", dir, path);
	free(script);
	free(disks);
	return 0;
}

static int run(struct run *r)
{
	int code;
	r->command_mode = r->opt.command || !strcmp(r->conf.mode, "command");
	code = net_plan(r);
	if (code)
		return code;
	if ((r->opt.report.junit || r->opt.report.json) && !r->command_mode && !r->kunit) {
		say(r->prog, "--junit and --json read a command's output: give one after --");
		return EX_USAGE;
	}
	r->entry_lock_fd = cache_lock_entry(r->entry);
	if (r->entry_lock_fd < 0)
		die(EX_HOST, r->prog, "cannot lock the cache entry %s: %s", r->entry, strerror(errno));
	cache_evict(r->entry, CACHE_MAX_AGE_DAYS, CACHE_KEEP_SAME_NAME, cache_max_bytes(r->prog));
	if (r->opt.guard.sandbox != SANDBOX_OFF && sandbox_abi() < 1) {
		if (r->opt.guard.sandbox == SANDBOX_STRICT)
			die(EX_HOST, r->prog, "this host has no Landlock (Linux 5.13 or later, enabled): "
			    "--sandbox strict cannot confine the guest");
		say(r->prog, "note: this host has no Landlock: the guest's host file access is "
		    "confined by hostfs only (--sandbox strict refuses to run so)");
	}
	code = rundir_check_memory(r);
	if (code)
		return code;
	rundir_pick_tmpbase(r);
	cache_sweep_runs(r->tmpbase);
	rundir_create(r);
	code = rundir_prepare(r);
	if (!code && setenv("TMPDIR", r->tmpbase, 1) < 0)
		code = EX_HOST;
	if (!code)
		code = supervise(r);
	if (remove_tree(r->dir) < 0)
		say(r->prog, "cannot remove the run directory %s: %s", r->dir, strerror(errno));
	return code;
}

int main(int argc, char **argv)
{
	struct run r;
	char *conf_path, *slash;

	memset(&r, 0, sizeof(r));
	if (argc >= 4 && !strcmp(argv[1], "--lab-check"))
		return lab_check(argv[2], argv[3], argv + 4);
	if (argc == 4 && !strcmp(argv[1], "--lab-images"))
		return lab_images(argv[2], argv[3]);
	if (argc < 3) {
		dprintf(2, "usage: umlkit-run BUNDLE CACHE-ENTRY [OPTIONS] [-- COMMAND...]\n"
			   "(started by boot.sh; run boot.sh --help)\n");
		return EX_USAGE;
	}
	r.bundle = argv[1];
	r.entry = argv[2];
	slash = strrchr(r.bundle, '/');
	r.prog = slash ? slash + 1 : r.bundle;
	conf_path = xasprintf("%s/bundle.conf", r.entry);
	if (conf_read(conf_path, &r.conf) < 0)
		die(EX_CORRUPT, r.prog, "cannot read %s: %s: remove that directory and run again", conf_path,
		    strerror(errno));
	free(conf_path);
	if (argc == 6 && !strcmp(argv[3], "--lab-machine")) {
		/* a lab machine's supervisor, started by boot.sh start */
		r.entry_lock_fd = cache_lock_entry(r.entry);
		return lab_machine(&r, argv[4], argv[5]);
	}
	if (argc == 5 && !strcmp(argv[3], "--lab-trunk"))
		return lab_trunk(&r, argv[4]);	/* a lab part's trunk, started by boot.sh start --part */
	if (*r.conf.lab)
		return lab_main(&r, argc - 3, argv + 3);
	r.kunit = !strcmp(r.conf.mode, "kunit");
	if (options_parse(argc - 3, argv + 3, &r.opt, &r.conf, r.prog) < 0)
		return EX_USAGE;
	/* kunit.py's default */
	if (r.kunit && !r.opt.timeout_set)
		r.opt.timeout = KUNIT_TIMEOUT;
	if (!strcmp(r.opt.action, "help")) {
		options_usage(&r.conf, r.prog);
		return 0;
	}
	if (!strcmp(r.opt.action, "parse"))
		return kunit_parse_file(&r);
	if (!strcmp(r.opt.action, "cache"))
		return cache_show(r.entry);
	if (!strcmp(r.opt.action, "cache-clear"))
		return cache_clear(r.entry, r.prog);
	if (!strcmp(r.opt.action, "extract"))
		return extract(&r);
	if (!strcmp(r.opt.action, "host-report")) {
		int abi = sandbox_abi();
		if (abi > 0)
			printf("host protection: Landlock ABI %d: the guest reaches only its run files and shares\n", abi);
		else
			printf("host protection: no Landlock on this host: hostfs confinement only\n");
		return 0;
	}
	return run(&r);
}
