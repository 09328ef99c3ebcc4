/* --cpu auto, the default: the guest on one host CPU, moved when that CPU
 * gets busy with other work. Pinned, a guest system call is a switch
 * between two host processes on one CPU instead of a wakeup across CPUs
 * (process creation 2-2.5x faster, guard.c); but a pinned guest cannot
 * leave a CPU another program keeps busy, where the scheduler would have
 * moved it (pytest ran 127 s pinned against 84 s unpinned on a loaded
 * host). So every second the guard looks at how long UML's processes
 * waited to run (/proc/PID/task/TID/schedstat's run delay) and how idle
 * each CPU was (/proc/stat): a guest that waited for more than a quarter
 * of the second moves, all its processes and threads, to the idlest CPU,
 * when that one was idle for more than half of it. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "run.h"

#define WAITED_TOO_LONG 4	/* a quarter of the interval */
#define IDLE_ENOUGH 2		/* half of it */

static unsigned long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

/* Idle time (idle + iowait, in clock ticks) of every CPU, from /proc/stat. */
static int read_idle(unsigned long long *idle, int max)
{
	char line[512];
	FILE *f = fopen("/proc/stat", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long user, nice, sys, idl, iowait;
		int cpu;
		if (sscanf(line, "cpu%d %llu %llu %llu %llu %llu", &cpu, &user, &nice, &sys, &idl,
			   &iowait) == 6 && cpu >= 0 && cpu < max)
			idle[cpu] = idl + iowait;
	}
	fclose(f);
	return 0;
}

/* The session's processes: "PID ", space-separated, into buf. */
struct session_list {
	pid_t session;
	char buf[4096];
	size_t len;
};

static void add_pid(pid_t pid, const char *fields, void *ctx)
{
	struct session_list *s = ctx;
	int session, n;
	if (sscanf(fields, " %*c %*d %*d %d", &session) != 1 || session != s->session)
		return;
	n = snprintf(s->buf + s->len, sizeof(s->buf) - s->len, "%d ", (int)pid);
	if (n > 0 && (size_t)n < sizeof(s->buf) - s->len)
		s->len += (size_t)n;
}

/* Nanoseconds the tasks of PID waited on a run queue, summed. */
static unsigned long long run_delay(pid_t pid)
{
	char path[64], task[300], text[128];
	unsigned long long sum = 0, ran, waited;
	DIR *d;
	struct dirent *e;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if (!(d = opendir(path)))
		return 0;
	while ((e = readdir(d))) {
		int fd;
		ssize_t n;
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(task, sizeof(task), "/proc/%d/task/%s/schedstat", (int)pid, e->d_name);
		if ((fd = open(task, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		n = read(fd, text, sizeof(text) - 1);
		close(fd);
		if (n > 0 && (text[n] = '\0', sscanf(text, "%llu %llu", &ran, &waited) == 2))
			sum += waited;
	}
	closedir(d);
	return sum;
}

/* Every task of every listed process onto CPU. */
static void move_all(const char *pids, int cpu)
{
	cpu_set_t one;
	char path[64];
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	for (const char *p = pids; *p;) {
		pid_t pid = (pid_t)strtol(p, (char **)&p, 10);
		DIR *d;
		struct dirent *e;
		while (*p == ' ')
			p++;
		snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
		if (!(d = opendir(path)))
			continue;
		while ((e = readdir(d)))
			if (e->d_name[0] >= '1' && e->d_name[0] <= '9')
				sched_setaffinity(atoi(e->d_name), sizeof(one), &one);
		closedir(d);
	}
}

/* Follow the guest UML (its session) if it was pinned to one CPU of
 * several; else f->cpu is -1 and cpu_follow_tick does nothing. */
void cpu_follow_init(struct cpu_follow *f, pid_t uml, int cpu_option)
{
	cpu_set_t allowed, pinned;
	memset(f, 0, sizeof(*f));
	f->uml = uml;
	f->cpu = -1;
	if (cpu_option != CPU_AUTO || sched_getaffinity(0, sizeof(allowed), &allowed) < 0 ||
	    CPU_COUNT(&allowed) < 2 || sched_getaffinity(uml, sizeof(pinned), &pinned) < 0 ||
	    CPU_COUNT(&pinned) != 1)
		return;
	for (int c = 0; c < FOLLOW_MAX_CPUS; c++) {
		f->allowed[c] = CPU_ISSET(c, &allowed) != 0;
		if (CPU_ISSET(c, &pinned))
			f->cpu = c;
	}
}

/* The idlest allowed CPU but the guest's over the last interval (of
 * SPAN ns), if it was idle for more than half of it; else -1. */
static int idlest_other(const struct cpu_follow *f, const unsigned long long *idle,
			unsigned long long span)
{
	unsigned long long ns_per_tick = 1000000000ull / (unsigned long long)sysconf(_SC_CLK_TCK);
	unsigned long long best_idle = 0;
	int best = -1;
	for (int c = 0; c < FOLLOW_MAX_CPUS; c++) {
		unsigned long long d = (idle[c] - f->idle[c]) * ns_per_tick;
		if (f->allowed[c] && c != f->cpu && idle[c] >= f->idle[c] && d > best_idle) {
			best = c;
			best_idle = d;
		}
	}
	return best >= 0 && best_idle * IDLE_ENOUGH > span ? best : -1;
}

/* Once a second or so: move the guest if it waited too long on a CPU
 * while another was idle. Its run delay is looked at only while its CPU
 * was busy: an idle lab machine costs one read of /proc/stat a second. */
void cpu_follow_tick(struct cpu_follow *f)
{
	struct session_list s = { .session = f->uml };
	unsigned long long idle[FOLLOW_MAX_CPUS] = { 0 }, t = now_ns(), waited = 0, span = t - f->at;
	unsigned long long ns_per_tick = 1000000000ull / (unsigned long long)sysconf(_SC_CLK_TCK);
	int busy, best;
	if (f->cpu < 0 || read_idle(idle, FOLLOW_MAX_CPUS) < 0)
		return;
	busy = f->at && t > f->at && idle[f->cpu] >= f->idle[f->cpu] &&
	       (idle[f->cpu] - f->idle[f->cpu]) * ns_per_tick * WAITED_TOO_LONG < span;
	if (busy) {
		walk_processes(add_pid, &s);
		for (const char *p = s.buf; *p;) {
			waited += run_delay((pid_t)strtol(p, (char **)&p, 10));
			while (*p == ' ')
				p++;
		}
		if (f->waited_known && waited > f->waited && (waited - f->waited) * WAITED_TOO_LONG > span &&
		    (best = idlest_other(f, idle, span)) >= 0) {
			move_all(s.buf, best);
			f->cpu = best;
		}
	}
	f->at = t;
	f->waited = waited;
	f->waited_known = busy;
	memcpy(f->idle, idle, sizeof(idle));
}
