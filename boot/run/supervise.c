/* One run of the guest: the files its init reads, the console wiring, and
 * one poll(2) loop that relays the guest's streams, forwards signals and
 * enforces the deadlines, as timeout(1), tini and script(1) do. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ktap.h"
#include "report.h"
#include "run.h"

#define BOOT_WAIT_SECONDS 30	/* a boot without "booted" by then hung */
#define BOOT_ATTEMPTS 3
#define LOG_TAIL_LINES 12

struct session {
	struct run *r;
	int in_tty, out_tty, err_tty;
	struct termios saved;
	int master, slave;	/* the guest's terminal, when stdin is one */
	int sfd;		/* signalfd */
	struct relay relays[6];
	int n_relays;
	struct ring log;	/* the boot log's end, for a crash report */
	int end_code;		/* decided by a signal, the timeout, a closed stdout */
	int hung;
	long long deadline, boot_deadline;	/* CLOCK_MONOTONIC ms, 0: none */
	struct ktap_parser ktap;	/* the command's stdout, with --junit/--json */
	char line[8192];
	size_t line_len;
};

static int run_file(struct run *r, const char *name, const void *data, size_t len)
{
	char *path = xasprintf("%s/%s", r->dir, name);
	int rc = write_file(path, data, len);
	if (rc < 0)
		say(r->prog, "cannot write %s: %s%s", path, strerror(errno),
		    errno == ENOSPC ? " (the run's TMPDIR is full: free some or set TMPDIR)" : "");
	free(path);
	return rc;
}

/* stdin that is not a terminal is read to its end before the command
 * starts: the guest init hands the file over, end of file included. */
static int spool_stdin(struct run *r)
{
	char *path = xasprintf("%s/stdin", r->dir), buf[65536];
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600), rc = 0;
	if (fd < 0) {
		say(r->prog, "cannot create %s: %s", path, strerror(errno));
		free(path);
		return EX_HOST;
	}
	for (;;) {
		ssize_t n = read(0, buf, sizeof(buf)), w = 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;	/* a closed or unreadable stdin is an empty one */
		while (w < n) {
			ssize_t k = write(fd, buf + w, (size_t)(n - w));
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0) {
				say(r->prog, "cannot keep standard input in %s: %s%s", r->tmpbase, strerror(errno),
				    errno == ENOSPC ? ": free some space or set TMPDIR" : "");
				rc = EX_HOST;
				goto out;
			}
			w += k;
		}
	}
out:
	if (close(fd) < 0 && rc == 0) {
		say(r->prog, "cannot keep standard input in %s: %s", r->tmpbase, strerror(errno));
		rc = EX_HOST;
	}
	free(path);
	return rc;
}

static int write_guest_files(struct session *s)
{
	struct run *r = s->r;
	char ttys[16], *buf = NULL;
	size_t len = 0;
	FILE *f;
	const char *mode = r->command_mode ? "command\n" : "login\n";
	if (r->kunit)
		return 0;	/* no init reads anything: the kernel runs its tests */
	if (run_file(r, "mode", mode, strlen(mode)) < 0)
		return EX_HOST;
	if (r->opt.n_shares) {
		if (!(f = open_memstream(&buf, &len)))
			return EX_HOST;
		/* confined, hostfs sees only the run directory: sN links there */
		for (int i = 0; i < r->opt.n_shares; i++) {
			if (r->opt.guard.sandbox == SANDBOX_OFF)
				fprintf(f, "%s", r->opt.shares[i].host);
			else
				fprintf(f, "/s%d", i);
			fprintf(f, "\t%s\t%s\n", r->opt.shares[i].guest, r->opt.shares[i].rw ? "rw" : "ro");
		}
		fclose(f);
		if (run_file(r, "shares", buf, len) < 0)
			return EX_HOST;
		free(buf);
		buf = NULL;
	}
	if (!r->command_mode)
		return 0;
	if (!(f = open_memstream(&buf, &len)))
		return EX_HOST;
	if (r->opt.command) {
		for (char **a = r->opt.command; *a; a++)
			fwrite(*a, 1, strlen(*a) + 1, f);
	} else {
		char *copy = xstrdup(r->conf.command), *words[256];
		int n = split_words(copy, words, 256);
		for (int i = 0; i < n; i++)
			fwrite(words[i], 1, strlen(words[i]) + 1, f);
		free(copy);
	}
	fclose(f);
	if (run_file(r, "args", buf, len) < 0)
		return EX_HOST;
	free(buf);
	snprintf(ttys, sizeof(ttys), "%d %d %d\n", s->in_tty, s->out_tty, s->err_tty);
	if (run_file(r, "ttys", ttys, strlen(ttys)) < 0)
		return EX_HOST;
	return s->in_tty ? 0 : spool_stdin(r);
}

