/* A lab bundle's commands (docs/lab.md):
 *   boot.sh [--instance NAME] start|status|stop|test
 *   boot.sh [--instance NAME] connect MACHINE
 *   boot.sh [--instance NAME] exec MACHINE -- CMD [ARG...]
 * An instance lives in $XDG_RUNTIME_DIR/umlkit-labs/LAB.INSTANCE (else
 * /tmp/umlkit-labs-UID/...): the lab directory unpacked from the bundle,
 * and per machine its supervisor's socket, lock, state and log. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "../agent-proto.h"
#include "lab.h"
#include "run.h"

#define START_SECONDS 300	/* a machine not up by then failed */
#define STOP_SECONDS 20
#define SHUTDOWN_SECONDS 30	/* a machine's shutdown scripts, at most */
#define DETACH_KEY 0x1d		/* Ctrl-] */

struct lab *lab_load(struct run *r, const char *instance)
{
	struct lab *lab = xcalloc(1, sizeof(*lab));
	struct lab_diag *d = xcalloc(1, sizeof(*d));
	char *conf_path = xasprintf("%s/lab/lab.conf", instance), *dep_path = xasprintf("%s/lab/lab.dep", instance);
	char *conf = read_file_nofollow(conf_path, CONF_MAX, NULL), *dep = read_file_nofollow(dep_path, CONF_MAX, NULL);
	if (!conf) {
		say(r->prog, "cannot read %s: %s", conf_path, strerror(errno));
		return NULL;
	}
	if (lab_parse_conf(conf, "lab.conf", lab, d) < 0 || (dep && lab_parse_dep(dep, "lab.dep", lab, d) < 0) ||
	    (!dep && lab_order(lab) < 0)) {
		say(r->prog, "%s", d->error);
		return NULL;
	}
	free(d);
	lab_default_image(lab, r->conf.lab_default_image);
	return lab;
}

const struct lab_machine *lab_find(const struct lab *lab, const char *name)
{
	for (int i = 0; i < lab->n_machines; i++)
		if (!strcmp(lab->machines[i].name, name))
			return &lab->machines[i];
	return NULL;
}

/* Switch names of one instance: "lab-HASH", short enough for any domain */
const char *lab_switch_prefix(const char *instance)
{
	static char prefix[16];
	unsigned long h = 5381;
	for (const char *p = instance; *p; p++)
		h = h * 33 + (unsigned char)*p;
	snprintf(prefix, sizeof(prefix), "lab-%08lx", h & 0xffffffffUL);
	return prefix;
}

static char *instance_dir(struct run *r, const char *instance)
{
	char base[4096];
	if (private_dir(r->prog, "umlkit-labs", base, sizeof(base)) < 0)
		exit(EX_HOST);
	return xasprintf("%s/%s.%s", base, r->conf.lab, instance);
}

/* Is machine NAME's supervisor alive (its lock held)? */
static int machine_alive(const char *inst, const char *name)
{
	char *path = xasprintf("%s/%s.lock", inst, name);
	int fd = open(path, O_RDWR | O_CLOEXEC), alive = 0;
	free(path);
	if (fd < 0)
		return 0;
	alive = flock(fd, LOCK_EX | LOCK_NB) < 0;
	close(fd);
	return alive;
}

static char *machine_state(const char *inst, const char *name)
{
	char *path = xasprintf("%s/%s.state", inst, name), *state = read_file_nofollow(path, GUEST_FILE_MAX, NULL);
	free(path);
	if (state)
		state[strcspn(state, "\n")] = '\0';
	return state ? state : xstrdup("");
}

static int any_alive(const char *inst)
{
	DIR *d = opendir(inst);
	struct dirent *e;
	int alive = 0;
	while (d && (e = readdir(d)) && !alive) {
		size_t len = strlen(e->d_name);
		if (len > 5 && !strcmp(e->d_name + len - 5, ".lock")) {
			char *name = xstrdup(e->d_name);
			name[len - 5] = '\0';
			alive = machine_alive(inst, name);
			free(name);
		}
	}
	if (d)
		closedir(d);
	return alive;
}

