/* One lab machine's supervisor (docs/lab.md): started detached by
 * `boot.sh start`, it boots machine NAME of the lab in INSTANCE and serves
 * its control socket INSTANCE/NAME.sock until the machine stops:
 *   exec      frames (boot/agent-proto.h) relayed to and from the agent in
 *             the guest, under a session number of the machine's;
 *   connect   the console: what it printed lately, then both ways, raw;
 *   stop      the machine is killed, the supervisor cleans up and ends.
 * Its state is in INSTANCE/NAME.state ("booting", "up STATUS" once the
 * startup scripts ran, "stopped"); INSTANCE/NAME.lock is locked while it
 * lives. */
#define _GNU_SOURCE
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
#include <time.h>
#include <unistd.h>

#include "../agent-proto.h"
#include "lab.h"
#include "run.h"

#define MAX_CLIENTS 64
/* An agent that has not acknowledged what it was sent by then is taken for
 * gone (killed in the guest, its line taken, never started): the commands
 * waiting on it fail with the reason, and status says "agent-lost". One
 * that answers later (a guest too busy) is taken back. */
#define AGENT_ANSWER_MS 10000
#define AGENT_PING_MS 10000

enum client_kind { CLIENT_NEW, CLIENT_EXEC, CLIENT_CONSOLE, CLIENT_STOP };

struct client {
	int fd, kind, session;
	unsigned char buf[AGENT_HEADER + AGENT_MAX_PAYLOAD];
	size_t len;
};

struct machine {
	struct run *r;
	const char *instance, *name;
	int console, agent, listen_fd, status_fd, lock_fd;
	pid_t guard;
	int up, stopping;
	char up_state[32];	/* "up STATUS\n", once the startup scripts ran */
	struct client clients[MAX_CLIENTS];
	int n_clients;
	struct agent_link link;
	size_t in_flight;	/* bytes sent to the agent, not yet acknowledged */
	long long answer_due;	/* ms: the agent owes an ACK by then (0: nothing owed) */
	long long next_ping;	/* ms */
	const char *lost;	/* why the agent is taken for gone, or NULL */
	unsigned char busy[256];	/* session numbers not yet CLOSED by the agent */
	int last_session;
	struct ring history;	/* the console's last output, for connect */
	struct relay console_out;	/* the console's output, tapped for history and clients */
};

static void set_state(struct machine *m, const char *state)
{
	char *path = xasprintf("%s/%s.state", m->instance, m->name);
	if (write_file(path, state, strlen(state)) < 0)
		say(m->r->prog, "cannot write %s: %s", path, strerror(errno));
	free(path);
}

/* FRAME to the agent; counted against the window, and owed an answer */
static int agent_send(struct machine *m, const unsigned char *frame, size_t len)
{
	if (m->agent < 0 || m->link.broken)
		return -1;
	m->in_flight += len;
	if (!m->answer_due)
		m->answer_due = now_ms() + AGENT_ANSWER_MS;
	return agent_write_all(m->agent, frame, len);
}

/* Session ID is over for the host: the agent ends its command and
 * confirms (CLOSED) before the number is given again. */
static void close_session(struct machine *m, int id)
{
	unsigned char frame[AGENT_HEADER];
	agent_header(frame, AGENT_CLOSE, id, 0);
	agent_send(m, frame, sizeof(frame));
}

static void drop_client(struct machine *m, int i)
{
	struct client *c = &m->clients[i];
	if (c->kind == CLIENT_EXEC && c->session > 0)
		close_session(m, c->session);
	close(c->fd);
	m->clients[i] = m->clients[--m->n_clients];
}

/* An exec client told why its command cannot be served, then dropped. */
static void fail_client(struct machine *m, int i, const char *why)
{
	struct client *c = &m->clients[i];
	unsigned char h[AGENT_HEADER];
	size_t len = strlen(why);
	agent_header(h, AGENT_FAIL, 0, len);
	if (agent_write_all(c->fd, h, sizeof(h)) == 0)
		agent_write_all(c->fd, why, len);
	drop_client(m, i);
}