static struct relay *add_relay(struct session *s, int in, int out, int required)
{
	struct relay *rl = &s->relays[s->n_relays++];
	relay_init(rl, in, out, required);
	return rl;
}

static void print_log_tail(struct session *s)
{
	size_t start = s->log.len;
	int lines = 0;
	while (start > 0 && lines <= LOG_TAIL_LINES)
		if (s->log.buf[--start] == '\n')
			lines++;
	if (start > 0 || lines > LOG_TAIL_LINES)
		start++;
	if (start >= s->log.len)
		return;
	for (size_t i = start; i < s->log.len; i++) {
		if (i == start || s->log.buf[i - 1] == '\n')
			dprintf(2, "  ");
		if (write(2, s->log.buf + i, 1) < 0)
			return;
	}
	if (s->log.buf[s->log.len - 1] != '\n')
		dprintf(2, "\n");
}

static void end_run(struct session *s, int code, pid_t guard)
{
	if (s->end_code < 0)
		s->end_code = code;
	if (guard > 0)
		kill(guard, SIGTERM);
}

/* Moves what is buffered to the relay's output; 0, or the run's end code
 * when the command's stdout cannot take it. */
static int write_relay(struct session *s, struct relay *rl, int block)
{
	int out = rl->out, err = relay_write(rl, block);
	if (!err || out != 1)
		return 0;
	if (err == EPIPE)
		return 128 + SIGPIPE;	/* as any writer to a closed pipe */
	say(s->r->prog, "cannot write standard output: %s", strerror(err));
	return EX_HOST;
}

/* the command's stdout, a line at a time, into the KTAP parser */
static void parse_output(struct session *s, const char *data, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (data[i] != '\n' && s->line_len < sizeof(s->line) - 1) {
			s->line[s->line_len++] = data[i];
			continue;
		}
		s->line[s->line_len] = '\0';
		ktap_line(&s->ktap, s->line, now_ms());
		if (s->r->kunit && s->r->opt.kunit.raw)
			kunit_raw_line(&s->ktap, s->line, stdout);
		s->line_len = 0;
		if (data[i] != '\n')
			s->line[s->line_len++] = data[i];
	}
}

/* The end of what the command (or the KUnit kernel) printed: WHY is what
 * cut the run short, if something did. A KUnit run shows what is left of
 * its results and kunit.py's summary, and its status becomes kunit.py's.
 * Then --junit and --json. Returns the run's exit status. */
static int finish_results(struct session *s, int code)
{
	const char *why = code == EX_CRASH ? "the guest kernel crashed" : code == EX_TIMEOUT ? "timed out (--timeout)"
		: code >= 128 && code < 160 ? "a signal ended the run" : NULL;
	if (s->line_len)
		parse_output(s, "\n", 1);
	ktap_end(&s->ktap, why, now_ms());
	if (s->r->kunit && (code == 0 || code == EX_CRASH || code == EX_TIMEOUT)) {
		int tests = kunit_summary(&s->ktap, s->r->opt.kunit.raw ? NULL : stdout, s->r->prog);
		code = code || tests ? 1 : 0;
	}
	if (report_files(s->r->opt.report.junit, s->r->opt.report.json, &s->ktap.root, s->r->conf.name, s->r->prog) < 0 &&
	    code == 0)
		code = EX_HOST;
	ktap_free(&s->ktap);
	return code;
}

/* taps: the command's stdout into the parser; the boot log into its ring
 * (and a KUnit kernel's log into the parser) */
static void tap_parse(void *ctx, const char *data, size_t n)
{
	parse_output(ctx, data, n);
}