static int run_tar(const char *archive, const char *dir)
{
	int status;
	pid_t pid = fork();
	if (pid == 0) {
		child_defaults();
		execlp("tar", "tar", "-xf", archive, "-C", dir, (char *)NULL);
		_exit(127);
	}
	while (pid > 0 && waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* umlkit-run BUNDLE ENTRY MODE INSTANCE [NAME], detached in a session of
 * its own, its output appended to INSTANCE/LOG.log */
static int spawn_detached(struct run *r, const char *inst, const char *log_name, const char *mode, const char *name)
{
	int status;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char *log = xasprintf("%s/%s.log", inst, log_name), *prog = xasprintf("%s/umlkit-run", r->entry);
		int null = open("/dev/null", O_RDONLY), out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		child_defaults();
		if (setsid() < 0 || null < 0 || out < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
			_exit(127);
		close_range(3, ~0U, 0);
		if (fork() == 0) {
			execl(prog, "umlkit-run", r->bundle, r->entry, mode, inst, name, (char *)NULL);
			_exit(127);
		}
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* umlkit-run ... --lab-machine INSTANCE NAME: the machine's supervisor */
static int spawn_machine(struct run *r, const char *inst, const char *name)
{
	return spawn_detached(r, inst, name, "--lab-machine", name);
}

static void say_interfaces(const struct lab_machine *m, FILE *f)
{
	for (int i = 0; i < m->n_ifs; i++)
		fprintf(f, "%seth%d %s", i ? ", " : "", i, m->domains[i]);
	if (m->bridged)
		fprintf(f, "%seth%d NAT to the host", m->n_ifs ? ", " : "", m->n_ifs);
}

/* Does machine I run on this part? (every machine, when the lab is whole) */
static int is_here(const struct lab *lab, int i, const struct lab_parts *parts)
{
	return !parts->n || lab_part_of(lab, i, parts->n) == parts->part;
}

/* Starts the machines of LAB, round by round (lab.dep), waiting for each
 * round's startup scripts. 0, or 1 when a machine failed. */
static int start_machines(struct run *r, const char *inst, const struct lab *lab, const struct lab_parts *parts,
			  int quiet)
{
	int failed = 0;
	for (int k = 0; k < lab->n_machines;) {
		int level = lab->order_level[k], first = k;
		long long deadline = (long long)time(NULL) + START_SECONDS;
		for (; k < lab->n_machines && lab->order_level[k] == level; k++)
			if (is_here(lab, lab->order[k], parts) && spawn_machine(r, inst, lab->machines[lab->order[k]].name) < 0)
				die(EX_HOST, r->prog, "cannot start %s: %s", lab->machines[lab->order[k]].name, strerror(errno));
		for (int i = first; i < k; i++) {
			const struct lab_machine *m = &lab->machines[lab->order[i]];
			char *state = NULL;
			if (!is_here(lab, lab->order[i], parts))
				continue;
			for (;;) {
				free(state);
				state = machine_state(inst, m->name);
				if (!strncmp(state, "up ", 3) || !strcmp(state, "stopped") ||
				    !strncmp(state, "agent-lost", 10) || time(NULL) > deadline)
					break;
				if (*state && !machine_alive(inst, m->name) && strcmp(state, "booting"))
					break;
				usleep(20000);
			}
			if (!strcmp(state, "up 0")) {
				if (!quiet) {
					printf("%s: up (", m->name);
					say_interfaces(m, stdout);
					printf(")\n");
				}
			} else if (!strncmp(state, "agent-lost ", 11)) {
				say(r->prog, "%s: %s (see %s/%s.log)", m->name, state + 11, inst, m->name);
				failed = 1;
			} else if (!strncmp(state, "up ", 3)) {
				say(r->prog, "%s: its startup scripts exited %s (see boot.sh connect %s)", m->name, state + 3,
				    m->name);
				failed = 1;
			} else {
				char *log = xasprintf("%s/%s.log", inst, m->name), *text = read_file_nofollow(log, LOG_SHOW_MAX, NULL);
				say(r->prog, "%s did not come up%s%s", m->name, text && *text ? ":\n" : "",
				    text ? text : "");
				failed = 1;
			}
			free(state);
		}
		fflush(stdout);
	}
	return failed;
}

/* FROM's files into TO, each one TO does not have yet (directories
 * merged; links and devices skipped): the lab's shared/ seeds --shared */
static int seed_tree(const char *from, const char *to)
{
	DIR *d = opendir(from);
	struct dirent *e;
	int rc = 0;
	while (d && (e = readdir(d))) {
		char *src, *dst;
		struct stat st;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		src = xasprintf("%s/%s", from, e->d_name);
		dst = xasprintf("%s/%s", to, e->d_name);
		if (lstat(src, &st) < 0)
			rc = -1;
		else if (S_ISDIR(st.st_mode))
			rc |= (mkdir(dst, 0755) < 0 && errno != EEXIST) || seed_tree(src, dst) < 0 ? -1 : 0;
		else if (S_ISREG(st.st_mode) && access(dst, F_OK) < 0)
			rc |= copy_sparse(src, dst);
		free(src);
		free(dst);
	}
	if (d)
		closedir(d);
	return rc;
}

/* --shared DIR, made if missing: its absolute path, or NULL after saying
 * why (before anything of the lab is unpacked) */
static char *shared_dir_path(struct run *r, const char *dir)
{
	char *real;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		say(r->prog, "--shared '%s': cannot create it: %s", dir, strerror(errno));
		return NULL;
	}
	real = realpath(dir, NULL);
	if (!real || access(real, W_OK | X_OK) < 0 || strchr(real, '\n')) {
		say(r->prog, "--shared '%s': not a writable directory", dir);
		free(real);
		return NULL;
	}
	return real;
}

/* DIR seeded with the lab's shared/, recorded for the machines
 * (INSTANCE/shared-dir); it outlives the lab. 0, or -1 after saying why. */
static int use_shared_dir(struct run *r, const char *inst, const char *dir)
{
	char *lab_shared = xasprintf("%s/lab/shared", inst), *record = xasprintf("%s/shared-dir", inst);
	int rc = seed_tree(lab_shared, dir) < 0 || write_file(record, dir, strlen(dir)) < 0 ? -1 : 0;
	if (rc)
		say(r->prog, "--shared '%s': cannot fill it: %s", dir, strerror(errno));
	free(lab_shared);
	free(record);
	return rc;
}

/* umlkit-run ... --lab-trunk INSTANCE, detached; 0 once it says up */
static int start_trunk(struct run *r, const char *inst)
{
	char *state = xasprintf("%s/+trunk.state", inst), *text = NULL;
	int spawned = spawn_detached(r, inst, "+trunk", "--lab-trunk", NULL) == 0;
	for (int t = 0; spawned && t < 500; t++) {
		free(text);
		text = read_file_nofollow(state, 64, NULL);
		if (text && (!strcmp(text, "up\n") || !strcmp(text, "failed\n")))
			break;
		usleep(20000);
	}
	if (text && !strcmp(text, "up\n"))
		return 0;
	free(text);
	text = read_file_nofollow(xasprintf("%s/+trunk.log", inst), LOG_SHOW_MAX, NULL);
	say(r->prog, "the trunk to the other parts did not start%s%s", text && *text ? ": " : "", text ? text : "");
	return -1;
}

/* --part K/N: the part files, checked against the lab, and the trunk */
static int start_part(struct run *r, const char *inst, const struct lab *lab, const struct lab_parts *parts)
{
	const char *secret = getenv("UMLKIT_LAB_SECRET");
	char *path = xasprintf("%s/+secret", inst);
	for (int i = 0; i < lab->n_machines; i++)
		if (lab_part_of(lab, i, parts->n) < 0) {
			say(r->prog, "lab.conf: %s[part]=%d, but --part says the lab has %d parts", lab->machines[i].name,
			    lab->machines[i].part, parts->n);
			return EX_USAGE;
		}
	if (!secret || strlen(secret) < 16 || strchr(secret, '\n')) {
		say(r->prog, "--part: set UMLKIT_LAB_SECRET, the same on every part, 16 characters or more "
		    "(such as: export UMLKIT_LAB_SECRET=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \\n'))");
		return EX_USAGE;
	}
	if (write_file(path, secret, strlen(secret)) < 0 || lab_parts_save(inst, parts) < 0)
		die(EX_HOST, r->prog, "cannot write the part files in %s: %s", inst, strerror(errno));
	free(path);
	return start_trunk(r, inst) < 0 ? EX_HOST : 0;
}

static int lab_start(struct run *r, const char *inst, const char *shared, const struct lab_parts *parts, int quiet)
{
	char *archive = xasprintf("%s/lab.tar", r->entry), *shared_path = NULL;
	struct lab *lab;
	int code;
	if (access(inst, F_OK) == 0) {
		if (any_alive(inst)) {
			say(r->prog, "this lab is already running (boot.sh status); stop it, or start another with "
			    "--instance NAME");
			return EX_USAGE;
		}
		remove_tree(inst);
	}
	if (shared && !(shared_path = shared_dir_path(r, shared)))
		return EX_USAGE;
	if (mkdir(inst, 0700) < 0 || run_tar(archive, inst) < 0)
		die(EX_HOST, r->prog, "cannot unpack the lab into %s", inst);
	if (shared_path && use_shared_dir(r, inst, shared_path) < 0) {
		remove_tree(inst);
		return EX_HOST;
	}
	free(shared_path);
	lab = lab_load(r, inst);
	if (!lab)
		return EX_CORRUPT;
	if (parts->n && (code = start_part(r, inst, lab, parts))) {
		lab_stop_here(r, inst);
		return code;
	}
	return start_machines(r, inst, lab, parts, quiet);
}

/* The part machine NAME runs on, when it is not this one; else 0 */
static int other_part(struct run *r, const char *inst, const char *name)
{
	struct lab_parts parts;
	struct lab *lab;
	int part = 0;
	if (lab_parts_load(inst, &parts) < 0 || !parts.n || !(lab = lab_load(r, inst)))
		return 0;
	for (int i = 0; i < lab->n_machines; i++)
		if (!strcmp(lab->machines[i].name, name))
			part = lab_part_of(lab, i, parts.n);
	free(lab);
	return part == parts.part ? 0 : part;
}

static int connect_machine(struct run *r, const char *inst, const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *path = xasprintf("%s/%s.sock", inst, name), *req = xasprintf("sock %s", name);
	int part = other_part(r, inst, name), fd;
	if (part > 0) {
		fd = lab_part_request(r, inst, part, req, strlen(req));
		if (fd < 0)
			exit(EX_HOST);
		return fd;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		say(r->prog, "%s is not running (boot.sh status; boot.sh start)", name);
		exit(EX_USAGE);
	}
	free(path);
	return fd;
}

static int send_frame(int fd, int type, const void *data, size_t len)
{
	unsigned char h[AGENT_HEADER];
	agent_header(h, type, 0, len);
	return agent_write_all(fd, h, sizeof(h)) < 0 || (len && agent_write_all(fd, data, len) < 0) ? -1 : 0;
}

/* Runs ARGV on machine NAME with IN, OUT and ERR; its exit status. */
int lab_exec(struct run *r, const char *inst, const char *name, char **argv, int in, int out, int err)
{
	int fd = connect_machine(r, inst, name), in_open = 1;
	unsigned char args[AGENT_MAX_PAYLOAD], buf[AGENT_HEADER + AGENT_MAX_PAYLOAD];
	size_t len = 0, have = 0;
	for (char **a = argv; *a; a++) {
		size_t n = strlen(*a) + 1;
		if (len + n > AGENT_MAX_ARGV)
			die(EX_USAGE, r->prog, "exec: the command line is longer than %d bytes", AGENT_MAX_ARGV);
		memcpy(args + len, *a, n);
		len += n;
	}
	if (send_frame(fd, AGENT_EXEC, args, len) < 0)
		die(EX_HOST, r->prog, "exec: %s went away", name);
	for (;;) {
		struct pollfd p[2] = { { fd, POLLIN, 0 }, { in, POLLIN, 0 } };
		if (poll(p, in_open ? 2 : 1, -1) < 0 && errno != EINTR)
			return EX_HOST;
		if (in_open && p[1].revents) {
			ssize_t n = read(in, args, AGENT_MAX_IN);
			if (n > 0 && send_frame(fd, AGENT_STDIN, args, (size_t)n) < 0)
				return EX_CRASH;
			if (n <= 0) {
				send_frame(fd, AGENT_STDIN_EOF, NULL, 0);
				in_open = 0;
			}
		}
		if (!p[0].revents)
			continue;
		ssize_t n = read(fd, buf + have, sizeof(buf) - have);
		if (n <= 0) {
			say(r->prog, "exec: %s stopped before the command ended", name);
			return EX_CRASH;
		}
		have += (size_t)n;
		while (have >= AGENT_HEADER && have >= AGENT_HEADER + agent_length(buf)) {
			size_t flen = agent_length(buf);
			if (buf[0] == AGENT_EXIT && flen == 1)
				return buf[AGENT_HEADER];
			if (buf[0] == AGENT_FAIL) {
				say(r->prog, "exec: %s: %.*s", name, (int)flen, (char *)buf + AGENT_HEADER);
				return EX_CRASH;
			}
			if (buf[0] == AGENT_STDOUT || buf[0] == AGENT_STDERR)
				agent_write_all(buf[0] == AGENT_STDOUT ? out : err, buf + AGENT_HEADER, flen);
			have -= AGENT_HEADER + flen;
			memmove(buf, buf + AGENT_HEADER + flen, have);
		}
	}
}

static int lab_connect(struct run *r, const char *inst, const char *name)
{
	int fd = connect_machine(r, inst, name), tty = isatty(0);
	struct termios saved;
	unsigned char buf[4096];
	if (send_frame(fd, 'C', NULL, 0) < 0)
		return EX_HOST;
	if (tty) {
		fprintf(stderr, "%s: the console of %s; Ctrl-] detaches\r\n", r->prog, name);
		term_save(0, &saved);
		term_raw(0, &saved);
	}
	for (;;) {
		struct pollfd p[2] = { { fd, POLLIN, 0 }, { 0, POLLIN, 0 } };
		ssize_t n;
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents) {
			n = read(fd, buf, sizeof(buf));
			if (n <= 0 || agent_write_all(1, buf, (size_t)n) < 0)
				break;
		}
		if (p[1].revents) {
			n = read(0, buf, sizeof(buf));
			if (n <= 0 || (tty && memchr(buf, DETACH_KEY, (size_t)n)) || agent_write_all(fd, buf, (size_t)n) < 0)
				break;
		}
	}
	if (tty) {
		term_restore(0, &saved);
		fprintf(stderr, "\n%s: detached from %s (it keeps running)\n", r->prog, name);
	}
	return 0;
}

/* Does the lab have a shutdown script for machine NAME (its own, or
 * shared.shutdown)? */
static int has_shutdown(const char *inst, const char *name)
{
	char *own = xasprintf("%s/lab/%s.shutdown", inst, name), *shared = xasprintf("%s/lab/shared.shutdown", inst);
	int has = access(own, R_OK) == 0 || access(shared, R_OK) == 0;
	free(own);
	free(shared);
	return has;
}

/* Kathara's shared.shutdown, then NAME.shutdown, on each machine still up,
 * all machines at once, each bounded by SHUTDOWN_SECONDS; their output
 * goes nowhere, as in Kathara. The script names travel as arguments. */
static void run_shutdown_scripts(struct run *r, const char *inst, const struct lab *lab)
{
	static const char loop[] = "cd / && for s; do [ ! -r \"$s\" ] || sh \"$s\"; done";
	pid_t pids[LAB_MAX_MACHINES];
	int n = 0;
	for (int i = 0; i < lab->n_machines; i++) {
		const char *name = lab->machines[i].name;
		char *state = machine_state(inst, name);
		int up = !strncmp(state, "up ", 3);
		free(state);
		if (!up || !has_shutdown(inst, name) || (pids[n] = fork()) < 0)
			continue;
		if (pids[n++] > 0)
			continue;
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		char *own = xasprintf("/hostlab/%s.shutdown", name);
		char *argv[] = { "sh", "-c", (char *)loop, "sh", "/hostlab/shared.shutdown", own, NULL };
		alarm(SHUTDOWN_SECONDS);
		_exit(null < 0 ? EX_HOST : lab_exec(r, inst, name, argv, null, null, null));
	}
	for (int i = 0; i < n; i++)
		while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR)
			;
}

/* Powers this part's machines off (the whole lab's, when it is whole),
 * ends its trunk, removes its files. */
int lab_stop_here(struct run *r, const char *inst)
{
	struct lab *lab = lab_load(r, inst);
	char *trunk = read_file_nofollow(xasprintf("%s/+trunk.pid", inst), GUEST_FILE_MAX, NULL);
	if (lab)
		run_shutdown_scripts(r, inst, lab);
	for (int i = 0; lab && i < lab->n_machines; i++) {
		const char *name = lab->machines[i].name;
		char *sock = xasprintf("%s/%s.sock", inst, name);
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			send_frame(fd, 'S', NULL, 0);
		if (fd >= 0)
			close(fd);
		free(sock);
	}
	if (trunk && machine_alive(inst, "+trunk"))
		kill(atoi(trunk), SIGTERM);
	/* each supervisor cleans up and ends; one that does not is killed */
	for (int t = 0; t < STOP_SECONDS * 50 && any_alive(inst); t++)
		usleep(20000);
	for (int i = 0; lab && i < lab->n_machines && any_alive(inst); i++) {
		char *path = xasprintf("%s/%s.pid", inst, lab->machines[i].name), *pid = read_file_nofollow(path, GUEST_FILE_MAX, NULL);
		if (pid && machine_alive(inst, lab->machines[i].name))
			kill(atoi(pid), SIGKILL);
		free(path);
		free(pid);
	}
	if (trunk && machine_alive(inst, "+trunk"))
		kill(atoi(trunk), SIGKILL);
	for (int t = 0; t < 250 && any_alive(inst); t++)
		usleep(20000);
	if (remove_tree(inst) < 0)
		say(r->prog, "cannot remove %s: %s", inst, strerror(errno));
	return 0;
}

/* Asks every other part to stop, all at once, each bounded */
static void stop_other_parts(struct run *r, const char *inst, const struct lab_parts *parts)
{
	pid_t pids[LAB_MAX_PARTS];
	for (int k = 1; k <= parts->n; k++) {
		pids[k - 1] = k == parts->part ? -1 : fork();
		if (pids[k - 1] == 0) {
			char reply[16] = "";
			int fd;
			alarm(STOP_SECONDS + SHUTDOWN_SECONDS + 20);
			fd = lab_part_request(r, inst, k, "stop", 4);
			if (fd < 0 || read(fd, reply, sizeof(reply) - 1) <= 0 || strncmp(reply, "stopped", 7)) {
				say(r->prog, "part %d did not confirm its stop: run boot.sh stop there", k);
				_exit(1);
			}
			_exit(0);
		}
	}
	for (int k = 0; k < parts->n; k++)
		while (pids[k] > 0 && waitpid(pids[k], NULL, 0) < 0 && errno == EINTR)
			;
}

static int lab_stop(struct run *r, const char *inst)
{
	struct lab_parts parts;
	if (access(inst, F_OK) < 0) {
		say(r->prog, "this lab is not running");
		return 0;
	}
	if (lab_parts_load(inst, &parts) == 0 && parts.n)
		stop_other_parts(r, inst, &parts);
	return lab_stop_here(r, inst);
}

/* What status shows of a machine of this part */
const char *lab_machine_shown(const char *inst, const char *name)
{
	char *state = machine_state(inst, name);
	const char *shown = !machine_alive(inst, name) ? "stopped" : !strcmp(state, "up 0") ? "running"
			    : !strncmp(state, "up ", 3) ? "startup-failed"
			    : !strncmp(state, "agent-lost", 10) ? "agent-lost" : "booting";
	free(state);
	return shown;
}

/* "NAME STATE" lines of part K, or NULL when it cannot be asked */
static char *part_states(struct run *r, const char *inst, int k)
{
	int fd = lab_part_request(r, inst, k, "status", 6);
	char *text = xcalloc(1, 65536);
	size_t len = 0;
	ssize_t n;
	if (fd < 0)
		return NULL;
	while (len < 65535 && (n = read(fd, text + len, 65535 - len)) > 0)
		len += (size_t)n;
	close(fd);
	return text;
}

/* STATES' word for NAME ("unreachable" when the part did not answer) */
static const char *state_in(const char *states, const char *name)
{
	static char word[32];
	size_t len = strlen(name);
	for (const char *l = states; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : "")
		if (!strncmp(l, name, len) && l[len] == ' ' && sscanf(l + len + 1, "%31s", word) == 1)
			return word;
	return states ? "stopped" : "unreachable";
}

static int lab_status(struct run *r, const char *inst)
{
	struct lab *lab;
	struct lab_parts parts;
	char *states[LAB_MAX_PARTS] = { NULL };
	if (access(inst, F_OK) < 0) {
		printf("%s: not running\n", r->conf.lab);
		return 0;
	}
	lab = lab_load(r, inst);
	if (!lab || lab_parts_load(inst, &parts) < 0)
		return EX_CORRUPT;
	for (int k = 1; k <= parts.n; k++)
		if (k != parts.part)
			states[k - 1] = part_states(r, inst, k);
	printf("%-16s %-10s %s%s\n", "MACHINE", "STATE", parts.n ? "PART " : "", "INTERFACES");
	for (int i = 0; i < lab->n_machines; i++) {
		const struct lab_machine *m = &lab->machines[i];
		int part = parts.n ? lab_part_of(lab, i, parts.n) : 0;
		printf("%-16s %-10s ", m->name, part && part != parts.part ? state_in(states[part - 1], m->name)
									    : lab_machine_shown(inst, m->name));
		if (part)
			printf("%-4d ", part);
		say_interfaces(m, stdout);
		printf("\n");
	}
	return 0;
}

/* TAP: each NAME.test of the lab, run on NAME (sh /hostlab/NAME.test) */
static int lab_test(struct run *r, const char *inst, const char *shared, const struct lab_parts *parts,
		    const char *signature)
{
	struct lab *lab;
	int started = 0, n = 0, failed = 0, k = 0;
	if (access(inst, F_OK) < 0 || !any_alive(inst)) {
		int code = lab_start(r, inst, shared, parts, 1);
		if (code)
			return code;
		started = 1;
	}
	lab = lab_load(r, inst);
	if (!lab)
		return EX_CORRUPT;
	for (int i = 0; i < lab->n_machines; i++) {
		char *t = xasprintf("%s/lab/%s.test", inst, lab->machines[i].name);
		n += access(t, R_OK) == 0;
		free(t);
	}
	printf("1..%d\n", n + (signature ? lab->n_machines : 0));
	for (int i = 0; i < lab->n_machines; i++) {
		const char *name = lab->machines[i].name;
		char *t = xasprintf("%s/lab/%s.test", inst, name), *script = xasprintf("/hostlab/%s.test", name);
		char *argv[] = { "sh", script, NULL }, line[4096];
		FILE *out;
		int code, null;
		if (access(t, R_OK) < 0)
			continue;
		out = tmpfile();
		null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		fflush(stdout);
		code = lab_exec(r, inst, name, argv, null, fileno(out), fileno(out));
		close(null);
		k++;
		if (code)
			failed++;
		printf("%sok %d - %s.test%s", code ? "not " : "", k, name, code ? "" : "\n");
		if (code)
			printf(" (exit %d)\n", code);
		rewind(out);
		while (fgets(line, sizeof(line), out))
			printf("# %s%s", line, line[strlen(line) - 1] == '\n' ? "" : "\n");
		fclose(out);
		free(t);
		free(script);
	}
	if (signature)
		lab_signatures(r, inst, lab, signature, &k, &failed);
	fflush(stdout);
	if (started)
		lab_stop(r, inst);
	return failed ? 1 : 0;
}

/* umlkit-run --lab-check DIR DEFAULT [IMAGE...], at build time:
 * DIR/lab.conf and lab.dep parsed as boot.sh start will, notes and errors
 * with file and line, and the lab's name (LAB_NAME made a plain word, else
 * DIR's) on stdout. DEFAULT is the image of machines naming none ("": the
 * configured root); IMAGEs are those a recipe builds. */
int lab_check(const char *dir, const char *default_image, char **images)
{
	char *ext;
	struct lab *lab = xcalloc(1, sizeof(*lab));
	struct lab_diag *d = xcalloc(1, sizeof(*d));
	char *conf_path = xasprintf("%s/lab.conf", dir), *dep_path = xasprintf("%s/lab.dep", dir);
	char *conf = read_file_nofollow(conf_path, CONF_MAX, NULL), *dep = read_file_nofollow(dep_path, CONF_MAX, NULL), name[33] = "";
	const char *base = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
	size_t k = 0;
	if (!conf) {
		dprintf(2, "lab: cannot read %s: %s\n", conf_path, strerror(errno));
		return 2;
	}
	if (lab_parse_conf(conf, conf_path, lab, d) < 0 || (dep && lab_parse_dep(dep, dep_path, lab, d) < 0)) {
		dprintf(2, "%s\n", d->error);
		return 2;
	}
	if (*d->notes)
		dprintf(2, "%s", d->notes);
	if (*default_image && !lab_valid_image_name(default_image)) {
		dprintf(2, "lab: LAB_DEFAULT_IMAGE='%s' is not an image name (such as kathara/base): fix it with "
			"make menuconfig\n", default_image);
		return 2;
	}
	lab_default_image(lab, default_image);
	ext = xasprintf("%s/lab.ext", dir);
	if (access(ext, F_OK) == 0)
		dprintf(2, "%s: ignored: umlkit's collision domains cannot reach a host interface (Kathara's lab.ext "
			"bridges them to one with root); NAME[bridged]=true gives a machine NAT to the host\n", ext);
	free(ext);
	for (int i = 0; i < lab->n_machines; i++) {
		int known = 0;
		for (char **im = images; *im && !known; im++)
			known = !strcmp(*im, lab->machines[i].image);
		if (*lab->machines[i].image && !known)
			dprintf(2, "%s: %s[image]=%s: no recipe %s.recipe: %s runs %s%s\n", conf_path,
				lab->machines[i].name, lab->machines[i].image, lab->machines[i].image,
				lab->machines[i].name, *default_image ? "the default image " : "the configured root image",
				default_image);
	}
	for (const char *p = *lab->name ? lab->name : base; *p && k < sizeof(name) - 1; p++)
		name[k++] = strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-", *p) ? *p : '_';
	name[k] = '\0';
	printf("%s\n", *name ? name : "lab");
	return 0;
}

/* umlkit-run --lab-images DIR, at build time: the images DIR/lab.conf's
 * machines name, as a make line (LAB_IMAGE_NAMES := ...), read by the
 * build through this parser rather than one of its own. Only names a
 * recipe file can have (letters, digits, '_', '-', '.', joined by '/')
 * are listed. */
int lab_images(const char *dir, const char *default_image)
{
	struct lab *lab = xcalloc(1, sizeof(*lab));
	struct lab_diag *d = xcalloc(1, sizeof(*d));
	char *conf_path = xasprintf("%s/lab.conf", dir), *conf = read_file_nofollow(conf_path, CONF_MAX, NULL);
	if (!conf || lab_parse_conf(conf, conf_path, lab, d) < 0)
		return 2;	/* --lab-check says why */
	lab_default_image(lab, default_image);
	printf("LAB_IMAGE_NAMES :=");
	for (int i = 0; i < lab->n_machines; i++) {
		const char *im = lab->machines[i].image;
		int seen = 0;
		for (int k = 0; k < i && !seen; k++)
			seen = !strcmp(lab->machines[k].image, im);
		if (*im && !seen && lab_valid_image_name(im))
			printf(" %s", im);
	}
	printf("\n");
	return 0;
}

void lab_usage(struct run *r)
{
	printf("Usage: %s [--instance NAME] [--shared DIR] [--part K/N --peers LIST] COMMAND\n\n"
	       "The lab '%s', a network of User Mode Linux machines; no root needed.\n\n"
	       "Commands:\n"
	       "  start                 boot every machine (lab.dep's order), run the startup\n"
	       "                        scripts, return when all are done; they keep running\n"
	       "  status                machines, state and interfaces\n"
	       "  connect MACHINE       this terminal on MACHINE's console (Ctrl-] detaches)\n"
	       "  exec MACHINE -- CMD [ARG...]\n"
	       "                        run CMD on MACHINE: its stdin, stdout, stderr, exit status\n"
	       "  test [--signature DIR]\n"
	       "                        run each MACHINE.test on MACHINE (starting the lab if\n"
	       "                        needed, and stopping it after); TAP; 1 if one fails.\n"
	       "                        --signature DIR: also each machine's addresses, routes\n"
	       "                        and listening ports, saved in DIR the first time and\n"
	       "                        compared with it later (the differences as TAP)\n"
	       "  stop                  power every machine off, remove every run file\n"
	       "  kube --parts N [--image REF] [--port PORT]\n"
	       "                        print Kubernetes manifests running the lab as N\n"
	       "                        unprivileged pods (kubectl apply -f, podman kube play)\n"
	       "  oci [--busybox PATH]  write an OCI image of this bundle to stdout (podman\n"
	       "                        load, docker load, ctr import)\n\n"
	       "Without a command, on a terminal: start, then offer the consoles.\n"
	       "--instance NAME runs another copy of the lab beside this one (default: default).\n"
	       "--shared DIR (start, test): /shared on every machine is DIR, read-write, seeded\n"
	       "with the lab's shared/ and kept after stop (default: a copy per instance,\n"
	       "removed at stop).\n"
	       "--part K/N (start, test): run part K of the lab's N parts, one a host: the\n"
	       "machines lab.conf's NAME[part]=K names, and every Nth of the others;\n"
	       "collision domains cross parts over UDP. --peers HOST[:PORT],... gives every\n"
	       "part's address in order, this one's too (port %d, UDP and TCP); every part\n"
	       "needs the same UMLKIT_LAB_SECRET. exec, connect, status and stop then\n"
	       "reach every part's machines from any part.\n"
	       "--wait (start): stay until the lab is stopped (SIGTERM stops this part).\n"
	       "Exit status: the command's (exec), 0 done, 1 a startup script or test failed,\n"
	       "%d bad usage or not running, %d the host cannot run it, %d a machine stopped.\n",
	       r->prog, r->conf.lab, LAB_DEFAULT_PORT, EX_USAGE, EX_HOST, EX_CRASH);
}

/* Without a command on a terminal: start, then a console at a time. */
static int lab_interactive(struct run *r, const char *inst)
{
	struct lab *lab;
	char line[64];
	static const struct lab_parts whole;
	int code = any_alive(inst) ? 0 : lab_start(r, inst, NULL, &whole, 0);
	if (code == EX_USAGE || code == EX_CORRUPT || code == EX_HOST)
		return code;
	lab = lab_load(r, inst);
	if (!lab)
		return EX_CORRUPT;
	for (;;) {
		printf("\nConsoles:");
		for (int i = 0; i < lab->n_machines; i++)
			printf(" %s", lab->machines[i].name);
		printf("\nName a machine, 'q' to stop the lab, 'd' to leave it running: ");
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin) || !strncmp(line, "d", 1))
			return 0;
		line[strcspn(line, "\n")] = '\0';
		if (!strcmp(line, "q"))
			return lab_stop(r, inst);
		if (lab_find(lab, line))
			lab_connect(r, inst, line);
	}
}