static void agent_lost(struct machine *m, const char *why)
{
	if (!m->lost) {
		char *state = xasprintf("agent-lost %s\n", why);
		say(m->r->prog, "%s: %s", m->name, why);
		set_state(m, state);
		free(state);
	}
	m->lost = why;
	m->answer_due = 0;
	for (int i = m->n_clients - 1; i >= 0; i--)
		if (m->clients[i].kind == CLIENT_EXEC)
			fail_client(m, i, why);
}

static int free_session(struct machine *m)
{
	for (int k = 0; k < 255; k++) {
		int id = (m->last_session + k) % 255 + 1;
		if (!m->busy[id]) {
			m->busy[id] = 1;
			m->last_session = id;
			return id;
		}
	}
	return -1;
}

/* A whole frame from client I; 0 to keep it, -1 to drop it. */
static int client_frame(struct machine *m, int i, unsigned char *frame, size_t len)
{
	struct client *c = &m->clients[i];
	if (c->kind == CLIENT_NEW) {
		if (frame[0] == 'C') {
			c->kind = CLIENT_CONSOLE;
			return agent_write_all(c->fd, m->history.buf, m->history.len);
		}
		if (frame[0] == 'S') {
			c->kind = CLIENT_STOP;
			m->stopping = 1;
			kill(m->guard, SIGTERM);
			return 0;
		}
		if (frame[0] != AGENT_EXEC || !m->up)
			return -1;
		if (m->lost) {
			c->kind = CLIENT_EXEC;	/* told why, below */
			c->session = 0;
			return -1;
		}
		if ((c->session = free_session(m)) < 0)
			return -1;
		c->kind = CLIENT_EXEC;
	}
	if (c->kind != CLIENT_EXEC || (frame[0] != AGENT_EXEC && frame[0] != AGENT_STDIN &&
				       frame[0] != AGENT_STDIN_EOF && frame[0] != AGENT_KILL))
		return -1;
	frame[1] = (unsigned char)c->session;
	return agent_send(m, frame, len);
}

/* May client C's next frame go to the agent now? */
static int fits(const struct machine *m, const struct client *c)
{
	size_t len = AGENT_HEADER + agent_length(c->buf);
	if (m->lost)
		return 1;	/* refused at once, with the reason */
	return c->kind == CLIENT_NEW && c->buf[0] != AGENT_EXEC ? 1 : m->in_flight + len <= AGENT_WINDOW;
}

/* The whole frames client I has sent, as far as the window allows. */
static int client_pump(struct machine *m, int i)
{
	struct client *c = &m->clients[i];
	while (c->kind != CLIENT_CONSOLE && c->len >= AGENT_HEADER && c->len >= AGENT_HEADER + agent_length(c->buf)) {
		size_t len = AGENT_HEADER + agent_length(c->buf);
		if (agent_length(c->buf) > AGENT_MAX_ARGV)
			return -1;
		if (!fits(m, c))
			return 0;
		if (client_frame(m, i, c->buf, len) < 0)
			return -1;
		c->len -= len;
		memmove(c->buf, c->buf + len, c->len);
		if (c->kind == CLIENT_CONSOLE && c->len) {
			/* keystrokes sent right after the request */
			if (agent_write_all(m->console, c->buf, c->len) < 0)
				return -1;
			c->len = 0;
		}
	}
	return 0;
}

static int client_read(struct machine *m, int i)
{
	struct client *c = &m->clients[i];
	ssize_t n;
	if (c->kind == CLIENT_CONSOLE) {
		char buf[4096];
		n = read(c->fd, buf, sizeof(buf));
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0)
			return -1;
		return agent_write_all(m->console, buf, (size_t)n) < 0 && errno != EIO ? -1 : 0;
	}
	n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return -1;
	c->len += (size_t)n;
	return client_pump(m, i);
}

/* One frame from the agent: an ACK, a CLOSED, or a session's output or
 * EXIT for its client (dropped when the session has none any more). */