static void tap_log(void *ctx, const char *data, size_t n)
{
	struct session *s = ctx;
	ring_add(&s->log, data, n);
	if (s->r->kunit)
		parse_output(s, data, n);
}

static void set_tap(struct relay *rl, void (*tap)(void *, const char *, size_t), struct session *s)
{
	rl->tap = tap;
	rl->tap_ctx = s;
}

static void on_signal(struct session *s, pid_t guard)
{
	struct signalfd_siginfo si;
	while (read(s->sfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			break;	/* the guard reports on its status pipe */
		case SIGWINCH:
			if (s->in_tty)
				pty_copy_size(0, s->master);
			break;
		default:
			end_run(s, 128 + (int)si.ssi_signo, guard);
		}
	}
}

static void on_deadline(struct session *s, pid_t guard)
{
	long long now = now_ms();
	if (s->deadline && now >= s->deadline) {
		s->deadline = 0;
		if (s->end_code < 0)
			say(s->r->prog, "timed out after %lds", s->r->opt.timeout);
		end_run(s, EX_TIMEOUT, guard);
	}
	if (s->boot_deadline && now >= s->boot_deadline) {
		char *booted = xasprintf("%s/booted", s->r->dir);
		s->boot_deadline = 0;
		/* a KUnit kernel has booted when its KTAP starts */
		if (s->r->kunit ? !s->ktap.started : access(booted, F_OK) < 0) {
			s->hung = 1;
			kill(guard, SIGTERM);
		}
		free(booted);
	}
}

static int poll_timeout(struct session *s)
{
	long long next = 0, now = now_ms();
	if (s->deadline)
		next = s->deadline;
	if (s->boot_deadline && (!next || s->boot_deadline < next))
		next = s->boot_deadline;
	if (!next)
		return -1;
	return next <= now ? 0 : (int)(next - now > INT_MAX ? INT_MAX : next - now);
}

static int make_pipe(int fds[2])
{
	return pipe2(fds, O_CLOEXEC);
}

/* What one boot hands UML: its console options and the descriptors they
 * name (fds[0], the boot log's write end, first). */
struct wiring {
	int log[2];
	char *cons[4 + MAX_NETIFS];
	int n_cons;
	int fds[6 + MAX_NETIFS];
	int n_fds;
};

/* A pipe whose write end UML gets as console NAME=null,fd:N (output
 * only), read by a relay to OUT; -1 if there is no pipe. */
static int output_console(struct session *s, struct wiring *w, const char *name, int out)
{
	int p[2];
	if (make_pipe(p) < 0)
		return -1;
	w->fds[w->n_fds++] = p[1];
	w->cons[w->n_cons++] = xasprintf("%s=null,fd:%d", name, p[1]);
	if (out == 1 && (s->r->opt.report.junit || s->r->opt.report.json))
		set_tap(add_relay(s, p[0], out, 1), tap_parse, s);
	else
		add_relay(s, p[0], out, 1);
	return 0;
}

/* Command mode: con0 the kernel's log, con1 the command's stdin (the
 * terminal, or none: a spooled file), con2 and con3 its stdout and stderr. */
static int wire_command(struct session *s, struct wiring *w)
{
	w->cons[w->n_cons++] = xasprintf("con0=null,fd:%d", w->log[1]);
	w->cons[w->n_cons++] = s->in_tty ? xasprintf("con1=fd:%d,fd:%d", s->slave, s->slave) : "con1=null";
	return output_console(s, w, "con2", 1) < 0 || output_console(s, w, "con3", 2) < 0 ? -1 : 0;
}

/* KUnit (console=tty): the kernel's log, with the KTAP in it */
static int wire_kunit(struct session *s, struct wiring *w)
{
	(void)s;
	w->cons[w->n_cons++] = xasprintf("con0=null,fd:%d", w->log[1]);
	return 0;
}

/* Login mode: con0 the terminal, or a pair of pipes to stdin and stdout */
static int wire_login(struct session *s, struct wiring *w)
{
	int in[2], out[2];
	if (s->in_tty) {
		w->cons[w->n_cons++] = xasprintf("con0=fd:%d,fd:%d", s->slave, s->slave);
		return 0;
	}
	if (make_pipe(in) < 0 || make_pipe(out) < 0)
		return -1;
	w->fds[w->n_fds++] = in[0];
	w->fds[w->n_fds++] = out[1];
	w->cons[w->n_cons++] = xasprintf("con0=fd:%d,fd:%d", in[0], out[1]);
	add_relay(s, 0, in[1], 0);
	add_relay(s, out[0], 1, 1);
	return 0;
}

