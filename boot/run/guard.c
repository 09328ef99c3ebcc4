/* The guard: a child of the supervisor that starts UML and owns its whole
 * process tree. UML calls setsid() and leaves helper processes (userspace
 * stubs, the console's winch thread in a session of its own) that outlive
 * its main process, so the guard is a child subreaper: when UML's main
 * process ends, or the supervisor asks (SIGTERM), or the supervisor dies
 * (PR_SET_PDEATHSIG, even on SIGKILL), it kills every process left below
 * it, reaps them, and reports UML's wait status on a pipe. If the
 * supervisor died it also restores the terminal and removes the run
 * directory, so a SIGKILLed boot.sh leaves nothing behind. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run.h"

/* --cpu N|auto|all: the host CPU the guest runs on (one of those this
 * process may use); auto: one, moved off a busy one (cpufollow.c); all. */
static int set_cpu(struct options *opt, char *val, const char *prog)
{
	cpu_set_t allowed;
	char *end;
	long cpu;
	if (!strcmp(val, "all") || !strcmp(val, "auto")) {
		opt->guard.cpu = !strcmp(val, "all") ? CPU_ALL : CPU_AUTO;
		return 0;
	}
	cpu = strtol(val, &end, 10);
	if (!*val || *end || cpu < 0 || cpu >= CPU_SETSIZE)
		return usage_error(prog, "--cpu '%s': use a CPU number, 'auto' or 'all'", val);
	if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0 && !CPU_ISSET(cpu, &allowed))
		return usage_error(prog, "--cpu '%s': not a CPU this process may use (see nproc, taskset -p)",
				   val);
	opt->guard.cpu = (int)cpu;
	return 0;
}

static int set_cpu_limit(struct options *opt, char *val, const char *prog)
{
	char *end;
	errno = 0;
	opt->guard.cpu_limit = strtol(val, &end, 10);
	if (!*val || *end || errno || opt->guard.cpu_limit < 0)
		return usage_error(prog, "--cpu-limit '%s': use whole seconds of CPU time (0: no limit)", val);
	return 0;
}

static int set_disk_limit(struct options *opt, char *val, const char *prog)
{
	opt->guard.disk_limit_set = 1;
	if (parse_size(val, &opt->guard.disk_limit) < 0)
		return usage_error(prog, "--disk-limit '%s': use a size such as 512M (0: no limit)", val);
	return 0;
}

static int set_sandbox(struct options *opt, char *val, const char *prog)
{
	static const char *const modes[] = { "auto", "strict", "off" };
	for (int i = 0; i < 3; i++)
		if (!strcmp(val, modes[i])) {
			opt->guard.sandbox = i;
			return 0;
		}
	return usage_error(prog, "--sandbox '%s': use auto, strict or off", val);
}

static void guard_options_init(struct options *opt)
{
	opt->guard.cpu = CPU_AUTO;
}

static const struct optdef guard_rows[] = {
	{ "--cpu-limit", "SECONDS", set_cpu_limit, OPT_ANY, "stop the guest after SECONDS of host CPU time, exit 123", NULL },
	{ "--disk-limit", "SIZE", set_disk_limit, OPT_GUEST, "stop the guest when its run files pass SIZE, exit 123\n"
	  "                         (default: its memory, its images and 256M; 0: none)", NULL },
	{ "--sandbox", "MODE", set_sandbox, OPT_ANY, "auto: confine the guest with Landlock where the host has it\n"
	  "                         (default); strict: refuse to run without; off: none (the\n"
	  "                         guest can reach all your files through hostfs)", NULL },
	{ "--cpu", "N|auto|all", set_cpu, OPT_ANY, "host CPU the guest runs on; auto (default): one, which makes\n"
	  "                         process creation in the guest 2-2.5x faster, moved to an\n"
	  "                         idle one when other work keeps it busy; all: any", NULL },
};

const struct option_group guard_option_group = OPTION_GROUP("Limits and confinement", guard_rows, guard_options_init);