/* kube --parts N [--image REF] [--port PORT], checked */
static int kube_command(struct run *r, const char *parts_text, const char *image, const char *port_text)
{
	char *end;
	long n = parts_text ? strtol(parts_text, &end, 10) : 0;
	long port = port_text ? strtol(port_text, &end, 10) : LAB_DEFAULT_PORT;
	if (!parts_text || !*parts_text || *end || n < 1 || n > LAB_MAX_PARTS ||
	    strspn(parts_text, "0123456789") != strlen(parts_text)) {
		say(r->prog, "kube: give --parts N, the number of pods (1 to %d)", LAB_MAX_PARTS);
		return EX_USAGE;
	}
	if (port_text && (!*port_text || strspn(port_text, "0123456789") != strlen(port_text) || port < 1 ||
			  port > 65535)) {
		say(r->prog, "--port '%s': a port number from 1 to 65535", port_text);
		return EX_USAGE;
	}
	if (image && (!*image || strspn(image, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/:@") !=
			   strlen(image))) {
		say(r->prog, "--image '%s': an image reference such as registry.example/lab:1", image);
		return EX_USAGE;
	}
	return lab_kube(r, (int)n, image ? image : lab_image_ref(r), (unsigned)port);
}

static volatile sig_atomic_t terminated;

static void on_terminate(int sig)
{
	(void)sig;
	terminated = 1;
}

/* start --wait: until the lab is stopped (by stop, from any part: its
 * files go last, so a stop run beside this one in a container ends before
 * the container does); SIGTERM or SIGINT stops this part (a pod being
 * deleted). A part whose processes all ended without a stop is cleaned up
 * after STOP_SECONDS. */
static int wait_until_stopped(struct run *r, const char *inst, int code)
{
	int idle = 0;
	signal(SIGTERM, on_terminate);
	signal(SIGINT, on_terminate);
	while (!terminated && access(inst, F_OK) == 0 && idle < STOP_SECONDS) {
		sleep(1);
		idle = any_alive(inst) ? 0 : idle + 1;
		/* in a container this is PID 1: the detached processes end as its children */
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	}
	if (access(inst, F_OK) == 0)
		lab_stop_here(r, inst);
	else
		sleep(1);	/* the stop that removed them, time to end */
	return code;
}

int lab_main(struct run *r, int argc, char **argv)
{
	const char *instance = "default", *cmd = NULL, *shared = NULL, *signature = NULL, *peers = NULL;
	const char *image = NULL, *busybox = NULL, *kube_parts = NULL, *port_text = NULL;
	char *inst, **rest = NULL, err[256];
	int n_rest = 0, wait_stopped = 0;
	static struct lab_parts parts;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			rest = argv + i + 1;
			break;
		}
		if (!strcmp(argv[i], "--instance") && i + 1 < argc) {
			instance = argv[++i];
			if (!lab_valid_name(instance)) {
				say(r->prog, "--instance '%s': a name of letters, digits, '_', '-' and '.'", instance);
				return EX_USAGE;
			}
		} else if (!strcmp(argv[i], "--shared") && i + 1 < argc) {
			shared = argv[++i];
		} else if (!strcmp(argv[i], "--signature") && i + 1 < argc) {
			signature = argv[++i];
		} else if (!strcmp(argv[i], "--part") && i + 1 < argc) {
			if (lab_parse_part(argv[++i], &parts, err, sizeof(err)) < 0)
				return usage_error(r->prog, "--part '%s': %s", argv[i], err), EX_USAGE;
		} else if (!strcmp(argv[i], "--peers") && i + 1 < argc) {
			peers = argv[++i];
		} else if (!strcmp(argv[i], "--parts") && i + 1 < argc) {
			kube_parts = argv[++i];
		} else if (!strcmp(argv[i], "--image") && i + 1 < argc) {
			image = argv[++i];
		} else if (!strcmp(argv[i], "--port") && i + 1 < argc) {
			port_text = argv[++i];
		} else if (!strcmp(argv[i], "--busybox") && i + 1 < argc) {
			busybox = argv[++i];
		} else if (!strcmp(argv[i], "--wait")) {
			wait_stopped = 1;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			lab_usage(r);
			return 0;
		} else if (!cmd) {
			cmd = argv[i];
		} else if (n_rest < 1) {
			argv[n_rest++] = argv[i];	/* the machine */
		} else {
			say(r->prog, "'%s': one machine at a time (see --help)", argv[i]);
			return EX_USAGE;
		}
	}
	if ((kube_parts || image || port_text) && (!cmd || strcmp(cmd, "kube"))) {
		say(r->prog, "--parts, --image and --port are for kube (see --help)");
		return EX_USAGE;
	}
	if (busybox && (!cmd || strcmp(cmd, "oci"))) {
		say(r->prog, "--busybox is for oci (see --help)");
		return EX_USAGE;
	}
	if (cmd && (!strcmp(cmd, "oci") || !strcmp(cmd, "kube")) && (shared || parts.n || peers || signature ||
								     wait_stopped || n_rest)) {
		say(r->prog, "%s takes none of a machine, --shared, --part, --peers, --signature or --wait (see --help)",
		    cmd);
		return EX_USAGE;
	}
	if (cmd && !strcmp(cmd, "oci"))
		return lab_oci(r, busybox);
	if (cmd && !strcmp(cmd, "kube"))
		return kube_command(r, kube_parts, image, port_text);
	inst = instance_dir(r, instance);
	signal(SIGPIPE, SIG_IGN);	/* a machine that went is an error, not a signal */
	if (!cmd) {
		if (isatty(0) && isatty(1))
			return lab_interactive(r, inst);
		say(r->prog, "no command: start, status, connect, exec, test, stop, kube or oci (see --help)");
		return EX_USAGE;
	}
	if (shared && strcmp(cmd, "start") && strcmp(cmd, "test")) {
		say(r->prog, "--shared is for start and test (see --help)");
		return EX_USAGE;
	}
	if ((parts.n || peers) && strcmp(cmd, "start") && strcmp(cmd, "test")) {
		say(r->prog, "--part and --peers are for start and test: the other commands find the parts "
		    "themselves (see --help)");
		return EX_USAGE;
	}
	if (parts.n && parts.n > 1 && !peers) {
		say(r->prog, "--part %d/%d: give every part's address with --peers HOST[:PORT],... (see --help)",
		    parts.part, parts.n);
		return EX_USAGE;
	}
	if (peers && !parts.n) {
		say(r->prog, "--peers: give --part K/N too (see --help)");
		return EX_USAGE;
	}
	if (peers && lab_parse_peers(peers, &parts, err, sizeof(err)) < 0) {
		say(r->prog, "--peers %s", err);
		return EX_USAGE;
	}
	if (parts.n == 1)
		parts.n = 0;	/* one part of one: the whole lab, here */
	if (wait_stopped && strcmp(cmd, "start")) {
		say(r->prog, "--wait is for start (see --help)");
		return EX_USAGE;
	}
	if (signature && strcmp(cmd, "test")) {
		say(r->prog, "--signature is for test (see --help)");
		return EX_USAGE;
	}
	if (!strcmp(cmd, "start")) {
		int code = lab_start(r, inst, shared, &parts, 0);
		return wait_stopped && (!code || code == 1) ? wait_until_stopped(r, inst, code) : code;
	}
	if (!strcmp(cmd, "stop"))
		return lab_stop(r, inst);
	if (!strcmp(cmd, "status"))
		return lab_status(r, inst);
	if (!strcmp(cmd, "test"))
		return lab_test(r, inst, shared, &parts, signature);
	if (!strcmp(cmd, "connect") || !strcmp(cmd, "exec")) {
		struct lab *lab;
		if (!n_rest) {
			say(r->prog, "%s: name a machine (see --help)", cmd);
			return EX_USAGE;
		}
		if (access(inst, F_OK) < 0 || !(lab = lab_load(r, inst)) || !lab_find(lab, argv[0])) {
			say(r->prog, "%s: no machine '%s' in a running lab (boot.sh status)", cmd, argv[0]);
			return EX_USAGE;
		}
		if (!strcmp(cmd, "connect"))
			return lab_connect(r, inst, argv[0]);
		if (!rest || !*rest) {
			say(r->prog, "exec: give the command after -- (boot.sh exec %s -- CMD)", argv[0]);
			return EX_USAGE;
		}
		return lab_exec(r, inst, argv[0], rest, 0, 1, 2);
	}
	say(r->prog, "unknown command '%s': start, status, connect, exec, test, stop, kube or oci (see --help)", cmd);
	return EX_USAGE;
}