/* The consoles of a boot, by mode; then the terminal's relays, the boot
 * log's, and the network's interfaces. 0, or the run's exit status. */
static int wire(struct session *s, struct wiring *w)
{
	struct run *r = s->r;
	int (*mode)(struct session *, struct wiring *) = r->command_mode ? wire_command
							 : r->kunit ? wire_kunit : wire_login;
	w->n_cons = w->n_fds = 0;
	s->n_relays = 0;
	if (make_pipe(w->log) < 0)
		return EX_HOST;
	w->fds[w->n_fds++] = w->log[1];
	if (mode(s, w) < 0)
		return EX_HOST;
	if (s->in_tty) {
		w->fds[w->n_fds++] = s->slave;
		add_relay(s, 0, s->master, 0);
		add_relay(s, s->master, s->out_tty || !r->command_mode ? 1 : -1, 0);
	}
	set_tap(add_relay(s, w->log[0], r->opt.verbose ? 2 : -1, 1), tap_log, s);
	/* the network helpers log to the boot log too */
	return net_up(r, w->log[1], w->fds, &w->n_fds, w->cons, &w->n_cons);
}

/* Our ends only: what UML got is closed here (the pty slave stays, for a
 * retry); with CLOSE_RELAYS the relays' read ends too (a failed wiring). */
static void close_wiring(struct session *s, struct wiring *w, int close_relays)
{
	for (int i = 0; i < w->n_fds; i++)
		if (w->fds[i] != s->slave)
			close(w->fds[i]);
	for (int i = 0; close_relays && i < s->n_relays; i++)
		if (s->relays[i].in != 0 && s->relays[i].in != s->master)
			close(s->relays[i].in);
}

/* Relays until the guard reported and every required relay ended. */
static void relay_loop(struct session *s, pid_t guard, int status_fd, struct guard_report *report)
{
	static const struct guard_report failed = { -1, ENDED, 0, 0 };
	int got_status = 0;
	for (;;) {
		struct pollfd pfd[16];
		struct relay *who[16];
		int n = 0, open_required = 0;
		pfd[n].fd = s->sfd, pfd[n].events = POLLIN, who[n++] = NULL;
		if (!got_status)
			pfd[n].fd = status_fd, pfd[n].events = POLLIN, who[n++] = NULL;
		for (int i = 0; i < s->n_relays; i++) {
			struct relay *rl = &s->relays[i];
			if (relay_poll(rl, &pfd[n]))
				who[n++] = rl;
			open_required |= rl->required && (!rl->eof || rl->len);
		}
		if (got_status && !open_required)
			break;
		if (poll(pfd, (nfds_t)n, poll_timeout(s)) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			struct relay *rl = who[i];
			if (!pfd[i].revents)
				continue;
			if (pfd[i].fd == s->sfd && !rl) {
				on_signal(s, guard);
			} else if (!rl) {
				ssize_t k = read(status_fd, report, sizeof(*report));
				if (k == 0 || (k < 0 && errno != EINTR))
					got_status = 1, *report = failed;	/* the guard itself died */
				else if (k == (ssize_t)sizeof(*report))
					got_status = 1;
				if (got_status)
					net_down(s->r);	/* its stderr is the log's: let the log end */
			} else if (pfd[i].events & POLLOUT) {
				int code = write_relay(s, rl, 0);
				if (code)
					end_run(s, code, guard);
			} else {
				relay_read(rl);
			}
		}
		on_deadline(s, guard);
	}
}

/* What the guest wrote last, and the terminal's pending output; then the
 * relays' descriptors are closed. */
static void drain(struct session *s)
{
	for (int i = 0; i < s->n_relays; i++) {
		struct relay *rl = &s->relays[i];
		if (rl->in == s->master) {
			for (relay_read(rl); rl->len; relay_read(rl))
				relay_write(rl, 1);
		}
		if (rl->len && rl->out >= 0)
			relay_write(rl, 1);
		if (rl->in != 0 && rl->in != s->master)
			close(rl->in);
		if (rl->out > 2 && rl->out != s->master)
			close(rl->out);
	}
}