/* Calls FN with each process's pid and the fields of /proc/PID/stat after
 * "pid (comm)" (comm may hold spaces and parentheses). */
void walk_processes(void (*fn)(pid_t pid, const char *fields, void *ctx), void *ctx)
{
	DIR *proc = opendir("/proc");
	struct dirent *e;
	if (!proc)
		return;
	while ((e = readdir(proc))) {
		char path[300], stat[1024], *fields;
		int fd;
		ssize_t n;
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, stat, sizeof(stat) - 1);
		close(fd);
		if (n <= 0)
			continue;
		stat[n] = '\0';
		fields = strrchr(stat, ')');
		if (fields)
			fn(atoi(e->d_name), fields + 1, ctx);
	}
	closedir(proc);
}

static void kill_if_child(pid_t pid, const char *fields, void *ctx)
{
	int ppid;
	/* state ppid */
	if (sscanf(fields, " %*c %d", &ppid) == 1 && ppid == *(pid_t *)ctx)
		kill(pid, SIGKILL);
}

/* SIGKILL every process whose parent is SELF (UML's orphans are ours). */
static void kill_tree(pid_t self)
{
	walk_processes(kill_if_child, &self);
}

/* UML runs each guest process as a host process it drives with ptrace:
 * every guest system call and page fault is a round trip between two host
 * processes. On one CPU that round trip is a plain switch; across CPUs
 * every wakeup is an interprocessor interrupt (a VM exit under a
 * hypervisor). Pinned, 1,000 fork+exec in the guest took 2.9 s against
 * 6.5-7.3 s. Concurrent runs are spread over the allowed CPUs by pid.
 * Only the kernel and its helpers are pinned; the supervisor is not. */
static void pin_cpu(const struct run *r)
{
	cpu_set_t allowed, one;
	int n, pick, cpu = r->opt.guard.cpu;
	if (cpu == CPU_ALL || sched_getaffinity(0, sizeof(allowed), &allowed) < 0)
		return;
	n = CPU_COUNT(&allowed);
	if (cpu == CPU_AUTO) {
		if (n <= 1)
			return;
		pick = (int)(getpid() % n);
		for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
			if (CPU_ISSET(cpu, &allowed) && pick-- == 0)
				break;
	}
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	/* a host that refuses (a cpuset changed under us) runs unpinned */
	sched_setaffinity(0, sizeof(one), &one);
}

/* A statically linked UML kernel (kernel/static.config) boots only with
 * glibc's rseq registration turned off: with it, the first guest process
 * dies ("wait_stub_done: failed to wait for SIGTRAP") and init panics.
 * The tunable is added to the user's own; a dynamic kernel ignores it. */
static int rseq_off(void)
{
	const char *old = getenv("GLIBC_TUNABLES");
	char *value = old && *old ? xasprintf("%s:glibc.pthread.rseq=0", old) : xstrdup("glibc.pthread.rseq=0");
	int rc = setenv("GLIBC_TUNABLES", value, 1);
	free(value);
	return rc;
}

/* The step that failed, and its errno, to the guard (a close-on-exec
 * pipe: a kernel that started closes it with nothing said). */
static void __attribute__((noreturn)) not_started(int report_fd, int step)
{
	int said[2] = { step, errno };
	while (write(report_fd, said, sizeof(said)) < 0 && errno == EINTR)
		;
	_exit(127);
}