static void agent_frame(void *ctx, int type, int session, const unsigned char *payload, size_t len)
{
	struct machine *m = ctx;
	if (m->lost && m->up) {
		say(m->r->prog, "%s: the agent answers again", m->name);
		set_state(m, m->up_state);
	}
	m->lost = NULL;
	if (type == AGENT_ACK && len == 4) {
		size_t acked = (size_t)payload[0] << 24 | (size_t)payload[1] << 16 | (size_t)payload[2] << 8 | payload[3];
		m->in_flight = acked > m->in_flight ? 0 : m->in_flight - acked;
		m->answer_due = m->in_flight ? now_ms() + AGENT_ANSWER_MS : 0;
		return;
	}
	if (type == AGENT_CLOSED) {
		for (int i = 0; i < m->n_clients; i++)
			if (m->clients[i].kind == CLIENT_EXEC && m->clients[i].session == session)
				return;	/* forged: that session still has its client */
		m->busy[session & 0xff] = 0;
		return;
	}
	if (type != AGENT_STDOUT && type != AGENT_STDERR && (type != AGENT_EXIT || len != 1))
		return;
	for (int i = 0; i < m->n_clients; i++) {
		struct client *c = &m->clients[i];
		unsigned char h[AGENT_HEADER];
		if (c->kind != CLIENT_EXEC || c->session != session)
			continue;
		agent_header(h, type, session, len);
		if (agent_write_all(c->fd, h, sizeof(h)) < 0 || agent_write_all(c->fd, payload, len) < 0 ||
		    type == AGENT_EXIT)
			drop_client(m, i);
		break;
	}
}

static void agent_read(struct machine *m)
{
	unsigned char buf[4096];
	ssize_t n = read(m->agent, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		say(m->r->prog, "%s: the agent's line: %s", m->name, n ? strerror(errno) : "end of file");
		close(m->agent);
		m->agent = -1;
		agent_lost(m, "the agent's line closed");
		return;
	}
	if (agent_link_feed(&m->link, buf, (size_t)n, agent_frame, m) < 0)
		agent_lost(m, "the agent broke the protocol (a frame over 4 KiB): exec is off until the machine restarts");
}

/* The agent's deadlines: an answer owed, and the idle ping that lets
 * status tell a live agent from a gone one. */
static void agent_timers(struct machine *m)
{
	long long now = now_ms();
	if (m->answer_due && now >= m->answer_due)
		agent_lost(m, "the agent in the guest does not answer (killed, or its line taken?)");
	if (m->up && m->agent >= 0 && !m->link.broken && !m->answer_due && now >= m->next_ping) {
		unsigned char ping[AGENT_HEADER];
		agent_header(ping, AGENT_PING, 0, 0);
		agent_send(m, ping, sizeof(ping));
		m->next_ping = now + AGENT_PING_MS;
	}
}

static int agent_poll_ms(const struct machine *m)
{
	long long next = m->up ? m->next_ping : 0, now = now_ms();
	if (m->answer_due && (!next || m->answer_due < next))
		next = m->answer_due;
	if (!m->up)
		return 200;
	return next <= now ? 0 : (int)(next - now);
}

/* the console's output: kept for connect, and given to connected clients
 * (one too slow to take it misses it, as on a serial line) */