/* One boot: the guard with UML below it, relayed until both are gone.
 * Returns the guard's report (wait status -1 if unknown). */
static struct guard_report boot_once(struct session *s)
{
	struct run *r = s->r;
	struct wiring w;
	struct guard_report report = { -1, ENDED, 0, 0 }, failed = { -1, ENDED, 0, 0 };
	int st[2], code;
	pid_t guard;

	if (make_pipe(st) < 0)
		return failed;
	code = wire(s, &w);
	if (code) {
		s->end_code = code;
		close_wiring(s, &w, 1);
		close(st[0]);
		close(st[1]);
		return failed;
	}
	guard = guard_start(r, rundir_uml_argv(r, w.cons, w.n_cons), w.fds, w.n_fds, st[1], &s->saved,
			    s->in_tty ? 0 : -1);
	if (guard < 0) {
		say(r->prog, "cannot start the guest: %s", strerror(errno));
		return failed;
	}
	close_wiring(s, &w, 0);
	close(st[1]);
	s->boot_deadline = now_ms() + BOOT_WAIT_SECONDS * 1000LL;
	if (s->end_code >= 0)
		kill(guard, SIGTERM);
	relay_loop(s, guard, st[0], &report);
	drain(s);
	close(st[0]);
	while (waitpid(guard, NULL, 0) < 0 && errno == EINTR)
		;
	net_down(r);
	s->boot_deadline = 0;
	return report;
}

/* The kernel never started: the guard's report says which step failed. */
static int not_started(struct session *s, const struct guard_report *report)
{
	static const char *const steps[] = { "", "cannot set up the kernel's process",
		"cannot confine the kernel with Landlock", "cannot set the kernel's seccomp filter",
		"cannot run the kernel" };
	/* a dynamic kernel on a host without its ELF interpreter */
	if (report->step == START_EXEC && report->err == ENOENT) {
		say(s->r->prog, "this host cannot run the bundled kernel: it is linked dynamically and needs "
		    "glibc 2.34 or later on the host");
		return EX_HOST;
	}
	say(s->r->prog, "%s: %s", report->step > 0 && report->step <= START_EXEC ? steps[report->step] : "?",
	    strerror(report->err));
	return EX_HOST;
}

static int guest_status(struct session *s, const struct guard_report *report)
{
	char *path = xasprintf("%s/status", s->r->dir), *text = read_file_nofollow(path, GUEST_FILE_MAX, NULL);
	int code = -1, status = report->wait_status;
	free(path);
	if (text && *text)
		code = atoi(text);
	free(text);
	if (code >= 0)
		return code;
	if (report->reason == NOT_STARTED)
		return not_started(s, report);
	if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	/* the dynamic loader refused the host's C library (its own message) */
	if (memmem(s->log.buf, s->log.len, "version `GLIBC_", 15)) {
		say(s->r->prog, "this host cannot run the bundled kernel: it is linked dynamically and needs "
		    "glibc 2.34 or later on the host%s", s->r->opt.verbose ? "" : "; its loader said:");
		if (!s->r->opt.verbose)
			print_log_tail(s);
		return EX_HOST;
	}
	if (memmem(s->log.buf, s->log.len, "ran out of space", 16)) {
		say(s->r->prog, "%s ran out of space during the run: the guest's memory and copy-on-write "
		    "files live there; free some or set TMPDIR", s->r->tmpbase);
		return EX_HOST;
	}
	if (memmem(s->log.buf, s->log.len, "Out of memory", 13) ||
	    memmem(s->log.buf, s->log.len, "deadlocked on memory", 20)) {
		unsigned long long packed, unpacked, mem = s->r->opt.mem;
		if (!mem)
			parse_size(s->r->conf.mem, &mem);
		if (rundir_initrd_sizes(s->r, &packed, &unpacked) == 0 && unpacked)
			say(s->r->prog, "the guest ran out of its %llu MiB of memory with an initramfs root of "
			    "%llu MiB (unpacked): run with --mem %lluM or more", mem >> 20, unpacked >> 20,
			    rundir_initrd_mem_hint(packed, unpacked) >> 20);
		else
			say(s->r->prog, "the guest ran out of its %llu MiB of memory: run with a larger --mem",
			    mem >> 20);
		return EX_CRASH;
	}
	if (status >= 0 && WIFSIGNALED(status))
		say(s->r->prog, "the guest kernel crashed or panicked (killed by signal %d)%s",
		    WTERMSIG(status), s->r->opt.verbose ? "" : "; rerun with --verbose for its whole log");
	else
		say(s->r->prog, "the guest kernel crashed or panicked (UML exit status %d)%s",
		    status >= 0 ? WEXITSTATUS(status) : -1,
		    s->r->opt.verbose ? "" : "; rerun with --verbose for its whole log");
	if (!s->r->opt.verbose) {
		say(s->r->prog, "its last messages:");
		print_log_tail(s);
	}
	return EX_CRASH;
}