static void exec_uml(struct run *r, char **argv, const int *child_fds, int n_child_fds, int log_fd,
		     int report_fd)
{
	sigset_t none;
	int null = open("/dev/null", O_RDWR);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || null < 0)
		not_started(report_fd, START_SETUP);
	/* UML's own messages (tmpfs warnings, early errors) go to the log */
	if (dup2(null, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0)
		not_started(report_fd, START_SETUP);
	for (int i = 0; i < n_child_fds; i++) {
		int flags = fcntl(child_fds[i], F_GETFD);
		if (flags < 0 || fcntl(child_fds[i], F_SETFD, flags & ~FD_CLOEXEC) < 0)
			not_started(report_fd, START_SETUP);
	}
	/* UML's memory file: in the run directory, the one place it may write */
	if (setenv("TMPDIR", r->dir, 1) < 0 || rseq_off() < 0)
		not_started(report_fd, START_SETUP);
	pin_cpu(r);
	if (r->opt.guard.sandbox != SANDBOX_OFF && sandbox_abi() > 0 && sandbox_apply(r) < 0)
		not_started(report_fd, START_LANDLOCK);
	/* as with Landlock, only strict refuses a host without it */
	if (r->opt.guard.sandbox != SANDBOX_OFF && seccomp_apply() < 0 && r->opt.guard.sandbox == SANDBOX_STRICT)
		not_started(report_fd, START_SECCOMP);
	execv(argv[0], argv);
	not_started(report_fd, START_EXEC);
}

struct cpu_count {
	pid_t session;
	unsigned long long ticks;
};

static void add_cpu(pid_t pid, const char *fields, void *ctx)
{
	struct cpu_count *c = ctx;
	unsigned long long ut, st, cut, cst;
	int session;
	/* state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
	 * utime stime cutime cstime */
	if (sscanf(fields, " %*c %*d %*d %d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu",
		   &session, &ut, &st, &cut, &cst) != 5 || session != c->session)
		return;
	c->ticks += ut + st;
	if (pid == c->session)
		c->ticks += cut + cst;	/* its reaped children */
}

/* Host CPU seconds used by UML's session (its main process, its userspace
 * processes, and what its reaped children used). */
static long session_cpu_seconds(pid_t uml)
{
	struct cpu_count c = { uml, 0 };
	walk_processes(add_cpu, &c);
	return (long)(c.ticks / (unsigned long long)sysconf(_SC_CLK_TCK));
}

#define RUN_DIR_MAX_DEPTH 64	/* deeper is no run's doing: over any limit */

/* Bytes the files below directory DIR_FD hold (it is closed), never
 * following symlinks (shares, --disk and --persist are linked in) nor
 * crossing mounts; ULLONG_MAX for a tree deeper than any run makes. */
static unsigned long long tree_bytes(int dir_fd, dev_t dev, int depth)
{
	DIR *d = fdopendir(dir_fd);
	struct dirent *e;
	unsigned long long sum = 0;
	if (!d) {
		close(dir_fd);
		return 0;
	}
	while ((e = readdir(d)) && sum != ULLONG_MAX) {
		struct stat st;
		int sub;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != dev)
			continue;
		if (S_ISREG(st.st_mode)) {
			sum += (unsigned long long)st.st_blocks * 512;
		} else if (S_ISDIR(st.st_mode)) {
			unsigned long long below;
			if (depth >= RUN_DIR_MAX_DEPTH)
				sum = ULLONG_MAX;
			else if ((sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
				below = tree_bytes(sub, dev, depth + 1);
				sum = below > ULLONG_MAX - sum ? ULLONG_MAX : sum + below;
			}
		}
	}
	closedir(d);
	return sum;
}

/* Bytes the run directory holds (copy-on-write files, memory file, and
 * whatever the guest wrote there through hostfs, at any depth). */
static unsigned long long run_dir_bytes(const char *dir)
{
	struct stat st;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return 0;
	}
	return tree_bytes(fd, st.st_dev, 0);
}

static int limit_reached(struct run *r, pid_t uml)
{
	if (r->opt.guard.cpu_limit && session_cpu_seconds(uml) >= r->opt.guard.cpu_limit)
		return CPU_LIMIT;
	if (r->opt.guard.disk_limit && run_dir_bytes(r->dir) > r->opt.guard.disk_limit)
		return DISK_LIMIT;
	return ENDED;
}