static void console_tap(void *ctx, const char *data, size_t n)
{
	struct machine *m = ctx;
	ring_add(&m->history, data, n);
	for (int i = 0; i < m->n_clients; i++)
		if (m->clients[i].kind == CLIENT_CONSOLE)
			send(m->clients[i].fd, data, n, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* A machine that stopped without boot.sh stop (powered off, crashed):
 * why, and the end of its console, in NAME.log */
static void say_stopped(const struct machine *m, const struct guard_report *report)
{
	int ws = report->wait_status;
	size_t start = m->history.len > 2048 ? m->history.len - 2048 : 0;
	if (ws >= 0 && WIFSIGNALED(ws))
		say(m->r->prog, "%s stopped by itself: the kernel was killed by signal %d", m->name, WTERMSIG(ws));
	else
		say(m->r->prog, "%s stopped by itself (the kernel exited %d); the end of its console:", m->name,
		    ws >= 0 ? WEXITSTATUS(ws) : -1);
	if (write(2, m->history.buf + start, m->history.len - start) < 0)
		return;
}

static void check_startup(struct machine *m)
{
	char *path = xasprintf("%s/startup", m->r->dir), *code = read_file_nofollow(path, GUEST_FILE_MAX, NULL);
	free(path);
	if (!code)
		return;
	m->up = 1;
	m->next_ping = now_ms() + AGENT_PING_MS;
	snprintf(m->up_state, sizeof(m->up_state), "up %d\n", atoi(code));
	free(code);
	if (!m->lost)
		set_state(m, m->up_state);
}

static void serve(struct machine *m)
{
	for (;;) {
		struct pollfd pfd[4 + MAX_CLIENTS];
		int n = 0;
		pfd[n++] = (struct pollfd){ m->status_fd, POLLIN, 0 };
		if (!relay_poll(&m->console_out, &pfd[n++]))
			pfd[n - 1] = (struct pollfd){ -1, 0, 0 };	/* the console ended */
		pfd[n++] = (struct pollfd){ m->agent, POLLIN, 0 };
		pfd[n++] = (struct pollfd){ m->listen_fd, POLLIN, 0 };
		for (int i = 0; i < m->n_clients; i++)
			pfd[n++] = (struct pollfd){ m->clients[i].fd,
						    m->clients[i].len < sizeof(m->clients[i].buf) ? POLLIN : 0, 0 };
		if (poll(pfd, (nfds_t)n, agent_poll_ms(m)) < 0 && errno != EINTR)
			return;
		if (pfd[0].revents)
			return;	/* the guard reported: the machine has stopped */
		if (pfd[1].revents)
			relay_read(&m->console_out);
		if (m->agent >= 0 && pfd[2].revents) {
			agent_read(m);
			/* acknowledged room: frames clients sent meanwhile */
			for (int i = m->n_clients - 1; i >= 0; i--)
				if (client_pump(m, i) < 0)
					drop_client(m, i);
		}
		if (pfd[3].revents & POLLIN && m->n_clients < MAX_CLIENTS) {
			/* non-blocking: a client's poll entry may be stale after another's drop */
			int fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
			if (fd >= 0)
				m->clients[m->n_clients++] = (struct client){ .fd = fd };
		}
		for (int i = n - 1; i >= 4; i--) {
			struct client *c = &m->clients[i - 4];
			if (i - 4 >= m->n_clients || !pfd[i].revents || client_read(m, i - 4) >= 0)
				continue;
			if (c->kind == CLIENT_EXEC && m->lost)
				fail_client(m, i - 4, m->lost);
			else
				drop_client(m, i - 4);
		}
		if (!m->up)
			check_startup(m);
		agent_timers(m);
	}
}

static int listen_on(struct machine *m)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *path = xasprintf("%s/%s.sock", m->instance, m->name);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (strlen(path) >= sizeof(sa.sun_path)) {
		say(m->r->prog, "the lab's socket path %s is too long", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
		say(m->r->prog, "cannot listen on %s: %s", path, strerror(errno));
		return -1;
	}
	free(path);
	return fd;
}

/* /shared: the directory boot.sh start --shared named (INSTANCE/shared-dir),
 * else the lab's own shared/, a copy per instance */
static char *shared_dir(const char *instance)
{
	char *path = xasprintf("%s/shared-dir", instance), *dir = read_file_nofollow(path, 4096, NULL);
	free(path);
	if (dir && *dir && dir[0] == '/' && !strchr(dir, '\n'))
		return dir;
	free(dir);
	return xasprintf("%s/lab/shared", instance);
}

/* run file NAME: LINES, one a line */
static int write_lines(const struct run *r, const char *name, const char *const *lines, int n)
{
	char *text = xstrdup(""), *path = xasprintf("%s/%s", r->dir, name);
	int rc;
	for (int i = 0; i < n; i++) {
		char *more = xasprintf("%s%s\n", text, lines[i]);
		free(text);
		text = more;
	}
	rc = write_file(path, text, strlen(text));
	free(path);
	free(text);
	return rc;
}

/* the guest's files: mode, shares (/hostlab, /shared), env, and sysctl:
 * IPv6 off (Kathara's default) or on and forwarding, as Kathara sets it,
 * then NAME[sysctl]'s in order */
static int guest_files(struct machine *m, const struct lab_machine *lm)
{
	const char *env[LAB_MAX_ENV], *sysctl[LAB_MAX_SYSCTLS + 3];
	const char *shares[] = { "/s0\t/hostlab\tro", "/s1\t/shared\trw" };
	char *lab_mode = xasprintf("lab %s", m->name);
	int rc, n = 0;
	for (int i = 0; i < lm->n_env; i++)
		env[i] = lm->env[i];
	sysctl[n++] = lm->ipv6 > 0 ? "net.ipv6.conf.all.disable_ipv6=0" : "net.ipv6.conf.all.disable_ipv6=1";
	sysctl[n++] = lm->ipv6 > 0 ? "net.ipv6.conf.default.disable_ipv6=0" : "net.ipv6.conf.default.disable_ipv6=1";
	if (lm->ipv6 > 0)
		sysctl[n++] = "net.ipv6.conf.all.forwarding=1";	/* Kathara's too: hosts take RAs with accept_ra=2 */
	for (int i = 0; i < lm->n_sysctls; i++)
		sysctl[n++] = lm->sysctls[i];
	rc = write_lines(m->r, "mode", (const char *const[]){ lab_mode }, 1);
	rc |= write_lines(m->r, "shares", shares, 2);
	rc |= write_lines(m->r, "env", env, lm->n_env);
	rc |= write_lines(m->r, "sysctl", sysctl, n);
	free(lab_mode);
	return rc;
}

static void plan_network(struct machine *m, const struct lab_machine *lm)
{
	struct net *net = &m->r->net;
	net->nat_pid = -1;
	for (int i = 0; i < lm->n_ifs; i++) {
		net_add_if(net, NETIF_SWITCH, xasprintf("%s.%s", lab_switch_prefix(m->instance), lm->domains[i]),
			   NULL);
		net->ifs[i].mtu = LAB_MTU;
		if (lm->has_mac[i])
			memcpy(net->ifs[i].mac, lm->macs[i], 6);
	}
	if (lm->bridged) {
		net_add_if(net, NETIF_NAT, NULL, "10.0.2.15/24");
		for (int i = 0; i < lm->n_ports; i++)
			net->forwards[net->n_forwards++] = xstrdup(lm->ports[i]);
	}
}

/* The bundled image file of image NAME (bundle.conf's lab_images
 * "NAME=FILE ..."), or NULL */
static char *image_file(const struct run *r, const char *name)
{
	char *list = xstrdup(r->conf.lab_images), *words[64], *file = NULL;
	int n = split_words(list, words, 64);
	for (int i = 0; i < n && !file && *name; i++) {
		char *eq = strchr(words[i], '=');
		if (eq && (size_t)(eq - words[i]) == strlen(name) && !strncmp(words[i], name, strlen(name)))
			file = xstrdup(eq + 1);
	}
	free(list);
	return file;
}

/* The machine's root: its image's file; an image with no recipe runs the
 * default image (LAB_DEFAULT_IMAGE) if there is one, else the configured
 * root, as the build noted */
static void pick_image(struct run *r, const struct lab_machine *lm)
{
	char *file = image_file(r, lm->image), *root;
	if (!file)
		file = image_file(r, r->conf.lab_default_image);
	if (!file)
		return;
	if (*r->conf.initrd) {
		r->conf.initrd = file;
	} else {
		/* the first disk is the root */
		root = r->conf.disks + strspn(r->conf.disks, " ");
		r->conf.disks = xasprintf("%s%s", file, root + strcspn(root, " "));
	}
}

/* umlkit-run BUNDLE ENTRY --lab-machine INSTANCE NAME (detached by
 * lab_start); its stdout and stderr are INSTANCE/NAME.log. */
int lab_machine(struct run *r, const char *instance, const char *name)
{
	static struct machine m;
	struct lab *lab = lab_load(r, instance);
	const struct lab_machine *lm;
	int pair[2], st[2], child_fds[4 + MAX_NETIFS], n_child = 0, n_words = 0, code, status, slave;
	char *words[4 + MAX_NETIFS], *lock, **argv;
	struct guard_report report;

	if (!lab || !(lm = lab_find(lab, name)))
		return EX_USAGE;
	signal(SIGPIPE, SIG_IGN);	/* a client that went is seen as such */
	m.r = r;
	m.instance = instance;
	m.name = name;
	lock = xasprintf("%s/%s.lock", instance, name);
	m.lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (m.lock_fd < 0 || flock(m.lock_fd, LOCK_EX | LOCK_NB) < 0) {
		say(r->prog, "%s: already running", name);
		return EX_USAGE;
	}
	set_state(&m, "booting\n");
	{
		char *pid = xasprintf("%s/%s.pid", instance, name), *text = xasprintf("%d\n", (int)getpid());
		write_file(pid, text, strlen(text));
		free(pid);
		free(text);
	}
	r->command_mode = 0;
	r->opt.guard.cpu = CPU_AUTO;
	if (lm->mem_mib)
		r->opt.mem = (unsigned long long)lm->mem_mib << 20;
	r->opt.shares[0] = (struct share){ xasprintf("%s/lab", instance), "/hostlab", 0 };
	r->opt.shares[1] = (struct share){ shared_dir(instance), "/shared", 1 };
	mkdir(r->opt.shares[1].host, 0755);
	r->opt.n_shares = 2;
	plan_network(&m, lm);
	pick_image(r, lm);
	rundir_pick_tmpbase(r);
	cache_sweep_runs(r->tmpbase);
	rundir_create(r);
	code = rundir_prepare(r);
	if (!code && (guest_files(&m, lm) < 0 || setenv("TMPDIR", r->tmpbase, 1) < 0))
		code = EX_HOST;
	rundir_default_disk_limit(r);
	if (code)
		goto out;
	if ((m.listen_fd = listen_on(&m)) < 0 || pty_open(&m.console, &slave) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0 || pipe2(st, O_CLOEXEC) < 0) {
		code = EX_HOST;
		goto out;
	}
	/* child_fds[0] is UML's log: this process's stderr, NAME.log */
	child_fds[n_child++] = 2;
	child_fds[n_child++] = slave;	/* the console */
	child_fds[n_child++] = pair[1];	/* the agent's line, AGENT_TTY in the guest */
	words[n_words++] = xasprintf("con0=fd:%d,fd:%d", slave, slave);
	words[n_words++] = xasprintf("con%d=fd:%d,fd:%d", AGENT_CONSOLE_LINE, pair[1], pair[1]);
	code = net_up(r, 2, child_fds, &n_child, words, &n_words);
	if (code)
		goto out;
	argv = rundir_uml_argv(r, words, n_words);
	m.guard = guard_start(r, argv, child_fds, n_child, st[1], NULL, -1);
	for (int i = 1; i < n_child; i++)
		close(child_fds[i]);
	close(st[1]);
	m.agent = pair[0];
	m.status_fd = st[0];
	fcntl(m.console, F_SETFL, O_NONBLOCK);
	relay_init(&m.console_out, m.console, -1, 0);
	m.console_out.tap = console_tap;
	m.console_out.tap_ctx = &m;
	serve(&m);
	kill(m.guard, SIGTERM);
	while (read(st[0], &report, sizeof(report)) < 0 && errno == EINTR)
		;
	while (waitpid(m.guard, &status, 0) < 0 && errno == EINTR)
		;
	if (!m.stopping)
		say_stopped(&m, &report);
	net_down(r);
	while (m.n_clients)
		drop_client(&m, m.n_clients - 1);
out:
	set_state(&m, "stopped\n");
	lock = xasprintf("%s/%s.sock", instance, name);
	unlink(lock);
	remove_tree(r->dir);
	return code;
}