static int setup_signals(struct session *s, sigset_t *old)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGWINCH);
	signal(SIGPIPE, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, &set, old) < 0)
		return -1;
	s->sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return s->sfd;
}

int supervise(struct run *r)
{
	struct session *s = xcalloc(1, sizeof(*s));
	sigset_t old;
	struct guard_report report = { -1, ENDED, 0, 0 };
	int code;

	s->r = r;
	s->end_code = -1;
	ktap_init(&s->ktap);
	s->master = s->slave = -1;
	/* a KUnit run reads nothing: Ctrl-C on a terminal ends it (SIGINT) */
	s->in_tty = !r->kunit && isatty(0);
	s->out_tty = isatty(1);
	s->err_tty = isatty(2);
	if (r->kunit && !r->opt.kunit.raw)
		kunit_attach(&s->ktap, stdout);
	if (r->opt.timeout)
		s->deadline = now_ms() + r->opt.timeout * 1000LL;
	if (setup_signals(s, &old) < 0) {
		say(r->prog, "cannot set up signal handling: %s", strerror(errno));
		return EX_HOST;
	}
	code = write_guest_files(s);
	if (code)
		return code;
	rundir_default_disk_limit(r);
	if (s->in_tty) {
		if (term_save(0, &s->saved) < 0 || pty_open(&s->master, &s->slave) < 0) {
			say(r->prog, "cannot set up a terminal for the guest: %s", strerror(errno));
			return EX_HOST;
		}
		pty_copy_size(0, s->master);
		fcntl(s->master, F_SETFL, fcntl(s->master, F_GETFL) | O_NONBLOCK);
		term_raw(0, &s->saved);
	}
	for (int attempt = 1; attempt <= BOOT_ATTEMPTS; attempt++) {
		s->hung = 0;
		report = boot_once(s);
		if (!s->hung || s->end_code >= 0 || attempt == BOOT_ATTEMPTS)
			break;
		say(r->prog, "the guest kernel hung before starting init; retrying (attempt %d of %d)",
		    attempt + 1, BOOT_ATTEMPTS);
		if (rundir_reset_cows(r) < 0)
			break;
	}
	if (s->in_tty)
		term_restore(0, &s->saved);
	if (s->end_code >= 0)
		code = s->end_code;
	else if (report.reason == CPU_LIMIT) {
		say(r->prog, "the guest used %lds of CPU time (--cpu-limit)", r->opt.guard.cpu_limit);
		code = EX_LIMIT;
	} else if (report.reason == DISK_LIMIT) {
		say(r->prog, "the guest's run files passed %lluM (%s)", r->opt.guard.disk_limit >> 20,
		    r->opt.guard.disk_limit_set ? "--disk-limit" : "the default limit: its memory, its images and 256M; "
		    "--disk-limit SIZE sets another");
		code = EX_LIMIT;
	} else if (s->hung) {
		say(r->prog, "the guest kernel hung before starting init, %d times", BOOT_ATTEMPTS);
		code = EX_CRASH;
	} else
		code = guest_status(s, &report);
	if (r->kunit || r->opt.report.junit || r->opt.report.json)
		code = finish_results(s, code);
	sigprocmask(SIG_SETMASK, &old, NULL);
	free(s);
	return code;
}