static void guard_main(struct run *r, char **argv, const int *child_fds, int n_child_fds,
		       int status_fd, const struct termios *saved, int tty_fd, pid_t supervisor)
{
	sigset_t set;
	struct guard_report report = { 0, ENDED, 0, 0 };
	struct timespec tick = { 1, 0 };
	int uml_done = 0, sig, null, limited = r->opt.guard.cpu_limit || r->opt.guard.disk_limit, started[2], said[2];
	struct cpu_follow follow;
	ssize_t n;
	pid_t self = getpid(), uml;

	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		_exit(127);
	if (getppid() != supervisor)
		kill(self, SIGTERM);	/* it died before PDEATHSIG was set */
	setpgid(0, 0);		/* the user's job-control signals are the supervisor's */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);

	if (pipe2(started, O_CLOEXEC) < 0)
		_exit(127);
	uml = fork();
	if (uml < 0)
		_exit(127);
	if (uml == 0)
		exec_uml(r, argv, child_fds, n_child_fds, child_fds[0], started[1]);
	close(started[1]);
	while ((n = read(started[0], said, sizeof(said))) < 0 && errno == EINTR)
		;
	close(started[0]);
	if (n == (ssize_t)sizeof(said)) {
		report.reason = NOT_STARTED;
		report.step = said[0];
		report.err = said[1];
	}
	/* the guard keeps no descriptor the guest's streams could wait on */
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 1);
		dup2(null, 2);
	}
	for (int i = 0; i < n_child_fds; i++)
		close(child_fds[i]);
	cpu_follow_init(&follow, uml, report.reason == ENDED ? r->opt.guard.cpu : CPU_ALL);

	for (;;) {
		pid_t pid;
		sig = limited || follow.cpu >= 0 ? sigtimedwait(&set, NULL, &tick) : sigwaitinfo(&set, NULL);
		if (sig < 0 && errno == EAGAIN)
			cpu_follow_tick(&follow);
		if (sig < 0 && errno == EAGAIN && limited && report.reason == ENDED) {
			report.reason = limit_reached(r, uml);
			if (report.reason != ENDED)
				sig = SIGTERM;
		}
		if (sig == SIGTERM) {
			kill(-uml, SIGKILL);
			kill(uml, SIGKILL);
			kill_tree(self);
		}
		while ((pid = waitpid(-1, &sig, WNOHANG)) > 0) {
			if (pid == uml) {
				report.wait_status = sig;
				uml_done = 1;
			}
		}
		if (uml_done) {
			/* UML's helpers: in its process group or a session of their own */
			kill(-uml, SIGKILL);
			kill_tree(self);
			while ((pid = waitpid(-1, NULL, 0)) > 0 || (pid < 0 && errno == EINTR))
				kill_tree(self);
			break;
		}
	}
	/* a guest that went over a limit between two checks */
	if (report.reason == ENDED && limited) {
		struct rusage ru;
		if (r->opt.guard.cpu_limit && getrusage(RUSAGE_CHILDREN, &ru) == 0 &&
		    ru.ru_utime.tv_sec + ru.ru_stime.tv_sec >= r->opt.guard.cpu_limit)
			report.reason = CPU_LIMIT;
		else if (r->opt.guard.disk_limit && run_dir_bytes(r->dir) > r->opt.guard.disk_limit)
			report.reason = DISK_LIMIT;
	}
	while (write(status_fd, &report, sizeof(report)) < 0 && errno == EINTR)
		;
	if (getppid() != supervisor) {
		if (tty_fd >= 0)
			term_restore(tty_fd, saved);
		remove_tree(r->dir);
	}
	_exit(0);
}

/* child_fds[0] is the boot log's write end; all of them are the numbers
 * UML's console options name. */
pid_t guard_start(struct run *r, char **argv, const int *child_fds, int n_child_fds,
		  int status_fd, const struct termios *saved, int tty_fd)
{
	pid_t supervisor = getpid(), pid = fork();
	if (pid == 0)
		guard_main(r, argv, child_fds, n_child_fds, status_fd, saved, tty_fd, supervisor);
	return pid;
}
